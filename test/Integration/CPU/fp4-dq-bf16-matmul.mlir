// fp4 + double quant, group 32, compute-type bf16, 256 x 8 = 2048 absmax values in layer 1 (eight 256-blocks).
// RUN: %python %reference/qref.py gen --seed 14 --m 2 --k 256 --h 256 --n 24 --form matmul --bias none > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=fp4 group-size=32 double-quant=true compute-type=bf16" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 14 --m 2 --k 256 --h 256 --n 24 --form matmul --bias none --scheme fp4 --group-size 32 --double-quant true --compute-type bf16
