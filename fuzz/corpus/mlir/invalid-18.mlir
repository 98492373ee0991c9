

func.func @f(%w: tensor<8x16xf32>) {
  // expected-error @+1 {{scheme #qnt.scheme<int4, asymmetric, group = 8> produces 3 results, got 2 result types}}
  %c, %s = qnt.quantize #qnt.scheme<int4, asymmetric, group = 8> %w : tensor<8x16xf32> -> tensor<8x8xi8>, tensor<8x2xf32>
  return
}
