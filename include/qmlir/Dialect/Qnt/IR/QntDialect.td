//===- QntDialect.td - The qnt dialect --------------------*- tablegen -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DIALECT_QNT_IR_QNTDIALECT_TD
#define QMLIR_DIALECT_QNT_IR_QNTDIALECT_TD

include "mlir/IR/DialectBase.td"

def Qnt_Dialect : Dialect {
  let name = "qnt";
  let cppNamespace = "::qmlir::qnt";
  let summary = "Weight quantization: int8, int4, nf4 and fp4 linear layers";
  let description = [{
    The `qnt` dialect describes quantized weights and the linear algebra on
    them. A quantized weight is always viewed as `[N, K]` (output channels x
    reduction): its packed codes and its parameters (scales, zero points,
    double-quantization tables) are ordinary SSA tensors, and the scheme that
    interprets them is a typed `#qnt.scheme` attribute.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    /// Registers the attributes (defined in QntAttrs.cpp).
    void registerAttributes();
  }];
  let dependentDialects = ["::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // QMLIR_DIALECT_QNT_IR_QNTDIALECT_TD
