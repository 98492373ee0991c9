// nf4 with the default group size 64 on linalg.batch_matmul (broadcast [K, N] weight), N = 40.
// RUN: %python %reference/qref.py gen --seed 7 --m 2 --batch 2 --k 128 --h 64 --n 40 --form batch > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=nf4" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 7 --m 2 --batch 2 --k 128 --h 64 --n 40 --form batch --scheme nf4
