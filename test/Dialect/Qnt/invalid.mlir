// RUN: quant-opt %s -split-input-file -verify-diagnostics

// An unknown scheme name is rejected with the valid ones.
// expected-error @+1 {{unknown quantization scheme 'int3' (expected int8, int4, nf4 or fp4)}}
func.func @f() attributes {s = #qnt.scheme<int3>} { return }

// -----

// expected-error @+1 {{unknown scheme parameter 'blocks' (expected asymmetric, group, double_quant, compute, codebook, act or outlier_threshold)}}
func.func @f() attributes {s = #qnt.scheme<nf4, blocks = 64>} { return }

// -----

// expected-error @+1 {{group size must be >= 0, got -3}}
func.func @f() attributes {s = #qnt.scheme<int4, group = -3>} { return }

// -----

// The table schemes have no zero points.
// expected-error @+1 {{'nf4' is symmetric only (no zero points)}}
func.func @f() attributes {s = #qnt.scheme<nf4, asymmetric>} { return }

// -----

// expected-error @+1 {{double quantization needs 'nf4' or 'fp4', got 'int8'}}
func.func @f() attributes {s = #qnt.scheme<int8, double_quant>} { return }

// -----

// W8A8: symmetric int8 weights, integer compute, a positive threshold.
// expected-error @+1 {{'act = int8' needs symmetric 'int8' weights, got 'nf4'}}
func.func @f() attributes {s = #qnt.scheme<nf4, group = 64, act = int8>} { return }

// -----

// expected-error @+1 {{'act = int8' needs symmetric 'int8' weights, got 'int8' asymmetric}}
func.func @f() attributes {s = #qnt.scheme<int8, asymmetric, act = int8>} { return }

// -----

// expected-error @+1 {{'act = int8' computes in integers; compute type must be f32, got 'bf16'}}
func.func @f() attributes {s = #qnt.scheme<int8, compute = bf16, act = int8>} { return }

// -----

// expected-error @+1 {{'outlier_threshold' needs 'act = int8'}}
func.func @f() attributes {s = #qnt.scheme<int8, outlier_threshold = 6.0>} { return }

// -----

// expected-error @+1 {{'outlier_threshold' must be a positive finite f32, got -1.000000e+00}}
func.func @f() attributes {s = #qnt.scheme<int8, act = int8, outlier_threshold = -1.0>} { return }

// -----

// expected-error @+1 {{unknown activation type 'int4' (expected int8)}}
func.func @f() attributes {s = #qnt.scheme<int8, act = int4>} { return }

// -----

// expected-error @+1 {{compute type must be f32, bf16 or f16, got 'i32'}}
func.func @f() attributes {s = #qnt.scheme<int8, compute = i32>} { return }

// -----

// expected-error @+1 {{a codebook is only valid for 'nf4' or 'fp4'}}
func.func @f() attributes {s = #qnt.scheme<int4, codebook = [0.0, 1.0]>} { return }

// -----

// expected-error @+1 {{codebook must have 16 entries, got 3}}
func.func @f() attributes {s = #qnt.scheme<nf4, codebook = [-1.0, 0.0, 1.0]>} { return }

// -----

// expected-error @+1 {{codebook entries must be finite}}
func.func @f() attributes {s = #qnt.scheme<fp4, codebook = [1.0e39, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]>} { return }

// -----

// Groups must tile K exactly.
func.func @f(%w: tensor<8x100xf32>) {
  // expected-error @+1 {{'qnt.quantize' op group size 64 does not divide K = 100}}
  %c, %s = qnt.quantize #qnt.scheme<nf4, group = 64> %w : tensor<8x100xf32> -> tensor<8x50xi8>, tensor<8x2xf32>
  return
}

// -----

func.func @f(%w: tensor<?x16xf32>) {
  // expected-error @+1 {{'qnt.quantize' op needs static N and K}}
  %c, %s = qnt.quantize #qnt.scheme<int8> %w : tensor<?x16xf32> -> tensor<?x16xi8>, tensor<?x1xf32>
  return
}

// -----

func.func @f(%w: tensor<2x8x16xf32>) {
  // expected-error @+1 {{'qnt.quantize' op expected a rank-2 [N, K] weight, got 'tensor<2x8x16xf32>'}}
  %c, %s = qnt.quantize #qnt.scheme<int8> %w : tensor<2x8x16xf32> -> tensor<8x16xi8>, tensor<8x1xf32>
  return
}

// -----

func.func @f(%w: tensor<8x16xf32>) {
  // expected-error @+1 {{scheme #qnt.scheme<int4, asymmetric, group = 8> produces 3 results, got 2 result types}}
  %c, %s = qnt.quantize #qnt.scheme<int4, asymmetric, group = 8> %w : tensor<8x16xf32> -> tensor<8x8xi8>, tensor<8x2xf32>
  return
}

// -----

// 4-bit codes pack two per byte: [N, ceil(K/2)].
func.func @f(%w: tensor<8x16xf32>) {
  // expected-error @+1 {{'qnt.quantize' op expected codes of type 'tensor<8x8xi8>' (N x ceil(K/2)) for 'int4', got 'tensor<8x16xi8>'}}
  %c, %s = qnt.quantize #qnt.scheme<int4, group = 8> %w : tensor<8x16xf32> -> tensor<8x16xi8>, tensor<8x2xf32>
  return
}

// -----

func.func @f(%c: tensor<4x16xi8>, %s: tensor<4x1xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected codes of type 'tensor<4x8xi8>' (N x K) for 'int8', got 'tensor<4x16xi8>'}}
  %0 = qnt.dequantize #qnt.scheme<int8> %c : tensor<4x16xi8> scales(%s : tensor<4x1xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x3xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected scales of type 'tensor<4x2xf32>' (N x groups) for 'nf4', got 'tensor<4x3xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x3xf32>) -> tensor<4x16xf32>
  return
}

// -----

// Double quantization stores the absmax values as i8 codes.
func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %d: tensor<1xf32>, %o: tensor<f32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected scales of type 'tensor<4x2xi8>' (N x groups) for 'nf4', got 'tensor<4x2xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8, double_quant> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) dq(%d : tensor<1xf32>, %o : tensor<f32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xi8>, %d: tensor<2xf32>, %o: tensor<f32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected double-quant scales of type 'tensor<1xf32>' (ceil(N x groups / 256)) for 'nf4', got 'tensor<2xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8, double_quant> %c : tensor<4x8xi8> scales(%s : tensor<4x2xi8>) dq(%d : tensor<2xf32>, %o : tensor<f32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xi8>) {
  // expected-error @+1 {{'qnt.dequantize' op scheme #qnt.scheme<nf4, group = 8, double_quant> needs double-quant scales}}
  %0 = qnt.dequantize #qnt.scheme<nf4, group = 8, double_quant> %c : tensor<4x8xi8> scales(%s : tensor<4x2xi8>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op scheme #qnt.scheme<int4, asymmetric, group = 8> needs zero points}}
  %0 = qnt.dequantize #qnt.scheme<int4, asymmetric, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %zp: tensor<4x2xi8>) {
  // expected-error @+1 {{'qnt.dequantize' op unexpected zero points for scheme #qnt.scheme<int4, group = 8>}}
  %0 = qnt.dequantize #qnt.scheme<int4, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) zero_points(%zp : tensor<4x2xi8>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %zp: tensor<4x1xi8>) {
  // expected-error @+1 {{'qnt.dequantize' op expected zero points of type 'tensor<4x2xi8>' (N x groups) for 'int4', got 'tensor<4x1xi8>'}}
  %0 = qnt.dequantize #qnt.scheme<int4, asymmetric, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) zero_points(%zp : tensor<4x1xi8>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %d: tensor<1xf32>, %o: tensor<f32>) {
  // expected-error @+1 {{'qnt.dequantize' op unexpected double-quant scales for scheme #qnt.scheme<fp4, group = 8>}}
  %0 = qnt.dequantize #qnt.scheme<fp4, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) dq(%d : tensor<1xf32>, %o : tensor<f32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @f(%c: tensor<16xi8>, %s: tensor<4x2xf32>) {
  // expected-error @+1 {{'qnt.dequantize' op expected a rank-2 [N, K] result, got 'tensor<64xf32>'}}
  %0 = qnt.dequantize #qnt.scheme<int8> %c : tensor<16xi8> scales(%s : tensor<4x2xf32>) -> tensor<64xf32>
  return
}

// -----

func.func @f(%x: tensor<16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op expected input of rank 2 [M, K] or 3 [B, M, K], got 'tensor<16xf32>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<5xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @f(%x: tensor<3x16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<2x3x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op expected init of rank 2 to match the input, got 'tensor<2x3x5xf32>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  return
}

// -----

func.func @f(%x: tensor<3x16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<4x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op input 'tensor<3x16xf32>' and init 'tensor<4x5xf32>' disagree on dimension 0}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<4x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @f(%x: tensor<3x16xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<3x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op result type 'tensor<3x5xbf16>' must match init type 'tensor<3x5xf32>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x16xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<3x5xf32>) -> tensor<3x5xbf16>
  return
}

// -----

// The weight's N comes from init, its K from the input.
func.func @f(%x: tensor<3x12xf32>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<3x5xf32>) {
  // expected-error @+1 {{'qnt.matmul' op expected codes of type 'tensor<5x12xi8>' (N x K) for 'int8', got 'tensor<5x16xi8>'}}
  %0 = qnt.matmul #qnt.scheme<int8> %x : tensor<3x12xf32>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<3x5xf32>) -> tensor<3x5xf32>
  return
}
