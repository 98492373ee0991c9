// int4 asymmetric with group 40: K = 120 (three groups) and H = 200 (five groups) on linalg.batch_matmul, odd N = 17.
// RUN: %python %reference/qref.py gen --seed 5 --m 2 --batch 2 --k 120 --h 200 --n 17 --form batch > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=40" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 5 --m 2 --batch 2 --k 120 --h 200 --n 17 --form batch --scheme int4 --symmetric false --group-size 40
