// linalg.broadcast with `dimensions =` not followed by an array: MLIR 22's
// parser crashes on it (found by fuzz/mlir-fuzzer); quant-compile reports it.
func.func @f(%w: tensor<2x2xf32>, %e: tensor<4x2x2xf32>) -> tensor<4x2x2xf32> {
  %wb = linalg.broadcast ins(%w : tensor<2x2xf32>) outs(%e : tensor<4x2x2xf32>) dimensions = 5
  return %wb : tensor<4x2x2xf32>
}
