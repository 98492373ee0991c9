

func.func @nf4_double_quant(%x: tensor<1x4xf32>, %init: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[1.0, 0.5, -0.25], [-2.0, 0.25, 0.125], [0.3, 0.7, -0.9], [0.0, 1.5, 2.5]]> : tensor<4x3xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x3xf32>) outs(%init : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}