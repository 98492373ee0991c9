//===- InitAll.h - Register quant-mlir's dialects and passes ----*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What quant-opt, the C API and the Python bindings register: every upstream
// dialect, extension and pass, the LLVM IR translations (gpu-module-to-binary
// needs them), the NVVM target, and quant-mlir's qnt dialect, passes and
// pipelines. Header-only, like upstream's InitAllDialects.h; the user links
// QMLIRPipelines and the MLIR libraries.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_INITALL_H
#define QMLIR_INITALL_H

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "qmlir/Conversion/Passes.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"
#include "qmlir/Dialect/Qnt/Transforms/Passes.h"
#include "qmlir/Pipelines/Pipelines.h"

namespace qmlir {

/// quant-mlir's own passes and pipelines (qnt-quantize-linear,
/// convert-qnt-to-linalg, qnt-cpu-pipeline, ...).
inline void registerQmlirPasses() {
  qnt::registerQntTransformsPasses();
  registerQntConversionPasses();
  registerQntPipelines();
}

/// Everything quant-opt knows: upstream's passes and quant-mlir's.
inline void registerAllPasses() {
  mlir::registerAllPasses();
  registerQmlirPasses();
}

/// Every dialect and extension quant-opt loads.
inline void registerAllDialects(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registry.insert<qnt::QntDialect>();
}

} // namespace qmlir

#endif // QMLIR_INITALL_H
