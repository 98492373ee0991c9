

func.func @f(%x: tensor<3x12xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<3x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op expected codes of type 'tensor<5x12xi8>' (N x K) for 'int8', got 'tensor<5x16xi8>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x12xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<3x5xf32>) -> tensor<3x5xf32>
  return
}