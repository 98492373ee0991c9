

func.func @f(%w: tensor<8x16xf32>) {
  // expected-error @+1 {{'qnt.quantize' op expected codes of type 'tensor<8x8xi8>' (N x ceil(K/2)) for 'int4', got 'tensor<8x16xi8>'}}
  %c, %s = qnt.quantize #qnt.scheme<int4, group = 8> %w : tensor<8x16xf32> -> tensor<8x16xi8>, tensor<8x2xf32>
  return
}
