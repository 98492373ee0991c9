// int8 asymmetric with compute-type bf16 on a linalg.batch_matmul whose weight is a linalg.broadcast of a [K, N] constant.
// RUN: %python %reference/qref.py gen --seed 12 --m 2 --batch 3 --k 64 --h 96 --n 20 --form batch > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int8 symmetric=false compute-type=bf16" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 12 --m 2 --batch 3 --k 64 --h 96 --n 20 --form batch --scheme int8 --symmetric false --compute-type bf16
