//===- KernelOperands.h - qnt.matmul operands as kernel buffers -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_KERNELOPERANDS_H
#define QMLIR_CONVERSION_KERNELOPERANDS_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"

namespace qmlir {

/// The buffers a generated matmul kernel takes, in its argument order: x,
/// codes, scales, then the optional zero points, dq scales and dq offset
/// (all read-only), and last `out`, a copy of init that the kernel
/// accumulates into. `input` and `init` may be reshaped views of the op's.
/// An init that is a fill used only by the op is not copied: the fill is
/// redone into the new buffer (a kernel writing a constant instead of a
/// copy of one).
struct KernelOperands {
  llvm::SmallVector<mlir::Value> args;
  mlir::Value out;

  KernelOperands(mlir::OpBuilder &b, mlir::Location loc, qnt::MatmulOp op,
                 mlir::Value input, mlir::Value init) {
    auto buffer = [&](mlir::Value tensor, bool readOnly) -> mlir::Value {
      auto type = llvm::cast<mlir::RankedTensorType>(tensor.getType());
      auto memrefType =
          mlir::MemRefType::get(type.getShape(), type.getElementType());
      return mlir::bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                                     readOnly);
    };
    args = {buffer(input, true), buffer(op.getCodes(), true),
            buffer(op.getScales(), true)};
    for (mlir::Value v :
         {op.getZeroPoints(), op.getDqScales(), op.getDqOffset()})
      if (v)
        args.push_back(buffer(v, true));
    auto type = llvm::cast<mlir::RankedTensorType>(init.getType());
    mlir::Value copy;
    if (auto fill = init.getDefiningOp<mlir::linalg::FillOp>();
        fill && init.hasOneUse() && type.hasStaticShape())
      copy = mlir::linalg::FillOp::create(
                 b, loc, fill.getInputs(),
                 mlir::ValueRange{mlir::bufferization::AllocTensorOp::create(
                     b, loc, type, mlir::ValueRange{})})
                 .getResult(0);
    else
      copy = mlir::bufferization::AllocTensorOp::create(
          b, loc, type, mlir::ValueRange{}, /*copy=*/init);
    out = buffer(copy, false);
    args.push_back(out);
  }

  /// The result as a tensor, once the kernel has run.
  mlir::Value result(mlir::OpBuilder &b, mlir::Location loc) const {
    auto type = mlir::RankedTensorType::get(
        llvm::cast<mlir::MemRefType>(out.getType()).getShape(),
        llvm::cast<mlir::MemRefType>(out.getType()).getElementType());
    return mlir::bufferization::ToTensorOp::create(
        b, loc, type, out, /*restrict=*/true, /*writable=*/true);
  }
};

} // namespace qmlir

#endif // QMLIR_CONVERSION_KERNELOPERANDS_H
