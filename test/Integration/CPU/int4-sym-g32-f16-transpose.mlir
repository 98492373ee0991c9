// int4 symmetric group 32 with compute-type f16 (activations and dequantized weights rounded to f16), weight through linalg.transpose, K = 96.
// RUN: %python %reference/qref.py gen --seed 6 --m 2 --k 96 --h 64 --n 24 --form transpose > %t.mlir
// RUN: quant-opt %t.mlir --qnt-quantize-linear="scheme=int4 group-size=32 compute-type=f16" --qnt-cpu-pipeline \
// RUN:   | mlir-runner -e main -entry-point-result=void %mlir_runner_libs \
// RUN:   | %python %reference/qref.py check --int-dot %int_dot --seed 6 --m 2 --k 96 --h 64 --n 24 --form transpose --scheme int4 --group-size 32 --compute-type f16
