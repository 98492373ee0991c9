//===- QntOps.h - qnt dialect, attributes and operations --------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DIALECT_QNT_IR_QNTOPS_H
#define QMLIR_DIALECT_QNT_IR_QNTOPS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "qmlir/Numerics/Quantize.h"

#include "qmlir/Dialect/Qnt/IR/QntDialect.h.inc"
#include "qmlir/Dialect/Qnt/IR/QntEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "qmlir/Dialect/Qnt/IR/QntAttrs.h.inc"

#define GET_OP_CLASSES
#include "qmlir/Dialect/Qnt/IR/QntOps.h.inc"

namespace qmlir::qnt {

/// Reads the values of a float constant (dense or dense_resource; f32, bf16
/// or f16) in row-major order. Fails for elided or non-float data.
mlir::LogicalResult readFloatConstant(mlir::Attribute value,
                                      std::vector<float> &out);

/// Wraps bytes into a `dense_resource` attribute of the given type (the blob
/// name is uniqued by the builtin resource manager).
mlir::DenseResourceElementsAttr makeResource(mlir::ShapedType type,
                                             llvm::StringRef name,
                                             llvm::ArrayRef<char> bytes);

/// The types of the weight operands of a scheme for an [N, K] weight, in
/// operand order: codes, scales, then the optional zero points, dq scales
/// and dq offset (null when the scheme has none).
struct WeightTypes {
  mlir::RankedTensorType codes, scales, zeroPoints, dqScales, dqOffset;
};
WeightTypes getWeightTypes(SchemeAttr scheme, int64_t n, int64_t k);

/// The constants holding a quantized weight, typed as getWeightTypes says.
struct WeightAttrs {
  mlir::TypedAttr codes, scales, zeroPoints, dqScales, dqOffset;
};
WeightAttrs makeWeightAttrs(SchemeAttr scheme,
                            const numerics::QuantizedWeight &q);

/// A readable name for a generated kernel, unique per scheme, element types
/// and shape (a custom codebook needs a suffix of its own).
std::string kernelName(llvm::StringRef prefix, SchemeAttr scheme,
                       mlir::Type act, mlir::Type out, int64_t m, int64_t n,
                       int64_t k);

} // namespace qmlir::qnt

#endif // QMLIR_DIALECT_QNT_IR_QNTOPS_H
