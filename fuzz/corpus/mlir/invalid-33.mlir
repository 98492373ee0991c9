

func.func @f(%x: tensor<3x16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<3x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op result type 'tensor<3x5xbf16>' must match init type 'tensor<3x5xf32>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<3x5xf32>) -> tensor<3x5xbf16>
  return
}
