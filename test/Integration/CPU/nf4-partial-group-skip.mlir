// nf4 group 64 with H = 96: 64 does not divide the K of layer 2, which the pass leaves in float (no partial groups); layer 1 is quantized.
// RUN: %python %reference/qref.py gen --seed 15 --m 2 --k 128 --h 96 --n 16 --form matmul > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=nf4" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 15 --m 2 --k 128 --h 96 --n 16 --form matmul --scheme nf4
