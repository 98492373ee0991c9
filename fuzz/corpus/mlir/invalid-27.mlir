

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %zp: tensor<4x1xi8>) {
  // expected-error @+1 {{'qnt.dequantize' op expected zero points of type 'tensor<4x2xi8>' (N x groups) for 'int4', got 'tensor<4x1xi8>'}}
  %0 = qnt.dequantize #qnt.scheme<int4, asymmetric, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) zero_points(%zp : tensor<4x1xi8>) -> tensor<4x16xf32>
  return
}
