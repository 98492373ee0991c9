// A tuning value the GPU cannot run is rejected with the reason.
// RUN: quant-opt %s --convert-qnt-to-gpu="warps-per-block=64" -verify-diagnostics

func.func @f(%x: tensor<1x512xf32>, %c: tensor<8x512xi8>, %s: tensor<8x1xf32>, %i: tensor<1x8xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'qnt.matmul' op cannot generate its GPU kernel: warps-per-block must be at most 32 (1024 threads)}}
  %y = qnt.matmul #qnt.scheme<int8> %x : tensor<1x512xf32>, %c : tensor<8x512xi8> scales(%s : tensor<8x1xf32>) outs(%i : tensor<1x8xf32>) -> tensor<1x8xf32>
  return %y : tensor<1x8xf32>
}
