// Checks, bit for bit against the numpy reference, the codes, scales, zero
// points and double-quant pieces that --qnt-quantize-linear stores in the IR:
// int8 symmetric (odd K = 97) and asymmetric group 32.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %reference/qref.py gen --seed 31 --m 1 --k 97 --h 48 --n 13 --form matmul --edge > %t/m0.mlir
// RUN: quant-opt %t/m0.mlir --qnt-quantize-linear="scheme=int8" \
// RUN:   | %python %reference/qref.py check-ir --seed 31 --m 1 --k 97 --h 48 --n 13 --form matmul --edge --scheme int8
// RUN: %python %reference/qref.py gen --seed 32 --m 1 --k 96 --h 64 --n 17 --form transpose --edge > %t/m1.mlir
// RUN: quant-opt %t/m1.mlir --qnt-quantize-linear="scheme=int8 symmetric=false group-size=32" \
// RUN:   | %python %reference/qref.py check-ir --seed 32 --m 1 --k 96 --h 64 --n 17 --form transpose --edge --scheme int8 --symmetric false --group-size 32
