//===- LinalgBuilders.h - Small linalg builders of the qnt lowering -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Conversion/QntToLinalg: elementwise generics used by both
// the dequantize/matmul lowering and the runtime quantize lowering.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CONVERSION_QNTTOLINALG_LINALGBUILDERS_H
#define QMLIR_LIB_CONVERSION_QNTTOLINALG_LINALGBUILDERS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
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

} // namespace qmlir::qnt

#endif // QMLIR_LIB_CONVERSION_QNTTOLINALG_LINALGBUILDERS_H
