//===- QntDialect.cpp - qnt dialect ---------------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/IR/QntOps.h"

using namespace mlir;
using namespace qmlir::qnt;

#include "qmlir/Dialect/Qnt/IR/QntDialect.cpp.inc"

void QntDialect::initialize() {
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "qmlir/Dialect/Qnt/IR/QntOps.cpp.inc"
      >();
}

Operation *QntDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto typed = llvm::dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type)
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}
