//===- Passes.h - qnt transformation passes ---------------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DIALECT_QNT_TRANSFORMS_PASSES_H
#define QMLIR_DIALECT_QNT_TRANSFORMS_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"

namespace qmlir::qnt {

#define GEN_PASS_DECL
#include "qmlir/Dialect/Qnt/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "qmlir/Dialect/Qnt/Transforms/Passes.h.inc"

} // namespace qmlir::qnt

#endif // QMLIR_DIALECT_QNT_TRANSFORMS_PASSES_H
