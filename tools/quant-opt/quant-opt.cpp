//===- quant-opt.cpp - mlir-opt with the qnt dialect and passes -----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "qmlir/InitAll.h"

int main(int argc, char **argv) {
  qmlir::registerAllPasses();
  mlir::DialectRegistry registry;
  qmlir::registerAllDialects(registry);
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "quant-mlir optimizer driver\n", registry));
}
