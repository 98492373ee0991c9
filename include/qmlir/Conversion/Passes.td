//===- Passes.td - qnt conversion passes ------------------*- tablegen -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_PASSES_TD
#define QMLIR_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertQntToLinalgPass : Pass<"convert-qnt-to-linalg"> {
  let summary = "Lower qnt ops to linalg, arith and tensor (reference lowering)";
  let description = [{
    The reference lowering: `qnt.dequantize` becomes a `linalg.generic` that
    unpacks the codes (table lookups for nf4/fp4, scale and zero point for the
    int kinds, the dynamic map for double-quantized scales); `qnt.matmul`
    becomes that dequantization followed by a contraction in the scheme's
    compute type with f32 accumulation; `qnt.quantize` becomes reductions
    and elementwise generics that compute the same codes as the numerics
    library. It favours obviously-correct IR over speed and serves as the
    numerical reference for the optimised backends.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

#endif // QMLIR_CONVERSION_PASSES_TD
