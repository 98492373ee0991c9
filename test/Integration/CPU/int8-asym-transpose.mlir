// int8 asymmetric (range extended to 0, zero point), weight [N, K] through linalg.transpose, bias added after the matmul, odd N = 17, a zero row and a one-signed half row in W1, an outlier in W2.
// RUN: %python %reference/qref.py gen --seed 2 --m 2 --k 96 --h 80 --n 17 --form transpose --bias add --edge > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int8 symmetric=false" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 2 --m 2 --k 96 --h 80 --n 17 --form transpose --bias add --edge --scheme int8 --symmetric false
