// fp4 group 64 on a transposed-B linalg.matmul, edge-case weights (zero row: +0/-0 codes), M = 1.
// RUN: %python %reference/qref.py gen --seed 10 --m 1 --k 64 --h 128 --n 24 --form matmul-tb --edge > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=fp4" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 10 --m 1 --k 64 --h 128 --n 24 --form matmul-tb --edge --scheme fp4
