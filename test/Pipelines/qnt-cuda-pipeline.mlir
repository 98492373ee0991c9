// The CUDA pipeline end to end on a quantized layer followed by an
// elementwise op: host code that launches the generated kernels (skinny
// tensor-core GEMV, GEMV, GEMM) and the tiled elementwise kernel, and PTX
// that ptxas accepts for sm_80, sm_90 and sm_90a (the wgmma GEMM).
// REQUIRES: ptxas
// RUN: rm -rf %t && mkdir -p %t/sm80 %t/sm90 %t/sm90a
// RUN: quant-opt %s --qnt-cuda-pipeline="chip=sm_80 format=isa" --qnt-dump-gpu-binaries=dir=%t/sm80 -o %t/host.mlir
// RUN: quant-opt %s --qnt-cuda-pipeline="chip=sm_90 format=isa" --qnt-dump-gpu-binaries=dir=%t/sm90 -o /dev/null
// RUN: quant-opt %s --qnt-cuda-pipeline="chip=sm_90a format=isa" --qnt-dump-gpu-binaries=dir=%t/sm90a -o /dev/null
// RUN: %ptxas -arch=sm_90a %t/sm90a/qnt_kernels.sm_90a.ptx -o %t/gemm90a.cubin
// RUN: FileCheck %s --check-prefix=WGMMA < %t/sm90a/qnt_kernels.sm_90a.ptx
// RUN: FileCheck %s --check-prefix=LAUNCHA < %t/sm90a/launches.txt
// RUN: %ptxas -arch=sm_80 %t/sm80/qnt_kernels.sm_80.ptx -o %t/gemv80.cubin
// RUN: %ptxas -arch=sm_90 %t/sm90/qnt_kernels.sm_90.ptx -o %t/gemv90.cubin
// RUN: %ptxas -arch=sm_90 %t/sm90/layer_kernel.sm_90.ptx -o %t/relu90.cubin
// RUN: FileCheck %s --check-prefix=PTX < %t/sm90/qnt_kernels.sm_90.ptx
// RUN: FileCheck %s --check-prefix=MMA < %t/sm80/qnt_kernels.sm_80.ptx
// RUN: FileCheck %s --check-prefix=LAUNCH < %t/sm90/launches.txt
// RUN: FileCheck %s --check-prefix=HOST < %t/host.mlir

// The skinny kernel of @layer (bf16, M = 1): 16-byte loads of codes, the
// activations permuted into the order of the dequantized pairs, packed bf16
// subtraction of the magic + zero point, mma.sync, a bf16 store.
// PTX: .visible .entry qnt_skinny_int4_g128_bf16_bf16_m1_n256_k512_c16w4u1(
// PTX: ld.global.v4.b32
// PTX: prmt.b32
// PTX: add.rn.bf16x2
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX: st.global.b16

// The GEMV of @gemv (f32): 16-byte loads, fma, butterfly shuffles.
// PTX: .visible .entry qnt_gemv_int4_g128_f32_f32_m1_n256_k512_r2w4u1(
// PTX: ld.global.v4.b32
// PTX: fma.rn.f32
// PTX: shfl.sync.bfly.b32

// The tensor-core GEMM of @block (M = 64).
// MMA: .visible .entry qnt_gemm_int8_bf16_bf16_m64_n128_k256_t64(
// MMA: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// MMA: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32

// On sm_90a @block (M = 64) takes the warpgroup GEMM: cp.async of the
// activations, the dequantized weights stored as 16-byte chunks, the async
// proxy fence and barrier, 4 wgmma per 64-wide step of K (one m64 tile per
// warpgroup), the previous step awaited; one block of 2 warpgroups with
// 4 stages x 32 KiB + 1 KiB of dynamic shared memory.
// WGMMA: .visible .entry qnt_wgmma_int8_bf16_bf16_m64_n128_k256_t128(
// WGMMA: cp.async.cg.shared.global
// WGMMA: st.shared.v4.b32
// WGMMA: fence.proxy.async.shared::cta
// WGMMA: bar.sync
// WGMMA: wgmma.fence.sync.aligned
// WGMMA-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// WGMMA: wgmma.commit_group.sync.aligned
// WGMMA: wgmma.wait_group.sync.aligned 1
// LAUNCHA: block qnt_kernels qnt_wgmma_int8_bf16_bf16_m64_n128_k256_t128 1 1 1 256 1 1 132096

// One launch of each kernel with its grid and block: 256 channels / 16 per
// block for the skinny kernel, K split over 4 warps (4 windows of 128);
// 256 elements in one block of 256 threads for the relu.
// LAUNCH-DAG: layer qnt_kernels qnt_skinny_int4_g128_bf16_bf16_m1_n256_k512_c16w4u1 16 1 1 128 1 1 0
// LAUNCH-DAG: layer layer_kernel layer_kernel 1 1 1 256 1 1 0

// The host side calls the quant-mlir runtime ABI with the embedded binary.
// HOST: llvm.func @layer(
// HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @qnt_kernels::@qnt_skinny_int4_g128_bf16_bf16_m1_n256_k512_c16w4u1
// HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @layer_kernel::@layer_kernel
// HOST-DAG: gpu.binary @qnt_kernels
// HOST-DAG: gpu.binary @layer_kernel
#id = affine_map<(m, n) -> (m, n)>
func.func @layer(%x: tensor<1x512xbf16>, %c: tensor<256x256xi8>, %s: tensor<256x4xf32>, %i: tensor<1x256xbf16>) -> tensor<1x256xbf16> {
  %y = qnt.matmul #qnt.scheme<int4, group = 128, compute = bf16> %x : tensor<1x512xbf16>, %c : tensor<256x256xi8> scales(%s : tensor<256x4xf32>) outs(%i : tensor<1x256xbf16>) -> tensor<1x256xbf16>
  %zero = arith.constant 0.0 : bf16
  %r = linalg.generic {indexing_maps = [#id], iterator_types = ["parallel", "parallel"]} outs(%y : tensor<1x256xbf16>) {
  ^bb0(%v: bf16):
    %m = arith.maximumf %v, %zero : bf16
    linalg.yield %m : bf16
  } -> tensor<1x256xbf16>
  return %r : tensor<1x256xbf16>
}

func.func @block(%x: tensor<64x256xbf16>, %c: tensor<128x256xi8>, %s: tensor<128x1xf32>, %i: tensor<64x128xbf16>) -> tensor<64x128xbf16> {
  %y = qnt.matmul #qnt.scheme<int8, compute = bf16> %x : tensor<64x256xbf16>, %c : tensor<128x256xi8> scales(%s : tensor<128x1xf32>) outs(%i : tensor<64x128xbf16>) -> tensor<64x128xbf16>
  return %y : tensor<64x128xbf16>
}

func.func @gemv(%x: tensor<1x512xf32>, %c: tensor<256x256xi8>, %s: tensor<256x4xf32>, %i: tensor<1x256xf32>) -> tensor<1x256xf32> {
  %y = qnt.matmul #qnt.scheme<int4, group = 128> %x : tensor<1x512xf32>, %c : tensor<256x256xi8> scales(%s : tensor<256x4xf32>) outs(%i : tensor<1x256xf32>) -> tensor<1x256xf32>
  return %y : tensor<1x256xf32>
}
