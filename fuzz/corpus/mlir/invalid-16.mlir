

func.func @f(%w: tensor<?x16xf32>) {
  // expected-error @+1 {{'qnt.quantize' op needs static N and K}}
  %c, %s = qnt.quantize #qnt.scheme<int8> %w : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?x1xf32>
  return
}
