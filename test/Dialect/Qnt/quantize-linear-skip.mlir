// RUN: quant-opt %s -split-input-file --qnt-quantize-linear="scheme=nf4 min-size=64 skip=lm_head remarks=true" -verify-diagnostics | FileCheck %s

// Weights smaller than min-size stay float, with a remark saying why.
// CHECK-LABEL: func.func @too_small
// CHECK: linalg.matmul
// CHECK-NOT: qnt.matmul
func.func @too_small(%x: tensor<1x4xf32>, %init: tensor<1x4xf32>) -> tensor<1x4xf32> {
  %w = arith.constant dense<1.0> : tensor<4x4xf32>
  // expected-remark @+1 {{not quantized: weight has 16 elements, fewer than min-size 64}}
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x4xf32>) outs(%init : tensor<1x4xf32>) -> tensor<1x4xf32>
  return %y : tensor<1x4xf32>
}

// -----

// A group size that does not divide K leaves the layer alone.
// CHECK-LABEL: func.func @group_does_not_divide
// CHECK: linalg.matmul
func.func @group_does_not_divide(%x: tensor<1x96xf32>, %init: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<0.5> : tensor<96x2xf32>
  // expected-remark @+1 {{not quantized: group size 64 does not divide K = 96}}
  %y = linalg.matmul ins(%x, %w : tensor<1x96xf32>, tensor<96x2xf32>) outs(%init : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// Activations times activations (no constant weight) is not a linear layer.
// CHECK-LABEL: func.func @no_constant
// CHECK: linalg.matmul
func.func @no_constant(%x: tensor<1x64xf32>, %w: tensor<64x2xf32>, %init: tensor<1x2xf32>) -> tensor<1x2xf32> {
  // expected-remark @+1 {{not quantized: weight is not a constant}}
  %y = linalg.matmul ins(%x, %w : tensor<1x64xf32>, tensor<64x2xf32>) outs(%init : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A batch matmul whose weight really varies along the batch is not shared.
// CHECK-LABEL: func.func @batched_weight
// CHECK: linalg.batch_matmul
func.func @batched_weight(%x: tensor<2x1x64xf32>, %init: tensor<2x1x2xf32>) -> tensor<2x1x2xf32> {
  %w = arith.constant dense<0.5> : tensor<2x64x2xf32>
  // expected-remark @+1 {{not quantized: weight varies along the batch dimension}}
  %y = linalg.batch_matmul ins(%x, %w : tensor<2x1x64xf32>, tensor<2x64x2xf32>) outs(%init : tensor<2x1x2xf32>) -> tensor<2x1x2xf32>
  return %y : tensor<2x1x2xf32>
}

// -----

// An elided weight has no values to quantize.
// CHECK-LABEL: func.func @elided
// CHECK: linalg.matmul
func.func @elided(%x: tensor<1x64xf32>, %init: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense_resource<__elided__> : tensor<64x2xf32>
  // expected-remark @+1 {{not quantized: weight values are not available (elided or not f32/bf16/f16)}}
  %y = linalg.matmul ins(%x, %w : tensor<1x64xf32>, tensor<64x2xf32>) outs(%init : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
