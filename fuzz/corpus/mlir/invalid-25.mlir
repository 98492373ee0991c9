

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op scheme #qnt.scheme<int4, asymmetric, group = 8> needs zero points}}
  %0 = qnt.dequantize #qnt.scheme<int4, asymmetric, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) -> tensor<4x16xf32>
  return
}
