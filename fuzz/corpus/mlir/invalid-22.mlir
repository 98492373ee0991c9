

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %d: tensor<1xf32>, %o: tensor<f32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected scales of type 'tensor<4x2xi8>' (N x groups) for 'nf4', got 'tensor<4x2xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8, double_quant> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) dq(%d : tensor<1xf32>, %o : tensor<f32>) -> tensor<4x16xf32>
  return
}
