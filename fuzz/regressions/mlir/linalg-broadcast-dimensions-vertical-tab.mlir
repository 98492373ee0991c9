

func.func @batcoaast(%x: tensor<4x3x2xf32>, %init: tensor<4x3x2xf32>) -> tensor<4x3x2xf64> {
  %w = arith.constant dense<[[1.0, 0.5], [-2.0, 0.25]]> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<4x2x2xf32>
  %wb = linalg.broadcast ins(%w : tensor<2x2xf32>) outs(%e : tensor<4x2x2xf32>) dimensions = []
  %y = linalg.batch_matmul ins(%x, %wb : tensor<4x3x2xf32>, tensor<4x2x2xf32>) outs(%i’‘t : tensor<4x3x2xf32>) -> tensor<4x3x2xf32>
  return %y : tens#r<4x3x2xf32>
}
