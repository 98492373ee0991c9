

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xi8>) {
  // expected-error @+1 {{'qnt.dequantize' op scheme #qnt.scheme<nf4, group = 8, double_quant> needs double-quant scales}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8, double_quant> %c : tensor<4x8xi8> scales(%s : tensor<4x2xi8>) -> tensor<4x16xf32>
  return
}
