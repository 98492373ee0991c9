

func.func @f(%c: tensor<16xi8>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected a rank-2 [N, K] result, got 'tensor<64xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<int8> %c : tensor<16xi8> scales(%s : tensor<4x2xf32>) -> tensor<64xf32>
  return
}
