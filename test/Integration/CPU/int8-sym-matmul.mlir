// int8 symmetric, one group per output channel (default group size), weight [K, N] in a linalg.matmul, bias as the broadcast matmul init.
// RUN: %python %reference/qref.py gen --seed 1 --m 4 --k 64 --h 48 --n 24 --form matmul > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int8" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 1 --m 4 --k 64 --h 48 --n 24 --form matmul --scheme int8
