

func.func @f(%x: tensor<16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op expected input of rank 2 [M, K] or 3 [B, M, K], got 'tensor<16xf32>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<5xf32>) -> tensor<5xf32>
  return
}
