// int8 symmetric with groups of 32 along K, compute-type f16, transposed-B linalg.matmul (indexing_maps read the weight as [N, K]).
// RUN: %python %reference/qref.py gen --seed 11 --m 3 --k 96 --h 64 --n 24 --form matmul-tb > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int8 group-size=32 compute-type=f16" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 11 --m 3 --k 96 --h 64 --n 24 --form matmul-tb --scheme int8 --group-size 32 --compute-type f16
