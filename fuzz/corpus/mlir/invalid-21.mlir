

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x3xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected scales of type 'tensor<4x2xf32>' (N x groups) for 'nf4', got 'tensor<4x3xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x3xf32>) -> tensor<4x16xf32>
  return
}
