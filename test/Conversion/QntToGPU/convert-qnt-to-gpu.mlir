// RUN: quant-opt %s -split-input-file --convert-qnt-to-gpu | FileCheck %s

// nf4 with bf16 activations, M = 1: the matmul becomes a launch of a kernel
// generated for this shape, the GEMV (one row of a table kind). Each warp
// takes 2 output channels, 4 warps a block: N = 4096 -> 512 blocks of 128
// threads. The kernel copies the NF4 table to shared memory, loads 16 bytes
// of codes per row at a time (aligned, so ld.global.v4), loads the
// activations as aligned vectors, and reduces the lanes' partial sums with
// xor shuffles.
// CHECK-LABEL: module attributes {gpu.container_module}
// CHECK: func.func @nf4_m1(%[[X:.*]]: tensor<1x4096xbf16>, %[[C:.*]]: tensor<4096x2048xi8>, %[[S:.*]]: tensor<4096x64xf32>, %[[I:.*]]: tensor<1x4096xbf16>)
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only
// CHECK-DAG: %[[CB:.*]] = bufferization.to_buffer %[[C]] read_only
// CHECK-DAG: %[[SB:.*]] = bufferization.to_buffer %[[S]] read_only
// CHECK: %[[OUT:.*]] = bufferization.alloc_tensor() copy(%[[I]])
// CHECK: %[[OB:.*]] = bufferization.to_buffer %[[OUT]]
// CHECK-DAG: %[[C512:.*]] = arith.constant 512 : index
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK: gpu.launch_func @qnt_kernels::@[[K:qnt_gemv_nf4_g64_bf16_bf16_m1_n4096_k4096_r2w4u1]] blocks in (%[[C512]], %{{.*}}, %{{.*}}) threads in (%[[C128]], %{{.*}}, %{{.*}}) args(%[[XB]] : memref<1x4096xbf16>, %[[CB]] : memref<4096x2048xi8>, %[[SB]] : memref<4096x64xf32>, %[[OB]] : memref<1x4096xbf16>)
// CHECK: bufferization.to_tensor %[[OB]] restrict writable
// CHECK: gpu.module @qnt_kernels
// CHECK: memref.global "private" constant @[[K]]_table : memref<16xf32> = dense<[-1.000000e+00, -0.6961928
// CHECK: gpu.func @[[K]]({{.*}}) workgroup(%[[TBL:.*]] : memref<16xf32, #gpu.address_space<workgroup>>) kernel attributes {known_block_size = array<i32: 128, 1, 1>}
// CHECK: memref.store %{{.*}}, %[[TBL]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %{{.*}} to %c128{{.*}} step %c32
// CHECK-COUNT-2: vector.load %{{.*}} {alignment = 16 : i64} : memref<4096x2048xi8>, vector<16xi8>
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<1x4096xbf16>, vector<8xbf16>
// CHECK: memref.load %[[TBL]]
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32, %c32_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32, %c32_i32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store
func.func @nf4_m1(%x: tensor<1x4096xbf16>, %c: tensor<4096x2048xi8>, %s: tensor<4096x64xf32>, %i: tensor<1x4096xbf16>) -> tensor<1x4096xbf16> {
  %y = qnt.matmul #qnt.scheme<nf4, group = 64, compute = bf16> %x : tensor<1x4096xbf16>, %c : tensor<4096x2048xi8> scales(%s : tensor<4096x64xf32>) outs(%i : tensor<1x4096xbf16>) -> tensor<1x4096xbf16>
  return %y : tensor<1x4096xbf16>
}

// -----

// Double quantization decodes each absmax on the fly from the 256-entry
// dynamic map (in shared memory), the block scale and the offset; batched
// [B, M, K] activations run as B*M rows, 8 per block (grid.y = 3 for 24).
// CHECK-LABEL: func.func @nf4dq_batched
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<2x12x256xf32> into tensor<24x256xf32>
// CHECK: gpu.launch_func @qnt_kernels::@qnt_gemv_nf4_g64_dq_f32_f32_m24_n64_k256_r2w4u1 blocks in (%{{.*}}, %[[GY:.*]], %{{.*}})
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1], [2]] output_shape [2, 12, 64]
// CHECK: memref.global "private" constant @qnt_dynamic_map : memref<256xf32>
// CHECK: gpu.func @qnt_gemv_nf4_g64_dq_f32_f32_m24_n64_k256_r2w4u1({{.*}}) workgroup(%{{.*}} : memref<16xf32, #gpu.address_space<workgroup>>, %[[MAP:.*]] : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: %[[CODE:.*]] = memref.load %{{.*}} : memref<64x4xi8>
// CHECK: %[[WIDE:.*]] = arith.extui %[[CODE]] : i8 to i32
// CHECK: memref.load %[[MAP]]
// CHECK: arith.divui %{{.*}}, %c256
// CHECK: memref.load %{{.*}} : memref<1xf32>
// CHECK: memref.load %{{.*}}[] : memref<f32>
func.func @nf4dq_batched(%x: tensor<2x12x256xf32>, %c: tensor<64x128xi8>, %s: tensor<64x4xi8>, %d: tensor<1xf32>, %o: tensor<f32>, %i: tensor<2x12x64xf32>) -> tensor<2x12x64xf32> {
  %y = qnt.matmul #qnt.scheme<nf4, group = 64, double_quant> %x : tensor<2x12x256xf32>, %c : tensor<64x128xi8> scales(%s : tensor<64x4xi8>) dq(%d : tensor<1xf32>, %o : tensor<f32>) outs(%i : tensor<2x12x64xf32>) -> tensor<2x12x64xf32>
  return %y : tensor<2x12x64xf32>
}

// -----

// int4 asymmetric with K = 72 (not a multiple of 32): the scalar path reads
// one byte per element and picks the nibble. The code becomes a float
// without a conversion: or'ed into the mantissa of 2^23 (0x4B000000), then
// 2^23 + zp is subtracted.
// CHECK-LABEL: gpu.func @qnt_gemv_int4_asym_g8_f32_f32_m2_n9_k72_r2w4u1
// CHECK-NOT: vector.load
// CHECK: %[[ZP:.*]] = arith.uitofp %{{.*}} : i8 to f32
// CHECK: %[[BIAS:.*]] = arith.addf %[[ZP]], %cst{{.*}} : f32
// CHECK: arith.remui %{{.*}}, %c2
// CHECK: %[[MAGIC:.*]] = arith.ori %{{.*}}, %c1258291200_i32 : i32
// CHECK: %[[F:.*]] = arith.bitcast %[[MAGIC]] : i32 to f32
// CHECK: arith.subf %[[F]], %[[BIAS]] : f32
func.func @int4_scalar(%x: tensor<2x72xf32>, %c: tensor<9x36xi8>, %s: tensor<9x9xf32>, %z: tensor<9x9xi8>, %i: tensor<2x9xf32>) -> tensor<2x9xf32> {
  %y = qnt.matmul #qnt.scheme<int4, asymmetric, group = 8> %x : tensor<2x72xf32>, %c : tensor<9x36xi8> scales(%s : tensor<9x9xf32>) zero_points(%z : tensor<9x9xi8>) outs(%i : tensor<2x9xf32>) -> tensor<2x9xf32>
  return %y : tensor<2x9xf32>
}

// -----

// Tuning overrides: 4 rows per warp, 2 warps per block, 2 chunks per row
// loaded before use (K = 4096 gives 4 chunks per lane).
// RUN: quant-opt %s -split-input-file --convert-qnt-to-gpu="rows-per-warp=4 warps-per-block=2 unroll=2" | FileCheck %s --check-prefix=TUNED
// RUN: quant-opt %s -split-input-file --convert-qnt-to-gpu=wgmma=1 | FileCheck %s --check-prefix=WGMMA
// TUNED-LABEL: func.func @tuned
// TUNED: gpu.launch_func @qnt_kernels::@qnt_gemv_int8_f32_f32_m1_n64_k4096_r4w2u2 blocks in (%c8, %c1{{.*}}, %c1{{.*}}) threads in (%c64
// TUNED: scf.for %{{.*}} = %{{.*}} to %c256{{.*}} step %c64
// TUNED-COUNT-8: vector.load %{{.*}} : memref<64x4096xi8>, vector<16xi8>
func.func @tuned(%x: tensor<1x4096xf32>, %c: tensor<64x4096xi8>, %s: tensor<64x1xf32>, %i: tensor<1x64xf32>) -> tensor<1x64xf32> {
  %y = qnt.matmul #qnt.scheme<int8> %x : tensor<1x4096xf32>, %c : tensor<64x4096xi8> scales(%s : tensor<64x1xf32>) outs(%i : tensor<1x64xf32>) -> tensor<1x64xf32>
  return %y : tensor<1x64xf32>
}

// -----

// A full tile of bf16 rows (M = 64) goes to the tensor cores: a 64 x 64
// output tile per block of 4 warps, activations and dequantized weights
// staged in shared memory as packed bf16 pairs (16-byte elements, rows
// padded to 80 bytes; two buffers), fragments loaded with ldmatrix.x4, 16
// mma.sync m16n8k16 per 32-wide step of K. The first step is staged before
// the loop; each iteration stages the next step into the other buffer,
// then multiplies, then synchronizes once.
// CHECK-LABEL: func.func @gemm_tile
// CHECK: gpu.launch_func @qnt_kernels::@qnt_gemm_int4_g128_bf16_bf16_m64_n256_k512_t64 blocks in (%c4{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c128
// CHECK: gpu.func @qnt_gemm_int4_g128_bf16_bf16_m64_n256_k512_t64({{.*}}) workgroup(%[[A:.*]] : memref<128x5xvector<4xi32>, #gpu.address_space<workgroup>>, %[[B:.*]] : memref<128x5xvector<4xi32>, #gpu.address_space<workgroup>>)
// CHECK: memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: memref.extract_aligned_pointer_as_index %[[B]]
// CHECK: memref.store %{{.*}}, %[[A]]
// CHECK: memref.store %{{.*}}, %[[B]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.*}} = %c0{{.*}} to %c512{{.*}} step %c32
// CHECK: memref.store %{{.*}}, %[[A]]
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[B]]
// CHECK-NOT: gpu.barrier
// CHECK: nvvm.ldmatrix %{{.*}} {eltType = #nvvm.ld_st_matrix_elt_type<b16>, layout = #nvvm.mma_layout<row>, num = 4 : i32, shape = #nvvm.ld_st_matrix_shape<m = 8, n = 8>} : (!llvm.ptr<3>) -> !llvm.struct<(i32, i32, i32, i32)>
// CHECK-COUNT-16: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK: gpu.barrier
func.func @gemm_tile(%x: tensor<64x512xbf16>, %c: tensor<256x256xi8>, %s: tensor<256x4xf32>, %i: tensor<64x256xbf16>) -> tensor<64x256xbf16> {
  %y = qnt.matmul #qnt.scheme<int4, group = 128, compute = bf16> %x : tensor<64x512xbf16>, %c : tensor<256x256xi8> scales(%s : tensor<256x4xf32>) outs(%i : tensor<64x256xbf16>) -> tensor<64x256xbf16>
  return %y : tensor<64x256xbf16>
}

// -----

// Fewer rows than a tile (and more than the skinny kernel's 16): the GEMM
// only when its grid has 256 blocks or more (N = 16384), else the GEMV
// (N = 4096).
// CHECK-LABEL: func.func @m24_choice
// CHECK: gpu.launch_func @qnt_kernels::@qnt_gemv_nf4_g64_f16_f16_m24_n4096_k512
// CHECK: gpu.launch_func @qnt_kernels::@qnt_gemm_nf4_g64_f16_f16_m24_n16384_k512_t64
// CHECK: gpu.func @qnt_gemm_nf4_g64_f16_f16_m24_n16384_k512_t64
// CHECK: nvvm.mma.sync {{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (vector<2xf16>, vector<2xf16>, f32)
func.func @m24_choice(%x: tensor<24x512xf16>, %c: tensor<4096x256xi8>, %s: tensor<4096x8xf32>, %i: tensor<24x4096xf16>,
                      %c2: tensor<16384x256xi8>, %s2: tensor<16384x8xf32>, %i2: tensor<24x16384xf16>) -> (tensor<24x4096xf16>, tensor<24x16384xf16>) {
  %y = qnt.matmul #qnt.scheme<nf4, group = 64, compute = f16> %x : tensor<24x512xf16>, %c : tensor<4096x256xi8> scales(%s : tensor<4096x8xf32>) outs(%i : tensor<24x4096xf16>) -> tensor<24x4096xf16>
  %z = qnt.matmul #qnt.scheme<nf4, group = 64, compute = f16> %x : tensor<24x512xf16>, %c2 : tensor<16384x256xi8> scales(%s2 : tensor<16384x8xf32>) outs(%i2 : tensor<24x16384xf16>) -> tensor<24x16384xf16>
  return %y, %z : tensor<24x4096xf16>, tensor<24x16384xf16>
}

// -----

// From 128 rows on the tile is 128 x 128: 256 threads, 8 warps of 64 x 32,
// 32 mma.sync per 32-wide step of K.
// CHECK-LABEL: func.func @gemm_big_tile
// CHECK: gpu.launch_func @qnt_kernels::@qnt_gemm_int8_bf16_bf16_m256_n256_k64_t128 blocks in (%c2{{.*}}, %c2{{.*}}, %c1{{.*}}) threads in (%c256
// CHECK: gpu.func @qnt_gemm_int8_bf16_bf16_m256_n256_k64_t128({{.*}}) workgroup(%{{.*}} : memref<256x5xvector<4xi32>, #gpu.address_space<workgroup>>, %{{.*}} : memref<256x5xvector<4xi32>, #gpu.address_space<workgroup>>)
// CHECK-COUNT-32: nvvm.mma.sync
// CHECK: gpu.barrier
func.func @gemm_big_tile(%x: tensor<256x64xbf16>, %c: tensor<256x64xi8>, %s: tensor<256x1xf32>, %i: tensor<256x256xbf16>) -> tensor<256x256xbf16> {
  %y = qnt.matmul #qnt.scheme<int8, compute = bf16> %x : tensor<256x64xbf16>, %c : tensor<256x64xi8> scales(%s : tensor<256x1xf32>) outs(%i : tensor<256x256xbf16>) -> tensor<256x256xbf16>
  return %y : tensor<256x256xbf16>
}

// -----

// bf16 activations, M = 1: the skinny tensor-core kernel. With N >= 16384
// two tiles of 16 channels per block (N = 16384 -> 512 blocks); K = 4096 is
// 32 windows of 128 (16-byte chunks of 32 codes per lane), split over 8
// warps. Each lane loads its four channels' chunks, the next window's
// before this one's arithmetic; the int4 pairs are the nibbles at
// 0x000F000F (983055) of the shifted word or'ed into 128.0 bf16 twice
// (0x43004300 = 1124090624) minus 136 (128 + 8) in one packed subtraction;
// the activations are permuted into the pairs' order (prmt 0x7632 = 30258,
// 0x5410 = 21520) once for both tiles; 8 mma.sync per tile and window; f32
// partial sums (8 per lane) meet in shared memory.
// CHECK-LABEL: func.func @skinny_int4
// CHECK: gpu.launch_func @qnt_kernels::@[[K:qnt_skinny_int4_g128_bf16_bf16_m1_n16384_k4096_c16w8u1t2]] blocks in (%c512{{.*}}, %c1{{.*}}, %c1{{.*}}) threads in (%c256
// CHECK: gpu.func @[[K]]({{.*}}) workgroup(%[[RED:.*]] : memref<8x8x32xf32, #gpu.address_space<workgroup>>)
// CHECK-COUNT-4: vector.load %{{.*}} {alignment = 16 : i64} : memref<16384x2048xi8>, vector<16xi8>
// CHECK: scf.for
// CHECK-COUNT-4: vector.load %{{.*}} {alignment = 16 : i64} : memref<16384x2048xi8>, vector<16xi8>
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<1x4096xbf16>, vector<8xbf16>
// CHECK: nvvm.prmt <default> %c30258_i32
// CHECK: nvvm.prmt <default> %c21520_i32
// CHECK-COUNT-14: nvvm.prmt
// CHECK-NOT: nvvm.prmt
// CHECK: arith.xori %{{.*}}, %c-2004318072_i32
// CHECK: arith.andi %{{.*}}, %c983055_i32
// CHECK: arith.ori %{{.*}}, %c1124090624_i32
// CHECK: arith.subf %{{.*}}, %{{.*}} : vector<2xbf16>
// CHECK: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>{{.*}}shape = #nvvm.shape<m = 16, n = 8, k = 16>
// CHECK: memref.store %{{.*}}, %[[RED]]
// CHECK: gpu.barrier
// CHECK: memref.load %[[RED]]
func.func @skinny_int4(%x: tensor<1x4096xbf16>, %c: tensor<16384x2048xi8>, %s: tensor<16384x32xf32>, %i: tensor<1x16384xbf16>) -> tensor<1x16384xbf16> {
  %y = qnt.matmul #qnt.scheme<int4, group = 128, compute = bf16> %x : tensor<1x4096xbf16>, %c : tensor<16384x2048xi8> scales(%s : tensor<16384x32xf32>) outs(%i : tensor<1x16384xbf16>) -> tensor<1x16384xbf16>
  return %y : tensor<1x16384xbf16>
}

// -----

// nf4 (group 64) in f16 with M = 16: 8-byte chunks (windows of 64 = one
// group), two tiles of 8 rows of M by two tiles of 16 channels (16
// accumulators, two mma.sync per channel tile and step).
// The kernel first builds a 256-entry table of f16 pairs, one per code
// byte, from the 16 values; a code byte is one lookup.
// CHECK-LABEL: gpu.func @qnt_skinny_nf4_g64_f16_f16_m16_n64_k512_c8w8u1t2
// CHECK-SAME: workgroup(%[[TBL:.*]] : memref<16xf32, #gpu.address_space<workgroup>>, %[[PAIRS:.*]] : memref<256xi32, #gpu.address_space<workgroup>>, %{{.*}} : memref<8x16x32xf32, #gpu.address_space<workgroup>>)
// CHECK: memref.load %[[TBL]]
// CHECK: memref.load %[[TBL]]
// CHECK: arith.truncf %{{.*}} : vector<2xf32> to vector<2xf16>
// CHECK: memref.store %{{.*}}, %[[PAIRS]]
// CHECK: gpu.barrier
// CHECK: vector.load %{{.*}} {alignment = 8 : i64} : memref<64x256xi8>, vector<8xi8>
// CHECK: scf.for
// CHECK: memref.load %[[PAIRS]]
// CHECK-COUNT-2: nvvm.mma.sync {{.*}} : (vector<2xf16>, vector<2xf16>, f32)
func.func @skinny_nf4(%x: tensor<16x512xf16>, %c: tensor<64x256xi8>, %s: tensor<64x8xf32>, %i: tensor<16x64xf16>) -> tensor<16x64xf16> {
  %y = qnt.matmul #qnt.scheme<nf4, group = 64, compute = f16> %x : tensor<16x512xf16>, %c : tensor<64x256xi8> scales(%s : tensor<64x8xf32>) outs(%i : tensor<16x64xf16>) -> tensor<16x64xf16>
  return %y : tensor<16x64xf16>
}

// -----

// int8 asymmetric per channel: each code goes through the f32 magic number
// (2^23 + zero point subtracted), pairs are rounded to bf16 with one
// conversion of two values.
// CHECK-LABEL: gpu.func @qnt_skinny_int8_asym_bf16_bf16_m3_n40_k256_c16w4u1
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.ori %{{.*}}, %c1258291200_i32
// CHECK: arith.truncf %{{.*}} : vector<2xf32> to vector<2xbf16>
// CHECK: nvvm.mma.sync
func.func @skinny_int8(%x: tensor<3x256xbf16>, %c: tensor<40x256xi8>, %s: tensor<40x1xf32>, %z: tensor<40x1xi8>, %i: tensor<3x40xbf16>) -> tensor<3x40xbf16> {
  %y = qnt.matmul #qnt.scheme<int8, asymmetric, compute = bf16> %x : tensor<3x256xbf16>, %c : tensor<40x256xi8> scales(%s : tensor<40x1xf32>) zero_points(%z : tensor<40x1xi8>) outs(%i : tensor<3x40xbf16>) -> tensor<3x40xbf16>
  return %y : tensor<3x40xbf16>
}

// -----

// With `wgmma` (sm_90a) 64 rows or more take the warpgroup GEMM: 256 rows of
// M per block from M > 128 on (two m64 tiles per warpgroup), 128 output
// channels, grid x over M and y over N, 4 stages of (256 + 128) rows x 128
// bytes + 1 KiB of dynamic shared memory. Per step of K: the weights two
// steps on are loaded, this step's are dequantized and stored, the
// cp.async group of its activations awaited, the async proxy fenced, the
// block synchronized; 4 x 2 wgmma m64n128k16 per warpgroup, committed; the
// activations two steps on issued; the previous step awaited. Two steps per
// loop iteration (9 steps: 4 iterations and one more step).
// WGMMA-LABEL: func.func @wgmma_tile
// WGMMA: gpu.launch_func @qnt_kernels::@qnt_wgmma_nf4_g64_bf16_bf16_m300_n200_k576_t256 blocks in (%c2{{.*}}, %c2{{.*}}, %c1{{.*}}) threads in (%c256{{.*}}, %c1{{.*}}, %c1{{.*}}) dynamic_shared_memory_size %c197632
// WGMMA: gpu.func @qnt_wgmma_nf4_g64_bf16_bf16_m300_n200_k576_t256
// WGMMA: gpu.dynamic_shared_memory
// WGMMA: nvvm.cp.async.shared.global {{.*}}, 16, cache = cg
// WGMMA: nvvm.cp.async.commit.group
// WGMMA: scf.for %{{.*}} = %c0{{.*}} to %c8{{.*}} step %c2
// WGMMA: vector.load %{{.*}} : memref<200x288xi8>, vector<16xi8>
// WGMMA: arith.truncf %{{.*}} : f32 to bf16
// WGMMA: vector.store %{{.*}} : memref<{{.*}}xi32, #gpu.address_space<workgroup>>, vector<4xi32>
// WGMMA: nvvm.cp.async.wait.group 1
// WGMMA: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// WGMMA: gpu.barrier
// WGMMA: nvvm.wgmma.fence.aligned
// WGMMA-COUNT-8: nvvm.wgmma.mma_async {{.*}} <m = 64, n = 128, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>]
// WGMMA: nvvm.wgmma.commit.group.sync.aligned
// WGMMA: nvvm.cp.async.commit.group
// WGMMA: nvvm.wgmma.wait.group.sync.aligned 1
// WGMMA: scf.yield
// WGMMA-COUNT-8: nvvm.wgmma.mma_async
// WGMMA: nvvm.wgmma.wait.group.sync.aligned 0
// WGMMA: vector.load %{{.*}} : memref<300x200xbf16>, vector<2xbf16>
// WGMMA: vector.store %{{.*}} : memref<300x200xbf16>, vector<2xbf16>
func.func @wgmma_tile(%x: tensor<300x576xbf16>, %c: tensor<200x288xi8>, %s: tensor<200x9xf32>, %i: tensor<300x200xbf16>) -> tensor<300x200xbf16> {
  %y = qnt.matmul #qnt.scheme<nf4, group = 64, compute = bf16> %x : tensor<300x576xbf16>, %c : tensor<200x288xi8> scales(%s : tensor<200x9xf32>) outs(%i : tensor<300x200xbf16>) -> tensor<300x200xbf16>
  return %y : tensor<300x200xbf16>
}
