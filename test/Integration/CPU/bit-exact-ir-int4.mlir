// Checks, bit for bit against the numpy reference, the codes, scales, zero
// points and double-quant pieces that --qnt-quantize-linear stores in the IR:
// int4 symmetric per-row with odd K = 97 (padding nibble), asymmetric group 32, and group 40 with bf16.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %reference/qref.py gen --seed 33 --m 1 --k 97 --h 31 --n 5 --form matmul-tb --edge > %t/m2.mlir
// RUN: quant-opt %t/m2.mlir --qnt-quantize-linear="scheme=int4 group-size=0" \
// RUN:   | %python %reference/qref.py check-ir --seed 33 --m 1 --k 97 --h 31 --n 5 --form matmul-tb --edge --scheme int4 --group-size 0
// RUN: %python %reference/qref.py gen --seed 34 --m 1 --k 96 --h 64 --n 17 --form generic --edge > %t/m3.mlir
// RUN: quant-opt %t/m3.mlir --qnt-quantize-linear="scheme=int4 symmetric=false group-size=32" \
// RUN:   | %python %reference/qref.py check-ir --seed 34 --m 1 --k 96 --h 64 --n 17 --form generic --edge --scheme int4 --symmetric false --group-size 32
// RUN: %python %reference/qref.py gen --seed 35 --m 1 --k 120 --h 200 --n 13 --form batch > %t/m4.mlir
// RUN: quant-opt %t/m4.mlir --qnt-quantize-linear="scheme=int4 group-size=40 compute-type=bf16" \
// RUN:   | %python %reference/qref.py check-ir --seed 35 --m 1 --k 120 --h 200 --n 13 --form batch --scheme int4 --group-size 40 --compute-type bf16
