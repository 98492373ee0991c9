func.func @layer(%x: tensor<4x64xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<0.5> : tensor<64x2xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x2xf32>)
                     outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
