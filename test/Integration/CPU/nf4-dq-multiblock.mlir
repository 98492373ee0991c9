// nf4 + double quant where layer 1 has 192 x 5 = 960 absmax values: four 256-blocks, the last one partial; weight through linalg.transpose, edge-case weights (a zero group).
// RUN: %python %reference/qref.py gen --seed 8 --m 2 --k 320 --h 192 --n 24 --form transpose --edge > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=nf4 double-quant=true" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 8 --m 2 --k 320 --h 192 --n 24 --form transpose --edge --scheme nf4 --double-quant true
