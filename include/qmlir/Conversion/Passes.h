//===- Passes.h - qnt conversion passes -------------------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_PASSES_H
#define QMLIR_CONVERSION_PASSES_H

#include "qmlir/Conversion/QntToCPU/QntToCPU.h"
#include "qmlir/Conversion/QntToGPU/QntToGPU.h"
#include "qmlir/Conversion/QntToLinalg/QntToLinalg.h"

namespace qmlir {

#define GEN_PASS_REGISTRATION
#include "qmlir/Conversion/Passes.h.inc"

} // namespace qmlir

#endif // QMLIR_CONVERSION_PASSES_H
