//===- QntToLinalg.h - qnt to linalg reference lowering ---------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOLINALG_QNTTOLINALG_H
#define QMLIR_CONVERSION_QNTTOLINALG_QNTTOLINALG_H

#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/DialectConversion.h"

namespace qmlir {

#define GEN_PASS_DECL_CONVERTQNTTOLINALGPASS
#include "qmlir/Conversion/Passes.h.inc"

/// Adds the patterns that lower every qnt op to linalg/arith/tensor.
void populateQntToLinalgPatterns(mlir::RewritePatternSet &patterns);

/// Adds the runtime lowering of qnt.quantize (non-constant weights) to
/// linalg; part of populateQntToLinalgPatterns.
void populateQntQuantizeToLinalgPatterns(mlir::RewritePatternSet &patterns);

} // namespace qmlir

#endif // QMLIR_CONVERSION_QNTTOLINALG_QNTTOLINALG_H
