

func.func @f(%x: tensor<3x16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<4x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op input 'tensor<3x16xf32>' and init 'tensor<4x5xf32>' disagree on dimension 0}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<4x5xf32>) -> tensor<4x5xf32>
  return
}
