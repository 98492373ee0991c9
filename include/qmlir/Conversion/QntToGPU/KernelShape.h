//===- KernelShape.h - What a generated matmul kernel computes --*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOGPU_KERNELSHAPE_H
#define QMLIR_CONVERSION_QNTTOGPU_KERNELSHAPE_H

#include "qmlir/Dialect/Qnt/IR/QntOps.h"

namespace qmlir::qnt {

/// The layer a generated kernel computes, out [M, N] += x [M, K] W^T, common
/// to the GEMV and GEMM configurations.
struct KernelShape {
  SchemeAttr scheme;
  int64_t m = 1, n = 0, k = 0;
  mlir::Type actType; ///< Element type of x.
  mlir::Type outType; ///< Element type of init/out.
};

} // namespace qmlir::qnt

#endif // QMLIR_CONVERSION_QNTTOGPU_KERNELSHAPE_H
