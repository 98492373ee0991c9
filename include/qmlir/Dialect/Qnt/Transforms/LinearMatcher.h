//===- LinearMatcher.h - Find float linear ops with constant weights -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Shared by --qnt-quantize-linear and --qnt-report: recognises linear layers
// (contractions with one constant weight operand) and the user's selection of
// which layers to quantize with which scheme.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DIALECT_QNT_TRANSFORMS_LINEARMATCHER_H
#define QMLIR_DIALECT_QNT_TRANSFORMS_LINEARMATCHER_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"
#include "llvm/Support/Regex.h"

#include <memory>
#include <string>

namespace qmlir::qnt {

/// A linear op `init + input x W^T` whose weight W ([N, K]) is a constant.
struct LinearMatch {
  mlir::linalg::LinalgOp op;
  /// Activations in [M, K] or [B, M, K] layout, and the accumulator.
  mlir::Value input, init;
  /// The weight constant and the ops between it and the linear op
  /// (transposes, broadcasts), nearest the linear op first.
  mlir::arith::ConstantOp weight;
  llvm::SmallVector<mlir::Operation *> weightChain;
  int64_t n = 0, k = 0;
  /// True when the constant is stored [K, N] (needs a transpose to [N, K]).
  bool constantIsKN = false;

  /// Reads the weight's values as a row-major [N, K] array; fails when the
  /// data is not available (elided resource) or not a float type.
  mlir::LogicalResult readWeightNK(std::vector<float> &out) const;
};

/// Returns the match, or failure with a one-line reason in `whyNot`.
mlir::FailureOr<LinearMatch> matchLinear(mlir::linalg::LinalgOp op,
                                         std::string &whyNot);

/// True for ops that users think of as linear layers (named matmuls and
/// contraction-shaped generics): the ones a skip remark is worth emitting for.
bool looksLinear(mlir::linalg::LinalgOp op);

/// The user's choice of scheme and of the layers to skip.
struct LinearSelection {
  SchemeAttr scheme;
  int64_t minSize = 0;
  std::shared_ptr<llvm::Regex> skip; // Null when nothing is skipped by name.

  /// Returns an empty string when the match is selected, else the reason.
  std::string rejects(const LinearMatch &match) const;
};

/// Builds the selection from pass option values; reports a one-line error
/// naming the option and its valid values at `diagOp` on bad input.
mlir::FailureOr<LinearSelection>
parseSelection(mlir::Operation *diagOp, llvm::StringRef scheme, bool symmetric,
               int64_t groupSize, bool doubleQuant, llvm::StringRef computeType,
               bool actInt8, double outlierThreshold, int64_t minSize,
               llvm::StringRef skip);

} // namespace qmlir::qnt

#endif // QMLIR_DIALECT_QNT_TRANSFORMS_LINEARMATCHER_H
