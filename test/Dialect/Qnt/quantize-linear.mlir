// RUN: quant-opt %s -split-input-file --qnt-quantize-linear="scheme=int8" | FileCheck %s
// RUN: quant-opt %s -split-input-file --qnt-quantize-linear="scheme=nf4 group-size=2 double-quant=true" | FileCheck %s --check-prefix=NF4

// A [K, N] weight becomes int8 codes [N, K] and per-channel scales; the float
// constant is gone. W^T = [[1, -2], [0.5, 0.25]]: row 0 has absmax 2 and
// q = round(1 * 127/2) = 64 (63.5 ties to even), -127; row 1 has absmax 0.5
// and q = 127, round(63.5) = 64. Scales are 2/127 and 0.5/127 (f32).
// CHECK-LABEL: func.func @matmul_kn
// CHECK-SAME: (%[[X:.*]]: tensor<3x2xf32>, %[[INIT:.*]]: tensor<3x2xf32>)
// CHECK-NOT: dense<
// CHECK-DAG: %[[CODES:.*]] = arith.constant dense_resource<[[CODES_BLOB:.*]]> : tensor<2x2xi8>
// CHECK-DAG: %[[SCALES:.*]] = arith.constant dense_resource<[[SCALES_BLOB:.*]]> : tensor<2x1xf32>
// CHECK: %[[Y:.*]] = qnt.matmul <int8> %[[X]] : tensor<3x2xf32>, %[[CODES]] : tensor<2x2xi8> scales(%[[SCALES]] : tensor<2x1xf32>) outs(%[[INIT]] : tensor<3x2xf32>) -> tensor<3x2xf32>
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y]]
// CHECK: [[CODES_BLOB]]: "0x1000000040817F40"
// CHECK: [[SCALES_BLOB]]: "0x100000000402813C0402813B"
func.func @matmul_kn(%x: tensor<3x2xf32>, %init: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 0.5], [-2.0, 0.25]]> : tensor<2x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x2xf32>) outs(%init : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// The same weight stored [N, K] and fed through linalg.transpose gives the
// same codes; the transpose disappears with the constant.
// CHECK-LABEL: func.func @matmul_transpose
// CHECK-NOT: linalg.transpose
// CHECK: qnt.matmul <int8> %{{.*}} : tensor<3x2xf32>, %{{.*}} : tensor<2x2xi8> scales(%{{.*}} : tensor<2x1xf32>)
// CHECK: "0x1000000040817F40"
func.func @matmul_transpose(%x: tensor<3x2xf32>, %init: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 0.25]]> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %wt = linalg.transpose ins(%w : tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) permutation = [1, 0]
  %y = linalg.matmul ins(%x, %wt : tensor<3x2xf32>, tensor<2x2xf32>) outs(%init : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A transposed-B matmul through indexing maps reads the weight as [N, K].
// CHECK-LABEL: func.func @matmul_transpose_b
// CHECK: qnt.matmul <int8> %{{.*}} : tensor<3x2xf32>, %{{.*}} : tensor<2x2xi8> scales(%{{.*}} : tensor<2x1xf32>) outs(%{{.*}} : tensor<3x2xf32>)
// CHECK: "0x1000000040817F40"
func.func @matmul_transpose_b(%x: tensor<3x2xf32>, %init: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 0.25]]> : tensor<2x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<3x2xf32>, tensor<2x2xf32>) outs(%init : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A batch matmul whose weight is a broadcast constant shares one quantized
// weight across the batch.
// CHECK-LABEL: func.func @batch_matmul_broadcast
// CHECK-NOT: linalg.broadcast
// CHECK: qnt.matmul <int8> %{{.*}} : tensor<4x3x2xf32>, %{{.*}} : tensor<2x2xi8> scales(%{{.*}} : tensor<2x1xf32>) outs(%{{.*}} : tensor<4x3x2xf32>) -> tensor<4x3x2xf32>
// CHECK: "0x1000000040817F40"
func.func @batch_matmul_broadcast(%x: tensor<4x3x2xf32>, %init: tensor<4x3x2xf32>) -> tensor<4x3x2xf32> {
  %w = arith.constant dense<[[1.0, 0.5], [-2.0, 0.25]]> : tensor<2x2xf32>
  %e = tensor.empty() : tensor<4x2x2xf32>
  %wb = linalg.broadcast ins(%w : tensor<2x2xf32>) outs(%e : tensor<4x2x2xf32>) dimensions = [0]
  %y = linalg.batch_matmul ins(%x, %wb : tensor<4x3x2xf32>, tensor<4x2x2xf32>) outs(%init : tensor<4x3x2xf32>) -> tensor<4x3x2xf32>
  return %y : tensor<4x3x2xf32>
}

// -----

// A matmul-shaped generic with the weight indexed (n, k).
// CHECK-LABEL: func.func @generic_nk
// CHECK-NOT: linalg.generic
// CHECK: qnt.matmul <int8> %{{.*}} : tensor<3x2xf32>, %{{.*}} : tensor<2x2xi8>
// CHECK: "0x1000000040817F40"
func.func @generic_nk(%x: tensor<3x2xf32>, %init: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 0.25]]> : tensor<2x2xf32>
  %y = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}
       ins(%x, %w : tensor<3x2xf32>, tensor<2x2xf32>) outs(%init : tensor<3x2xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// nf4 with double quantization: 4-bit codes [N, K/2], i8 absmax codes, one
// 256-block of dq scales and the offset.
// NF4-LABEL: func.func @nf4_double_quant
// NF4-DAG: %[[C:.*]] = arith.constant dense_resource<{{.*}}> : tensor<3x2xi8>
// NF4-DAG: %[[S:.*]] = arith.constant dense_resource<{{.*}}> : tensor<3x2xi8>
// NF4-DAG: %[[D:.*]] = arith.constant dense_resource<{{.*}}> : tensor<1xf32>
// NF4-DAG: %[[O:.*]] = arith.constant dense<{{.*}}> : tensor<f32>
// NF4: qnt.matmul <nf4, group = 2, double_quant> %{{.*}} : tensor<1x4xf32>, %[[C]] : tensor<3x2xi8> scales(%[[S]] : tensor<3x2xi8>) dq(%[[D]] : tensor<1xf32>, %[[O]] : tensor<f32>) outs(%{{.*}} : tensor<1x3xf32>)
func.func @nf4_double_quant(%x: tensor<1x4xf32>, %init: tensor<1x3xf32>) -> tensor<1x3xf32> {
  %w = arith.constant dense<[[1.0, 0.5, -0.25], [-2.0, 0.25, 0.125], [0.3, 0.7, -0.9], [0.0, 1.5, 2.5]]> : tensor<4x3xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x3xf32>) outs(%init : tensor<1x3xf32>) -> tensor<1x3xf32>
  return %y : tensor<1x3xf32>
}
