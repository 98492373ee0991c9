// nf4 + double quant with matmul weights in [K, N] layout (256 absmax values in layer 1: exactly one 256-block).
// RUN: %python %reference/qref.py gen --seed 3 --m 3 --k 128 --h 128 --n 40 --form matmul > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=nf4 double-quant=true" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 3 --m 3 --k 128 --h 128 --n 40 --form matmul --scheme nf4 --double-quant true
