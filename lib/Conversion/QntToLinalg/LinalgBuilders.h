//===- LinalgBuilders.h - Small linalg builders of the qnt lowering -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Conversion/QntToLinalg: small builders used by both the
// dequantize/matmul lowering and the runtime quantize lowering.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CONVERSION_QNTTOLINALG_LINALGBUILDERS_H
#define QMLIR_LIB_CONVERSION_QNTTOLINALG_LINALGBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace qmlir::qnt {

using GenericBodyFn =
    llvm::function_ref<void(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

/// `parallel` parallel iterators followed by `reduction` reductions.
inline llvm::SmallVector<mlir::utils::IteratorType>
iterators(unsigned parallel, unsigned reduction = 0) {
  llvm::SmallVector<mlir::utils::IteratorType> it(
      parallel, mlir::utils::IteratorType::parallel);
  it.append(reduction, mlir::utils::IteratorType::reduction);
  return it;
}

/// An elementwise generic over `shape` producing one `elemType` tensor from
/// `ins` (all of that shape).
inline mlir::Value elementwise(mlir::OpBuilder &b, mlir::Location loc,
                               llvm::ArrayRef<int64_t> shape,
                               mlir::Type elemType, mlir::ValueRange ins,
                               GenericBodyFn body) {
  mlir::Value empty = mlir::tensor::EmptyOp::create(b, loc, shape, elemType);
  mlir::AffineMap id = b.getMultiDimIdentityMap(shape.size());
  llvm::SmallVector<mlir::AffineMap> maps(ins.size() + 1, id);
  return mlir::linalg::GenericOp::create(b, loc, empty.getType(), ins,
                                         mlir::ValueRange{empty}, maps,
                                         iterators(shape.size()), body)
      .getResult(0);
}

/// A tensor of `shape` filled with `value`.
inline mlir::Value filled(mlir::OpBuilder &b, mlir::Location loc,
                          llvm::ArrayRef<int64_t> shape,
                          mlir::TypedAttr value) {
  mlir::Value empty =
      mlir::tensor::EmptyOp::create(b, loc, shape, value.getType());
  mlir::Value cst = mlir::arith::ConstantOp::create(b, loc, value);
  return mlir::linalg::FillOp::create(b, loc, cst, empty).getResult(0);
}

inline mlir::Value f32Const(mlir::OpBuilder &b, mlir::Location loc, float v) {
  return mlir::arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
}

/// numerics::clampRound: NaN -> 0, round half to even, clamp to [lo, hi];
/// returns the integer as i32.
inline mlir::Value clampRound(mlir::OpBuilder &b, mlir::Location loc,
                              mlir::Value x, int lo, int hi) {
  using namespace mlir;
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, x, x);
  Value r = math::RoundEvenOp::create(b, loc, x);
  r = arith::SelectOp::create(b, loc, isNan, f32Const(b, loc, 0.0f), r);
  r = arith::MaximumFOp::create(b, loc, r, f32Const(b, loc, float(lo)));
  r = arith::MinimumFOp::create(b, loc, r, f32Const(b, loc, float(hi)));
  return arith::FPToSIOp::create(b, loc, b.getI32Type(), r);
}

} // namespace qmlir::qnt

#endif // QMLIR_LIB_CONVERSION_QNTTOLINALG_LINALGBUILDERS_H
