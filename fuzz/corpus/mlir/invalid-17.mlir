

func.func @f(%w: tensor<2x8x16xf32>) {
  // expected-error @+1 {{'qnt.quantize' op expected a rank-2 [N, K] weight, got 'tensor<2x8x16xf32>'}}
  %c, %s = qnt.quantize #qnt.scheme<int8> %w : tensor<2x8x16xf32> -> tensor<8x16xi8>, tensor<8x1xf32>
  return
}
