

func.func @f(%c: tensor<4x16xi8>, %s: tensor<4x1xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected codes of type 'tensor<4x8xi8>' (N x K) for 'int8', got 'tensor<4x16xi8>'}}
  %0 = qnt.dequantize #qnt.scheme<int8> %c : tensor<4x16xi8> scales(%s : tensor<4x1xf32>) -> tensor<4x8xf32>
  return
}
