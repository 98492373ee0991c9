// int4 symmetric group 32 with M = 1, K = 96 (three groups), odd N = 13, transposed-B linalg.matmul.
// RUN: %python %reference/qref.py gen --seed 3 --m 1 --k 96 --h 64 --n 13 --form matmul-tb > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int4 group-size=32" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 3 --m 1 --k 96 --h 64 --n 13 --form matmul-tb --scheme int4 --group-size 32
