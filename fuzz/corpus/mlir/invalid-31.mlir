

func.func @f(%x: tensor<3x16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<2x3x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op expected init of rank 2 to match the input, got 'tensor<2x3x5xf32>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return
}
