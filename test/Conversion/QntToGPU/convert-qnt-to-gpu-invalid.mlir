// A tuning value the GPU cannot run is rejected with the reason.
// RUN: quant-opt %s -split-input-file --convert-qnt-to-gpu="warps-per-block=64" -verify-diagnostics
// RUN: not quant-opt %s -split-input-file --convert-qnt-to-gpu="skinny-tiles=3" 2>&1 | FileCheck %s --check-prefix=TILES
// RUN: not quant-opt %s -split-input-file --convert-qnt-to-gpu="skinny-tiles=4 skinny-warps=32" 2>&1 | FileCheck %s --check-prefix=SHARED

// TILES: error: 'qnt.matmul' op cannot generate its GPU kernel: skinny-warps must be in [0, 32], skinny-unroll >= 0 and skinny-tiles 0, 1, 2 or 4
// SHARED: error: 'qnt.matmul' op cannot generate its GPU kernel: the partial sums of 32 warps do not fit in 48 KiB of shared memory

func.func @f(%x: tensor<1x512xf32>, %c: tensor<8x512xi8>, %s: tensor<8x1xf32>, %i: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'qnt.matmul' op cannot generate its GPU kernel: warps-per-block must be at most 32 (1024 threads)}}
  %y = qnt.matmul #qnt.scheme<int8> %x : tensor<1x512xf32>, %c : tensor<8x512xi8> scales(%s : tensor<8x1xf32>) outs(%i : tensor<1x8xf32>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}

// -----

// The skinny kernel (bf16, M = 16).
func.func @skinny(%x: tensor<16x4096xbf16>, %c: tensor<256x4096xi8>, %s: tensor<256x1xf32>, %i: tensor<16x256xbf16>) -> tensor<16x256xbf16> {
  %y = qnt.matmul #qnt.scheme<int8, compute = bf16> %x : tensor<16x4096xbf16>, %c : tensor<256x4096xi8> scales(%s : tensor<256x1xf32>) outs(%i : tensor<16x256xbf16>) -> tensor<16x256xbf16>
  return %y : tensor<16x256xbf16>
}

// -----

// W8A8 has no GPU kernel.
func.func @act_int8(%x: tensor<1x512xf32>, %c: tensor<8x512xi8>, %s: tensor<8x1xf32>, %i: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'qnt.matmul' op with 'act = int8' (W8A8) has no GPU kernel; compile it for the cpu target}}
  %y = qnt.matmul #qnt.scheme<int8, act = int8> %x : tensor<1x512xf32>, %c : tensor<8x512xi8> scales(%s : tensor<8x1xf32>) outs(%i : tensor<1x8xf32>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}
