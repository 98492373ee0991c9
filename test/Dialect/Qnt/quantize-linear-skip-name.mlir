// RUN: quant-opt %s --qnt-quantize-linear="scheme=nf4 skip=lm_head|embed remarks=true" 2>%t.err | FileCheck %s
// RUN: FileCheck %s --check-prefix=REMARK < %t.err

// REMARK: remark: loc("model.lm_head"): not quantized: location loc("model.lm_head") matches the skip pattern
// REMARK-NOT: model.layers.0.mlp

// Layers whose location matches the skip pattern stay float; others do not.
// CHECK-LABEL: func.func @by_name
// CHECK: qnt.matmul <nf4, group = 64>
// CHECK: linalg.matmul
func.func @by_name(%x: tensor<1x64xf32>, %init: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<0.5> : tensor<64x2xf32>
  %a = linalg.matmul ins(%x, %w : tensor<1x64xf32>, tensor<64x2xf32>) outs(%init : tensor<1x2xf32>) -> tensor<1x2xf32> loc("model.layers.0.mlp")
  %b = linalg.matmul ins(%x, %w : tensor<1x64xf32>, tensor<64x2xf32>) outs(%a : tensor<1x2xf32>) -> tensor<1x2xf32> loc("model.lm_head")
  return %b : tensor<1x2xf32>
}

