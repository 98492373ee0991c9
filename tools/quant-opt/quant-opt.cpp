//===- quant-opt.cpp - mlir-opt with the qnt dialect and passes -----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "qmlir/Conversion/Passes.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"
#include "qmlir/Dialect/Qnt/Transforms/Passes.h"
#include "qmlir/Pipelines/Pipelines.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  qmlir::qnt::registerQntTransformsPasses();
  qmlir::registerQntConversionPasses();
  qmlir::registerQntPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  // gpu-module-to-binary translates device code and serializes for NVVM.
  mlir::registerAllToLLVMIRTranslations(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registry.insert<qmlir::qnt::QntDialect>();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "quant-mlir optimizer driver\n", registry));
}
