// nf4 group 64 with compute-type bf16 (activations and dequantized weights rounded to bf16, f32 accumulation), bias added after the matmul.
// RUN: %python %reference/qref.py gen --seed 9 --m 4 --k 128 --h 64 --n 16 --form matmul --bias add > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=nf4 compute-type=bf16" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 9 --m 4 --k 128 --h 64 --n 16 --form matmul --bias add --scheme nf4 --compute-type bf16
