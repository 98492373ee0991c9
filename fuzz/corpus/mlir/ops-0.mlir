
func.func @schemes() attributes {
  a = #qnt.scheme<int8>,
  b = #qnt.scheme<int8, asymmetric>,
  c = #qnt.scheme<int4, group = 128, compute = bf16>,
  d = #qnt.scheme<int4, asymmetric, group = 32, compute = f16>,
  e = #qnt.scheme<nf4, group = 64, double_quant, compute = f32>,
  f = #qnt.scheme<fp4, group = 64>,
  g = #qnt.scheme<nf4, group = 64, codebook = [-1.0, -0.875, -0.75, -0.625, -0.5, -0.375, -0.25, -0.125, 0.0, 0.125, 0.25, 0.375, 0.5, 0.75, 0.875, 1.0]>,
  h = #qnt.scheme<int8, act = int8>,
  i = #qnt.scheme<int8, group = 64, act = int8, outlier_threshold = 6.0>,
  j = #qnt.scheme<int8, outlier_threshold = 0.1, act = int8>
} {
  return
}

func.func @quantize(%w: tensor<8x16xf32>) {
  %c0, %s0 = qnt.quantize #qnt.scheme<int8> %w : tensor<8x16xf32> -> tensor<8x16xi8>, tensor<8x1xf32>
  %c1, %s1, %z1 = qnt.quantize #qnt.scheme<int4, asymmetric, group = 8> %w : tensor<8x16xf32> -> tensor<8x8xi8>, tensor<8x2xf32>, tensor<8x2xi8>
  %c2, %s2, %d2, %o2 = qnt.quantize #qnt.scheme<nf4, group = 4, double_quant> %w : tensor<8x16xf32> -> tensor<8x8xi8>, tensor<8x4xi8>, tensor<1xf32>, tensor<f32>
  return
}

func.func @dequantize(%codes: tensor<4x8xi8>, %s: tensor<4x2xf32>, %zp: tensor<4x2xi8>,
                      %sq: tensor<4x2xi8>, %dqs: tensor<1xf32>, %off: tensor<f32>) {
  %0 = qnt.dequantize #qnt.scheme<fp4, group = 8> %codes : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) -> tensor<4x16xbf16>
  %1 = qnt.dequantize #qnt.scheme<int4, asymmetric, group = 8> %codes : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) zero_points(%zp : tensor<4x2xi8>) -> tensor<4x16xf32>
  %2 = qnt.dequantize #qnt.scheme<nf4, group = 8, double_quant> %codes : tensor<4x8xi8> scales(%sq : tensor<4x2xi8>) dq(%dqs : tensor<1xf32>, %off : tensor<f32>) -> tensor<4x16xf32>
  return
}

func.func @matmul(%x: tensor<3x16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %init: tensor<3x5xf32>,
                  %xb: tensor<2x3x7xbf16>, %c4: tensor<5x4xi8>, %initb: tensor<2x3x5xbf16>) {
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%init : tensor<3x5xf32>) -> tensor<3x5xf32>
  %1 = qnt.matmul #qnt.scheme<nf4, group = 7, compute = bf16> %xb : tensor<2x3x7xbf16>, %c4 : tensor<5x4xi8> scales(%s : tensor<5x1xf32>) outs(%initb : tensor<2x3x5xbf16>) -> tensor<2x3x5xbf16>
  return
}