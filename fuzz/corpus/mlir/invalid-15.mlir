

func.func @f(%w: tensor<8x100xf32>) {
  // expected-error @+1 {{'qnt.quantize' op group size 64 does not divide K = 100}}
  %c, %s = qnt.quantize #qnt.scheme<nf4, group = 64> %w : tensor<8x100xf32> -> tensor<8x50xi8>, tensor<8x2xf32>
  return
}
