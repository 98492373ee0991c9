

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xi8>, %d: tensor<2xf32>, %o: tensor<f32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected double-quant scales of type 'tensor<1xf32>' (ceil(N x groups / 256)) for 'nf4', got 'tensor<2xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8, double_quant> %c : tensor<4x8xi8> scales(%s : tensor<4x2xi8>) dq(%d : tensor<2xf32>, %o : tensor<f32>) -> tensor<4x16xf32>
  return
}
