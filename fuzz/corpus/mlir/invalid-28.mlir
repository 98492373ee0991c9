

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %d: tensor<1xf32>, %o: tensor<f32>) {
  // expected-error @+1 {{'qnt.dequantize' op unexpected double-quant scales for scheme #qnt.scheme<fp4, group = 8>}}
  %0 = qnt.dequantize #qnt.scheme<fp4, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) dq(%d : tensor<1xf32>, %o : tensor<f32>) -> tensor<4x16xf32>
  return
}
