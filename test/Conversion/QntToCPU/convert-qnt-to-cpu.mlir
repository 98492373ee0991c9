// RUN: quant-opt %s --convert-qnt-to-cpu="isa=avx512 int-dot=0" --split-input-file | FileCheck %s
// RUN: quant-opt %s --convert-qnt-to-cpu="isa=avx2 int-dot=0" --split-input-file | FileCheck %s --check-prefix=AVX2
// RUN: quant-opt %s --convert-qnt-to-cpu=isa=generic --split-input-file | FileCheck %s --check-prefix=GENERIC
// RUN: quant-opt %s --convert-qnt-to-cpu=isa=avx2 --split-input-file | FileCheck %s --check-prefix=INT
// RUN: quant-opt %s --convert-qnt-to-cpu=isa=dispatch --split-input-file | FileCheck %s --check-prefix=DISPATCH
// RUN: not quant-opt %s --convert-qnt-to-cpu=isa=sse9 --split-input-file 2>&1 | FileCheck %s --check-prefix=BADISA
// The AVX-512 GEMV (first case) compiles to 512-bit table lookups and FMAs;
// on the integer path to byte shuffles and 16-bit multiply-adds.
// RUN: sed -n '1,/^\/\/ -----/p' %s | quant-opt --qnt-cpu-pipeline="isa=avx512 int-dot=0" | mlir-translate --mlir-to-llvmir | opt -O2 | llc -O2 -mattr=+avx512f | FileCheck %s --check-prefix=ASM
// RUN: sed -n '1,/^\/\/ -----/p' %s | quant-opt --qnt-cpu-pipeline=isa=avx512 | mlir-translate --mlir-to-llvmir | opt -O2 | llc -O2 -mattr=+avx512f | FileCheck %s --check-prefix=ASMINT
// With VNNI (and BW) the GEMV runs on 512-bit vectors: a chunk's 32
// integer weights from one vpermw of the group's 16-bit table (indices
// zero-extended from the nibbles), one vpdpwssd per chunk and row, 16-lane
// sums (the function carries the features, llc needs no -mattr).
// RUN: sed -n '1,/^\/\/ -----/p' %s | quant-opt --convert-qnt-to-cpu=isa=avx512vnni | FileCheck %s --check-prefix=VNNI
// RUN: sed -n '1,/^\/\/ -----/p' %s | quant-opt --qnt-cpu-pipeline=isa=avx512vnni | mlir-translate --mlir-to-llvmir | opt -O2 | llc -O2 | FileCheck %s --check-prefix=ASMVNNI
// With AVX-512 BF16, bf16 compute types sum bf16 pairs with vdpbf16ps (last
// case); f32 compute types keep the integer path with vpdpwssd (first case).
// RUN: quant-opt %s --convert-qnt-to-cpu=isa=avx512bf16 --split-input-file | FileCheck %s --check-prefix=BF16
// With VNNI, more activation rows take the integer tiles on vpdpwssd (512-bit,
// second case).
// RUN: quant-opt %s --convert-qnt-to-cpu=isa=avx512vnni --split-input-file | FileCheck %s --check-prefix=VNNIT
// RUN: sed -n '/^\/\/ bf16 compute/,$p' %s | quant-opt --qnt-cpu-pipeline=isa=avx512bf16 | mlir-translate --mlir-to-llvmir | opt -O2 | llc -O2 | FileCheck %s --check-prefix=ASMBF16
// RUN: quant-opt %s --convert-qnt-to-cpu=isa=amx --split-input-file | FileCheck %s --check-prefix=AMXI
// RUN: sed -n '/^\/\/ bf16 compute/,$p' %s | quant-opt --convert-qnt-to-cpu=isa=amx | FileCheck %s --check-prefix=AMX
// RUN: sed -n '/^\/\/ bf16 compute/,$p' %s | quant-opt --qnt-cpu-pipeline=isa=amx | mlir-translate --mlir-to-llvmir | opt -O2 | llc -O2 | FileCheck %s --check-prefix=ASMAMX

// BADISA: convert-qnt-to-cpu: unknown isa 'sse9' (expected generic, avx2, avx512, avx512vnni, avx512bf16, amx, native or dispatch)
// ASM: vperm{{[a-z0-9]*}} {{.*}}%zmm
// ASM: vfmadd{{.*}}%zmm
// ASMINT: vpshufb {{.*}}%ymm
// ASMINT: vpmaddwd {{.*}}%ymm
// VNNI-DAG: llvm.func internal @qnt_cpu_avx512_vpdpwssd_512({{.*}}: vector<16xi32>, {{.*}}: vector<32xi16>, {{.*}}: vector<32xi16>) -> vector<16xi32> attributes {always_inline, target_features = #llvm.target_features<["+avx512f", "+avx512vl", "+avx512bw", "+avx512vnni", "+avx2", "+fma", "+f16c"]>}
// VNNI-DAG: llvm.func internal @qnt_cpu_avx512_permvar_hi_512({{.*}}) -> vector<32xi16> attributes {always_inline, target_features = #llvm.target_features<["+avx512f", "+avx512vl", "+avx512bw", "+avx512vnni", "+avx2", "+fma", "+f16c"]>}
// VNNI-NOT: pmadd
// VNNI-NOT: pshuf
// VNNI: call @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512vnni_i16(
// VNNI: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512vnni_i16({{.*}}) attributes {target_features = #llvm.target_features<["+avx512f", "+avx512vl", "+avx512bw", "+avx512vnni", "+avx2", "+fma", "+f16c"]>}
// VNNI: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 1, 3, 5
// VNNI: arith.extui %{{.*}} : vector<32xi8> to vector<32xi16>
// VNNI: llvm.call @qnt_cpu_avx512_permvar_hi_512
// VNNI: llvm.call @qnt_cpu_avx512_vpdpwssd_512
// VNNI: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// ASMVNNI: vpermw {{.*}}%zmm
// ASMVNNI: {{vpdpwssd|vpmaddwd}} {{.*}}%zmm
// BF16: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512bf16_i16(
// BF16: llvm.call @qnt_cpu_avx512_vpdpwssd_512

// nf4 + double quant, one activation row: a GEMV over the weight rows split
// among threads, 16-byte code loads, nibbles as two 16-lane table indices.
// CHECK: llvm.func internal @qnt_cpu_avx512_permvar_sf_512({{.*}}) -> vector<16xf32> attributes {always_inline, target_features = #llvm.target_features<["+avx512f", "+avx2", "+fma", "+f16c"]>}
// CHECK: llvm.call_intrinsic "llvm.x86.avx512.permvar.sf.512"
// CHECK: memref.global "private" constant @qnt_cpu_dynamic_map : memref<256xf32>
// CHECK-LABEL: func.func @gemv
// CHECK: %[[X:.*]] = bufferization.to_buffer %{{.*}} read_only
// A zero-filled init used only here is filled anew into the output buffer
// (no copy of it).
// CHECK: %[[NEW:.*]] = bufferization.alloc_tensor() : tensor<1x8xf32>
// CHECK: %[[OUT:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[NEW]] : tensor<1x8xf32>)
// CHECK: %[[OB:.*]] = bufferization.to_buffer %[[OUT]] :
// CHECK: call @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512(%[[X]], {{.*}}, %[[OB]])
// CHECK: bufferization.to_tensor %[[OB]] restrict writable
// CHECK: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512(%{{.*}}: memref<1x128xf32>, %{{.*}}: memref<8x64xi8>, %{{.*}}: memref<8x2xi8>, %{{.*}}: memref<1xf32>, %{{.*}}: memref<f32>, %{{.*}}: memref<1x8xf32>)
// CHECK: scf.parallel
// CHECK: vector.load %{{.*}} : memref<8x64xi8>, vector<16xi8>
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: llvm.call @qnt_cpu_avx512_permvar_sf_512
// CHECK: vector.fma
// CHECK: vector.reduction <add>
// AVX2: llvm.call_intrinsic "llvm.x86.avx2.permps"
// AVX2: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx2(
// GENERIC-NOT: llvm.call
// GENERIC: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_generic(
// GENERIC: vector.extract %{{.*}}[%{{.*}}] : f32 from vector<16xf32>
// The integer path: activations quantized per block of 64 into a buffer
// (rounded, 16-bit, reordered to even then odd k), codes looked up in the
// byte tables of the integer nf4 values, pairs multiplied and summed in
// 32 bits, converted and scaled once per block.
// INT-DAG: llvm.call_intrinsic "llvm.x86.avx2.pshuf.b"
// INT-DAG: llvm.call_intrinsic "llvm.x86.avx2.pmadd.wd"
// INT: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx2_i16(
// INT: memref.alloc() {alignment = 64 : i64} : memref<1x128xi16>
// INT: memref.alloc() {alignment = 64 : i64} : memref<1x2xf32>
// INT: vector.reduction <maximumf>
// INT: math.roundeven
// INT: arith.fptosi %{{.*}} : vector<32xf32> to vector<32xi16>
// INT: vector.shuffle
// INT: scf.parallel
// INT: vector.load %{{.*}} : memref<8x64xi8>, vector<16xi8>
// INT: llvm.call @qnt_cpu_avx2_pshuf_b
// INT: llvm.call @qnt_cpu_avx2_pshuf_b
// INT: vector.bitcast %{{.*}} : vector<64xi8> to vector<32xi16>
// INT: vector.extract_strided_slice %{{.*}} {offsets = [0], sizes = [16], strides = [1]} : vector<32xi16> to vector<16xi16>
// INT: llvm.call @qnt_cpu_avx2_pmadd_wd
// INT: arith.sitofp %{{.*}} : vector<8xi32> to vector<8xf32>
// INT: vector.fma
// INT: vector.reduction <add>
// Runtime dispatch: the three kernels (the AVX ones marked with their
// target features, so that a library for a generic CPU can hold them) and
// a dispatcher that calls the best one the runtime's level global allows.
// DISPATCH: memref.global "public" @qnt_cpu_isa : memref<i32> = dense<0>
// DISPATCH-LABEL: func.func @gemv
// DISPATCH: call @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_dispatch(
// DISPATCH: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512vnni_i16({{.*}}) attributes {target_features = #llvm.target_features<["+avx512f", "+avx512vl", "+avx512bw", "+avx512vnni", "+avx2", "+fma", "+f16c"]>}
// DISPATCH: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512_i16({{.*}}) attributes {target_features = #llvm.target_features<["+avx512f", "+avx2", "+fma", "+f16c"]>}
// DISPATCH: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx2_i16({{.*}}) attributes {target_features = #llvm.target_features<["+avx2", "+fma", "+f16c"]>}
// DISPATCH: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_generic(
// DISPATCH-NOT: target_features
// DISPATCH: func.func private @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_dispatch(
// DISPATCH: %[[G:.*]] = memref.get_global @qnt_cpu_isa : memref<i32>
// DISPATCH: %[[L:.*]] = memref.load %[[G]][] : memref<i32>
// DISPATCH: %[[C3:.*]] = arith.constant 3 : i32
// DISPATCH: %[[V:.*]] = arith.cmpi sge, %[[L]], %[[C3]] : i32
// DISPATCH: scf.if %[[V]] {
// DISPATCH: call @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512vnni_i16(
// DISPATCH: } else {
// DISPATCH: %[[C2:.*]] = arith.constant 2 : i32
// DISPATCH: %[[A:.*]] = arith.cmpi sge, %[[L]], %[[C2]] : i32
// DISPATCH: scf.if %[[A]] {
// DISPATCH: call @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx512_i16(
// DISPATCH: } else {
// DISPATCH: arith.cmpi sge, %[[L]], %{{.*}} : i32
// DISPATCH: call @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_avx2_i16(
// DISPATCH: } else {
// DISPATCH: call @qnt_cpu_nf4_g64_dq_f32_f32_m1_n8_k128_generic(
func.func @gemv(%x: tensor<1x128xf32>, %codes: tensor<8x64xi8>, %sc: tensor<8x2xi8>, %dqs: tensor<1xf32>, %dqo: tensor<f32>) -> tensor<1x8xf32> {
  %cst = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x8xf32>
  %init = linalg.fill ins(%cst : f32) outs(%e : tensor<1x8xf32>) -> tensor<1x8xf32>
  %y = qnt.matmul <nf4, group = 64, double_quant> %x : tensor<1x128xf32>, %codes : tensor<8x64xi8> scales(%sc : tensor<8x2xi8>) dq(%dqs : tensor<1xf32>, %dqo : tensor<f32>) outs(%init : tensor<1x8xf32>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// int8, M = 130 (from 128 rows), f32 path: the activations copied into rows
// padded by 32,
// then per tile of 32 weight rows the decoded weights stored k-major (the
// 32 rows' weights of one k side by side; 8-bit codes widened, not looked
// up) and the outer-product micro-kernel: per k two loads of 16 weights
// and, per activation row (12 at a time), a broadcast and two FMAs into the
// row's 32 output columns, added to the result once per K tile.
// CHECK-LABEL: func.func @tiled
// CHECK-NOT: llvm.call @qnt_cpu_avx512_permvar
// CHECK: call @qnt_cpu_int8_f32_f32_m130_n20_k64_avx512
// CHECK: func.func private @qnt_cpu_int8_f32_f32_m130_n20_k64_avx512
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<130x96xf32>
// CHECK: scf.parallel
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<64x32xf32>
// CHECK: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK-COUNT-16: memref.store {{.*}} : memref<64x32xf32>
// CHECK: vector.load %{{.*}} : memref<64x32xf32>, vector<16xf32>
// CHECK: vector.load %{{.*}} : memref<64x32xf32>, vector<16xf32>
// CHECK: vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK-COUNT-24: vector.fma
// CHECK: vector.transfer_read %{{.*}}, %{{.*}} : memref<130x20xf32>, vector<16xf32>
// Integer tiles (VNNI): activations quantized in k order into rows padded by
// 32, the 16 tile rows' integer pairs side by side, 12 activation rows per
// micro-kernel, int32 sums scaled once per activation block (here K = 64,
// one block), the 16 output columns added at once.
// VNNIT-LABEL: func.func @tiled
// VNNIT: func.func private @qnt_cpu_int8_f32_f32_m130_n20_k64_avx512vnni_i16(
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<130x96xi16>
// VNNIT-NOT: vector.shuffle
// VNNIT: scf.parallel
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<32x16xi32>
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<1x16xf32>
// VNNIT: vector.bitcast %{{.*}} : vector<32xi16> to vector<16xi32>
// VNNIT-COUNT-16: memref.store {{.*}} : memref<32x16xi32>
// VNNIT: memref.store {{.*}} : memref<1x16xf32>
// VNNIT: vector.load %{{.*}} : memref<130x96xi16>, vector<2xi16>
// VNNIT-COUNT-12: llvm.call @qnt_cpu_avx512_vpdpwssd_512
// VNNIT: vector.load %{{.*}} : memref<1x16xf32>, vector<16xf32>
// VNNIT: arith.sitofp %{{.*}} : vector<16xi32> to vector<16xf32>
// VNNIT: vector.fma
// VNNIT: vector.transfer_read %{{.*}}, %{{.*}} : memref<130x20xf32>, vector<16xf32>
func.func @tiled(%x: tensor<130x64xf32>, %codes: tensor<20x64xi8>, %sc: tensor<20x1xf32>, %init: tensor<130x20xf32>) -> tensor<130x20xf32> {
  %y = qnt.matmul <int8> %x : tensor<130x64xf32>, %codes : tensor<20x64xi8> scales(%sc : tensor<20x1xf32>) outs(%init : tensor<130x20xf32>) -> tensor<130x20xf32>
  return %y : tensor<130x20xf32>
}

// -----

// 8 < M < 128: the GEMV on slices of 8 activation rows (here 8 + 8 + 4),
// each inserted into the result; the tiles start at M = 128.
// CHECK-LABEL: func.func @sliced
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [8, 64] [1, 1] : tensor<20x64xf32> to tensor<8x64xf32>
// CHECK: call @qnt_cpu_int8_f32_f32_m8_n20_k64_avx512(
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[0, 0] [8, 20] [1, 1] : tensor<8x20xf32> into tensor<20x20xf32>
// CHECK: tensor.extract_slice %{{.*}}[8, 0] [8, 64] [1, 1]
// CHECK: call @qnt_cpu_int8_f32_f32_m8_n20_k64_avx512(
// CHECK: tensor.extract_slice %{{.*}}[16, 0] [4, 64] [1, 1]
// CHECK: call @qnt_cpu_int8_f32_f32_m4_n20_k64_avx512(
// CHECK: tensor.insert_slice %{{.*}} into %{{.*}}[16, 0] [4, 20] [1, 1] : tensor<4x20xf32> into tensor<20x20xf32>
// CHECK-NOT: scf.parallel {{.*}}memref<64x32xf32>
func.func @sliced(%x: tensor<20x64xf32>, %codes: tensor<20x64xi8>, %sc: tensor<20x1xf32>, %init: tensor<20x20xf32>) -> tensor<20x20xf32> {
  %y = qnt.matmul <int8> %x : tensor<20x64xf32>, %codes : tensor<20x64xi8> scales(%sc : tensor<20x1xf32>) outs(%init : tensor<20x20xf32>) -> tensor<20x20xf32>
  return %y : tensor<20x20xf32>
}

// -----

// W8A8 with LLM.int8's threshold. VNNI tiles: each activation row's int8
// codes as bytes with 128 x each block's code sum, the weights' sign bits
// flipped (w + 128, vpdpbusd's unsigned operand), one vpdpbusd per 4 k and
// activation row, the block sum subtracted before scaling; then the
// outliers' pass over the weight rows. With avx2, the kernel's own GEMV slices of
// 8 rows over the quantized activations (no f32 tiles: the result must be
// W8A8's); the portable kernel the same with pair sums in plain vectors.
// VNNIT-LABEL: func.func @w8a8
// VNNIT: func.func private @qnt_cpu_int8_f32_f32_a8_t40C00000_m130_n20_k64_avx512vnni_i16(
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<130x96xi8>
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<130x1xf32>
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<130x1xi32>
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<130x64xi32>
// VNNIT: memref.alloc() {alignment = 64 : i64} : memref<130x64xf32>
// VNNIT: arith.cmpf oge
// VNNIT: vector.reduction <or>
// VNNIT: scf.parallel
// VNNIT: arith.xori %{{.*}} : vector<32xi8>
// VNNIT: vector.bitcast %{{.*}} : vector<32xi8> to vector<8xi32>
// VNNIT-COUNT-8: memref.store {{.*}} : memref<16x16xi32>
// VNNIT: vector.load %{{.*}} : memref<130x96xi8>, vector<4xi8>
// VNNIT-COUNT-12: llvm.call @qnt_cpu_avx512_vpdpbusd_512
// VNNIT: memref.load %{{.*}} : memref<130x1xi32>
// VNNIT: arith.subi %{{.*}} : vector<16xi32>
// VNNIT: scf.parallel
// VNNIT: memref.load %{{.*}} : memref<130x64xi32>
// VNNIT: memref.load %{{.*}} : memref<130x64xf32>
// INT-LABEL: func.func @w8a8
// INT: func.func private @qnt_cpu_int8_f32_f32_a8_t40C00000_m130_n20_k64_avx2_i16(
// INT: memref.alloc() {alignment = 64 : i64} : memref<130x96xi16>
// INT: scf.for %{{.*}} = %c0{{.*}} to %c128 step %c8
// INT: memref.subview %{{.*}} : memref<130x96xi16> to memref<8x96xi16, strided<[96, 1], offset: ?>>
// INT: scf.parallel
// INT: llvm.call @qnt_cpu_avx2_pmadd_wd
// INT: memref.subview %{{.*}}[%c128{{.*}}, 0] [2, 96] [1, 1]
// With AMX, per-channel W8A8 tiles multiply int8 codes in the tile unit:
// rows padded to 32 (160), 4-byte groups of each weight row (AMX's B
// layout), tdpbssd into 16 x 16 int32 tiles, scaled by both scales.
// AMXI-LABEL: func.func @w8a8
// AMXI: func.func private @qnt_cpu_int8_f32_f32_a8_t40C00000_m130_n20_k64_amx_i16(
// AMXI: memref.alloc() {alignment = 64 : i64} : memref<160x64xi8>
// AMXI: scf.parallel
// AMXI: memref.alloc() {alignment = 64 : i64} : memref<16x128xi8>
// AMXI-COUNT-8: vector.store {{.*}} : memref<16x128xi8>, vector<4xi8>
// AMXI: amx.tile_load {{.*}} : memref<160x64xi8> into !amx.tile<16x64xi8>
// AMXI: amx.tile_muli
// AMXI: amx.tile_store {{.*}} : memref<32x32xi32>, !amx.tile<16x16xi32>
// AMXI: arith.sitofp {{.*}} : vector<16xi32> to vector<16xf32>
// AMXI: scf.parallel
// GENERIC-LABEL: func.func @w8a8
// GENERIC: func.func private @qnt_cpu_int8_f32_f32_a8_t40C00000_m130_n20_k64_generic_i16(
// GENERIC: arith.muli %{{.*}} : vector<8xi32>
// GENERIC-NOT: llvm.call
// GENERIC: return
func.func @w8a8(%x: tensor<130x64xf32>, %codes: tensor<20x64xi8>, %sc: tensor<20x1xf32>, %init: tensor<130x20xf32>) -> tensor<130x20xf32> {
  %y = qnt.matmul <int8, act = int8, outlier_threshold = 6.0> %x : tensor<130x64xf32>, %codes : tensor<20x64xi8> scales(%sc : tensor<20x1xf32>) outs(%init : tensor<130x20xf32>) -> tensor<130x20xf32>
  return %y : tensor<130x20xf32>
}

// -----

// A single AMX target takes the tiles from 9 rows on (no GEMV slices);
// dispatch and the other levels slice as before.
// AMXI-LABEL: func.func @amx_unsliced
// AMXI-NOT: tensor.extract_slice
// AMXI: call @qnt_cpu_int8_f32_f32_cbf16_m20_n20_k64_amx(
// AMXI: func.func private @qnt_cpu_int8_f32_f32_cbf16_m20_n20_k64_amx(
// AMXI: amx.tile_mulf
// BF16-LABEL: func.func @amx_unsliced
// BF16: tensor.extract_slice
// BF16: call @qnt_cpu_int8_f32_f32_cbf16_m8_n20_k64_avx512bf16(
// DISPATCH-LABEL: func.func @amx_unsliced
// DISPATCH: tensor.extract_slice
func.func @amx_unsliced(%x: tensor<20x64xf32>, %codes: tensor<20x64xi8>, %sc: tensor<20x1xf32>, %init: tensor<20x20xf32>) -> tensor<20x20xf32> {
  %y = qnt.matmul <int8, compute = bf16> %x : tensor<20x64xf32>, %codes : tensor<20x64xi8> scales(%sc : tensor<20x1xf32>) outs(%init : tensor<20x20xf32>) -> tensor<20x20xf32>
  return %y : tensor<20x20xf32>
}

// -----

// Left to convert-qnt-to-linalg: groups not a multiple of 32, batched
// activations.
// CHECK-LABEL: func.func @fallbacks
// CHECK-COUNT-2: qnt.matmul
// CHECK-NOT: call @qnt_cpu
func.func @fallbacks(%x: tensor<2x96xf32>, %c: tensor<4x48xi8>, %s1: tensor<4x1xf32>, %s2: tensor<4x2xf32>, %xb: tensor<3x2x96xf32>, %i: tensor<2x4xf32>, %ib: tensor<3x2x4xf32>) -> (tensor<2x4xf32>, tensor<3x2x4xf32>) {
  %b = qnt.matmul <int4, group = 48> %x : tensor<2x96xf32>, %c : tensor<4x48xi8> scales(%s2 : tensor<4x2xf32>) outs(%i : tensor<2x4xf32>) -> tensor<2x4xf32>
  %d = qnt.matmul <int4> %xb : tensor<3x2x96xf32>, %c : tensor<4x48xi8> scales(%s1 : tensor<4x1xf32>) outs(%ib : tensor<3x2x4xf32>) -> tensor<3x2x4xf32>
  return %b, %d : tensor<2x4xf32>, tensor<3x2x4xf32>
}

// -----

// bf16 compute: activations and dequantized weights are rounded to bf16
// (and back) before the f32 FMAs, as in the reference lowering; never the
// integer path (the f32 kernel even with int-dot on).
// CHECK-LABEL: func.func @bf16_compute
// CHECK: call @qnt_cpu_nf4_f32_f32_cbf16_m2_n4_k96_avx512(
// CHECK: func.func private @qnt_cpu_nf4_f32_f32_cbf16_m2_n4_k96_avx512(
// CHECK-DAG: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// CHECK-DAG: arith.extf %{{.*}} : vector<16xbf16> to vector<16xf32>
// CHECK: vector.fma
// INT-LABEL: func.func @bf16_compute
// INT: call @qnt_cpu_nf4_f32_f32_cbf16_m2_n4_k96_avx2(
// With AVX-512 BF16 the activations are converted to bf16 once
// (vcvtne2ps2bf16, 4-bit chunks reordered to even then odd k), the group's
// scaled table as 32 bf16 (vpermw's table), the nibbles of a chunk as 32
// indices, one vpermw per chunk and one vdpbf16ps per activation row. The
// tiles (M >= 128) take f32 FMAs on bf16-rounded operands (vdpbf16ps
// measured slower there).
// BF16-LABEL: func.func @bf16_compute
// BF16: call @qnt_cpu_nf4_f32_f32_cbf16_m2_n4_k96_avx512bf16(
// BF16: call @qnt_cpu_int8_f32_f32_cbf16_m130_n20_k64_avx512bf16(
// BF16: func.func private @qnt_cpu_nf4_f32_f32_cbf16_m2_n4_k96_avx512bf16({{.*}}) attributes {target_features = #llvm.target_features<["+avx512f", "+avx512vl", "+avx512bw", "+avx512vnni", "+avx512bf16", "+avx2", "+fma", "+f16c"]>}
// BF16: memref.alloc() {alignment = 64 : i64} : memref<2x96xbf16>
// BF16: vector.shuffle {{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 1, 3, 5
// BF16: llvm.call @qnt_cpu_avx512bf16_cvtne2ps2bf16_512
// BF16: scf.parallel
// BF16: llvm.call @qnt_cpu_avx512bf16_cvtne2ps2bf16_512
// BF16: vector.bitcast %{{.*}} : vector<32xbf16> to vector<32xi16>
// BF16: vector.load %{{.*}} : memref<2x96xbf16>, vector<32xbf16>
// BF16: arith.extui %{{.*}} : vector<32xi8> to vector<32xi16>
// BF16: llvm.call @qnt_cpu_avx512_permvar_hi_512
// BF16: vector.bitcast %{{.*}} : vector<32xi16> to vector<32xbf16>
// BF16-COUNT-2: llvm.call @qnt_cpu_avx512bf16_dpbf16ps_512
// BF16-NOT: vector.fma
// BF16: func.func private @qnt_cpu_int8_f32_f32_cbf16_m130_n20_k64_avx512bf16(
// BF16: memref.alloc() {alignment = 64 : i64} : memref<130x96xf32>
// BF16: arith.truncf %{{.*}} : vector<32xf32> to vector<32xbf16>
// BF16: scf.parallel
// BF16: memref.alloc() {alignment = 64 : i64} : memref<64x32xf32>
// BF16: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
// BF16-COUNT-24: vector.fma
// BF16-NOT: llvm.call @qnt_cpu_avx512bf16_dpbf16ps_512
// With AMX (isa=amx) the tiles multiply in the tile unit: activations in
// bf16 with rows padded to 32 (160), per thread 32 weight rows as bf16 pairs
// (AMX's B layout, 16 pair rows per chunk of 32 k), then per 32 activation
// rows and K step two A tiles, two B tiles and four tdpbf16ps into 16 x 16
// f32 tiles, stored and added to the result; the GEMV stays vdpbf16ps.
// AMX: func.func private @qnt_cpu_nf4_f32_f32_cbf16_m2_n4_k96_amx(
// AMX-COUNT-2: llvm.call @qnt_cpu_avx512bf16_dpbf16ps_512
// AMX: func.func private @qnt_cpu_int8_f32_f32_cbf16_m130_n20_k64_amx({{.*}}) attributes {target_features = #llvm.target_features<[{{.*}}"+amx-tile", "+amx-bf16", "+amx-int8"{{.*}}]>}
// AMX: memref.alloc() {alignment = 64 : i64} : memref<160x64xbf16>
// AMX: scf.parallel
// AMX: memref.alloc() {alignment = 64 : i64} : memref<32x64xbf16>
// AMX: memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
// AMX-COUNT-16: vector.store {{.*}} : memref<32x64xbf16>, vector<2xbf16>
// AMX: amx.tile_zero : !amx.tile<16x16xf32>
// AMX: amx.tile_load {{.*}} : memref<160x64xbf16> into !amx.tile<16x32xbf16>
// AMX: amx.tile_load {{.*}} : memref<32x64xbf16> into !amx.tile<16x32xbf16>
// AMX: amx.tile_mulf
// AMX: amx.tile_store {{.*}} : memref<32x32xf32>, !amx.tile<16x16xf32>
// AMX-NOT: vector.fma
// ASMAMX: ldtilecfg
// ASMAMX: tileloadd
// ASMAMX: tdpbf16ps
// ASMBF16: vcvtne2ps2bf16 {{.*}}%zmm
// ASMBF16: vpermw {{.*}}%zmm
// ASMBF16: vdpbf16ps {{.*}}%zmm
func.func @bf16_compute(%x: tensor<2x96xf32>, %c: tensor<4x48xi8>, %s: tensor<4x1xf32>, %i: tensor<2x4xf32>, %x130: tensor<130x64xf32>, %c8: tensor<20x64xi8>, %s8: tensor<20x1xf32>, %i130: tensor<130x20xf32>) -> (tensor<2x4xf32>, tensor<130x20xf32>) {
  %a = qnt.matmul <nf4, compute = bf16> %x : tensor<2x96xf32>, %c : tensor<4x48xi8> scales(%s : tensor<4x1xf32>) outs(%i : tensor<2x4xf32>) -> tensor<2x4xf32>
  %b = qnt.matmul <int8, compute = bf16> %x130 : tensor<130x64xf32>, %c8 : tensor<20x64xi8> scales(%s8 : tensor<20x1xf32>) outs(%i130 : tensor<130x20xf32>) -> tensor<130x20xf32>
  return %a, %b : tensor<2x4xf32>, tensor<130x20xf32>
}
