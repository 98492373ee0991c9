// RUN: quant-opt %s -split-input-file --convert-qnt-to-linalg | FileCheck %s

// int8 symmetric: one byte per element, q * scale with the row's scale.
// CHECK-LABEL: func.func @dequant_int8
// CHECK-SAME: (%[[C:.*]]: tensor<4x16xi8>, %[[S:.*]]: tensor<4x1xf32>)
// CHECK-NOT: qnt.
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel"]
// CHECK: %[[N:.*]] = linalg.index 0
// CHECK: %[[K:.*]] = linalg.index 1
// CHECK: %[[Q:.*]] = tensor.extract %[[C]][%[[N]], %[[K]]] : tensor<4x16xi8>
// CHECK: %[[G:.*]] = arith.divui %[[K]], %c16
// CHECK: %[[SC:.*]] = tensor.extract %[[S]][%[[N]], %[[G]]]
// CHECK: %[[QF:.*]] = arith.sitofp %[[Q]] : i8 to f32
// CHECK: %[[V:.*]] = arith.mulf %[[QF]], %[[SC]]
// CHECK: linalg.yield %[[V]]
func.func @dequant_int8(%c: tensor<4x16xi8>, %s: tensor<4x1xf32>) -> tensor<4x16xf32> {
  %0 = qnt.dequantize #qnt.scheme<int8> %c : tensor<4x16xi8> scales(%s : tensor<4x1xf32>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// int4 symmetric: element k sits in byte k/2, high nibble for even k; the
// nibble is sign-extended (shl 4, ashr 4) before scaling; bf16 results are
// truncated from the f32 value.
// CHECK-LABEL: func.func @dequant_int4
// CHECK: %[[K:.*]] = linalg.index 1
// CHECK: %[[B:.*]] = arith.divui %[[K]], %c2
// CHECK: %[[BYTE:.*]] = tensor.extract %{{.*}}[%{{.*}}, %[[B]]] : tensor<4x8xi8>
// CHECK: %[[ODD:.*]] = arith.remui %[[K]], %c2
// CHECK: %[[SH:.*]] = arith.shrui %[[BYTE]]
// CHECK: %[[NIB:.*]] = arith.andi %[[SH]], %c15_i8
// CHECK: arith.divui %[[K]], %c8
// CHECK: %[[HI:.*]] = arith.shli %[[NIB]], %c4_i8
// CHECK: %[[SX:.*]] = arith.shrsi %[[HI]], %c4_i8
// CHECK: arith.sitofp %[[SX]] : i8 to f32
// CHECK: %[[V:.*]] = arith.mulf
// CHECK: %[[T:.*]] = arith.truncf %[[V]] : f32 to bf16
// CHECK: linalg.yield %[[T]]
func.func @dequant_int4(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>) -> tensor<4x16xbf16> {
  %0 = qnt.dequantize #qnt.scheme<int4, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) -> tensor<4x16xbf16>
  return %0 : tensor<4x16xbf16>
}

// -----

// Asymmetric: the code and the zero point are unsigned bytes; (q - zp) is
// formed in i32 before the conversion.
// CHECK-LABEL: func.func @dequant_int4_asym
// CHECK-SAME: %[[ZP:[^:]*]]: tensor<4x2xi8>
// CHECK: %[[Z:.*]] = tensor.extract %[[ZP]]
// CHECK: %[[QW:.*]] = arith.extui %{{.*}} : i8 to i32
// CHECK: %[[ZW:.*]] = arith.extui %[[Z]] : i8 to i32
// CHECK: %[[D:.*]] = arith.subi %[[QW]], %[[ZW]] : i32
// CHECK: arith.sitofp %[[D]] : i32 to f32
func.func @dequant_int4_asym(%c: tensor<4x8xi8>, %s: tensor<4x2xf32>, %zp: tensor<4x2xi8>) -> tensor<4x16xf32> {
  %0 = qnt.dequantize #qnt.scheme<int4, asymmetric, group = 8> %c : tensor<4x8xi8> scales(%s : tensor<4x2xf32>) zero_points(%zp : tensor<4x2xi8>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

// nf4 + double quant, as a matmul in bf16: the NF4 table and the 256-entry
// dynamic map are constants; the absmax is map[code] * block_scale + offset
// with block = (n * groups + g) / 256; the contraction rounds both operands
// to bf16 and accumulates in f32.
// CHECK-LABEL: func.func @matmul_nf4_dq
// CHECK-SAME: (%[[X:[^:]*]]: tensor<2x8xf32>, %[[C:[^:]*]]: tensor<3x4xi8>, %[[S:[^:]*]]: tensor<3x2xi8>, %[[D:[^:]*]]: tensor<1xf32>, %[[O:[^:]*]]: tensor<f32>, %[[I:[^:]*]]: tensor<2x3xf32>)
// CHECK-DAG: %[[NF4:.*]] = arith.constant dense<[-1.000000e+00, -0.6961928, {{.*}}, 0.722956836, 1.000000e+00]> : tensor<16xf32>
// CHECK-DAG: %[[MAP:.*]] = arith.constant dense<"0x{{.*}}"> : tensor<256xf32>
// CHECK: %[[W:.*]] = linalg.generic
// CHECK: %[[SC:.*]] = tensor.extract %[[S]]
// CHECK: %[[MV:.*]] = tensor.extract %[[MAP]]
// CHECK: arith.divui %{{.*}}, %c256
// CHECK: %[[BS:.*]] = tensor.extract %[[D]]
// CHECK: %[[OFF:.*]] = tensor.extract %[[O]][]
// CHECK: %[[M:.*]] = arith.mulf %[[MV]], %[[BS]]
// CHECK: %[[ABSMAX:.*]] = arith.addf %[[M]], %[[OFF]]
// CHECK: %[[TV:.*]] = tensor.extract %[[NF4]]
// CHECK: arith.mulf %[[TV]], %[[ABSMAX]]
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[X]], %[[W]] : tensor<2x8xf32>, tensor<3x8xf32>) outs(%[[I]] : tensor<2x3xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: %[[P:.*]] = arith.mulf
// CHECK: arith.addf %{{.*}}, %[[P]]
func.func @matmul_nf4_dq(%x: tensor<2x8xf32>, %c: tensor<3x4xi8>, %s: tensor<3x2xi8>, %d: tensor<1xf32>, %o: tensor<f32>, %i: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = qnt.matmul #qnt.scheme<nf4, group = 4, double_quant, compute = bf16> %x : tensor<2x8xf32>, %c : tensor<3x4xi8> scales(%s : tensor<3x2xi8>) dq(%d : tensor<1xf32>, %o : tensor<f32>) outs(%i : tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Batched activations share the weight; a bf16 result accumulates in f32 and
// is rounded once at the end.
// CHECK-LABEL: func.func @matmul_batched_bf16
// CHECK: %[[ACC:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<2x3x5xbf16>)
// CHECK: arith.extf
// CHECK: %[[R:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%{{.*}}, %{{.*}} : tensor<2x3x16xbf16>, tensor<5x16xf32>) outs(%[[ACC]] : tensor<2x3x5xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[R]] : tensor<2x3x5xf32>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @matmul_batched_bf16(%x: tensor<2x3x16xbf16>, %c: tensor<5x16xi8>, %s: tensor<5x1xf32>, %i: tensor<2x3x5xbf16>) -> tensor<2x3x5xbf16> {
  %0 = qnt.matmul #qnt.scheme<int8, compute = bf16> %x : tensor<2x3x16xbf16>, %c : tensor<5x16xi8> scales(%s : tensor<5x1xf32>) outs(%i : tensor<2x3x5xbf16>) -> tensor<2x3x5xbf16>
  return %0 : tensor<2x3x5xbf16>
}

// -----

// A quantize of a constant folds at compile time: W = [[1, -2], [0.5, 0.25]]
// gives int8 codes 64, -127, 127, 64 and scales 2/127, 0.5/127.
// CHECK-LABEL: func.func @quantize_constant
// CHECK-NOT: qnt.quantize
// CHECK-DAG: %[[C:.*]] = arith.constant dense_resource<[[CB:.*]]> : tensor<2x2xi8>
// CHECK-DAG: %[[S:.*]] = arith.constant dense_resource<[[SB:.*]]> : tensor<2x1xf32>
// CHECK: return %[[C]], %[[S]]
// CHECK: [[CB]]: "0x1000000040817F40"
// CHECK: [[SB]]: "0x100000000402813C0402813B"
func.func @quantize_constant() -> (tensor<2x2xi8>, tensor<2x1xf32>) {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 0.25]]> : tensor<2x2xf32>
  %c, %s = qnt.quantize #qnt.scheme<int8> %w : tensor<2x2xf32> -> tensor<2x2xi8>, tensor<2x1xf32>
  return %c, %s : tensor<2x2xi8>, tensor<2x1xf32>
}

// -----

// A non-constant weight quantizes at run time: the per-group absmax is a
// reduction over [N, groups, G]; codes come from counting the 15 NF4
// midpoints below each scaled value (the bitsandbytes midpoint rule) and
// mapping that rank to a code; two codes are packed a byte, high nibble first.
// CHECK-LABEL: func.func @quantize_runtime_nf4
// CHECK-SAME: (%[[W:.*]]: tensor<4x16xf32>)
// CHECK: %[[G:.*]] = tensor.expand_shape %[[W]] {{\[}}[0], [1, 2]] output_shape [4, 2, 8]
// CHECK: %[[AMAX:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[G]] : tensor<4x2x8xf32>)
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: %[[UNIT:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<4x16xf32>)
// CHECK: tensor.extract %[[AMAX]]
// CHECK: arith.divf
// CHECK: %[[MIDS:.*]] = arith.constant dense<[-0.84809637, {{.*}}, 0.861478447]> : tensor<15xf32>
// CHECK: %[[RANK:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} ins(%[[UNIT]], %[[MIDS]] : tensor<4x16xf32>, tensor<15xf32>)
// CHECK: arith.cmpf ogt
// CHECK: %[[CODES:.*]] = linalg.generic {{.*}} ins(%[[RANK]] : tensor<4x16xi32>)
// CHECK: %[[PACKED:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x8xi8>)
// CHECK: arith.shli
// CHECK: arith.ori
// CHECK: return %[[PACKED]], %[[AMAX]]
func.func @quantize_runtime_nf4(%w: tensor<4x16xf32>) -> (tensor<4x8xi8>, tensor<4x2xf32>) {
  %c, %s = qnt.quantize #qnt.scheme<nf4, group = 8> %w : tensor<4x16xf32> -> tensor<4x8xi8>, tensor<4x2xf32>
  return %c, %s : tensor<4x8xi8>, tensor<4x2xf32>
}
