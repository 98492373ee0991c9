// Checks, bit for bit against the numpy reference, the codes, scales, zero
// points and double-quant pieces that --qnt-quantize-linear stores in the IR:
// fp4 group 32 (+0/-0 codes on a zero row) and fp4 + double quant with 2048 absmax values.
// RUN: rm -rf %t && mkdir -p %t
// RUN: %python %reference/qref.py gen --seed 38 --m 1 --k 96 --h 64 --n 17 --form matmul-tb --edge > %t/m7.mlir
// RUN: quant-opt %t/m7.mlir --qnt-quantize-linear="scheme=fp4 group-size=32" \
// RUN:   | %python %reference/qref.py check-ir --seed 38 --m 1 --k 96 --h 64 --n 17 --form matmul-tb --edge --scheme fp4 --group-size 32
// RUN: %python %reference/qref.py gen --seed 39 --m 1 --k 256 --h 256 --n 24 --form generic --edge > %t/m8.mlir
// RUN: quant-opt %t/m8.mlir --qnt-quantize-linear="scheme=fp4 group-size=32 double-quant=true compute-type=f16" \
// RUN:   | %python %reference/qref.py check-ir --seed 39 --m 1 --k 256 --h 256 --n 24 --form generic --edge --scheme fp4 --group-size 32 --double-quant true --compute-type f16
