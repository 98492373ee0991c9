// fp4 + double quant on matmul-shaped linalg.generic ops; layer 1 has 128 x 4 = 512 absmax values (two 256-blocks), odd N = 33.
// RUN: %python %reference/qref.py gen --seed 13 --m 2 --k 256 --h 128 --n 33 --form generic > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=fp4 double-quant=true" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 13 --m 2 --k 256 --h 128 --n 33 --form generic --scheme fp4 --double-quant true
