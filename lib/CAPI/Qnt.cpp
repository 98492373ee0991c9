//===- Qnt.cpp - C API of the qnt dialect and its passes ------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir-c/Qnt.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "qmlir/InitAll.h"

#include <mutex>

MLIR_DEFINE_CAPI_DIALECT_REGISTRATION(Qnt, qnt, qmlir::qnt::QntDialect)

void qmlirRegisterQntPasses(void) {
  static std::once_flag once;
  std::call_once(once, [] { qmlir::registerQmlirPasses(); });
}

void qmlirRegisterAllDialects(MlirDialectRegistry registry) {
  qmlir::registerAllDialects(*unwrap(registry));
}

void qmlirRegisterAllPasses(void) {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    qmlirRegisterQntPasses();
  });
}
