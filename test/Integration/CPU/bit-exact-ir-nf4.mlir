// Checks, bit for bit against the numpy reference, the codes, scales, zero
// points and double-quant pieces that --qnt-quantize-linear stores in the IR:
// nf4 group 64 and nf4 + double quant with 960 absmax values (four 256-blocks, the last partial).
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %reference/qref.py gen --seed 36 --m 1 --k 128 --h 64 --n 24 --form matmul --edge > %t/m5.mlir
// RUN: quant-opt %t/m5.mlir --qnt-quantize-linear="scheme=nf4" \
// RUN:   | %python %reference/qref.py check-ir --seed 36 --m 1 --k 128 --h 64 --n 24 --form matmul --edge --scheme nf4
// RUN: %python %reference/qref.py gen --seed 37 --m 1 --k 320 --h 192 --n 24 --form transpose --edge > %t/m6.mlir
// RUN: quant-opt %t/m6.mlir --qnt-quantize-linear="scheme=nf4 double-quant=true" \
// RUN:   | %python %reference/qref.py check-ir --seed 37 --m 1 --k 320 --h 192 --n 24 --form transpose --edge --scheme nf4 --double-quant true
