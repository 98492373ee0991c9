//===- InlineAllocaScopes.cpp - --qnt-inline-alloca-scopes ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

namespace qmlir::qnt {
#define GEN_PASS_DEF_QNTINLINEALLOCASCOPESPASS
#include "qmlir/Dialect/Qnt/Transforms/Passes.h.inc"
} // namespace qmlir::qnt

using namespace mlir;

namespace {

/// Whether `op` (or an op nested in it) allocates on the stack: an alloca,
/// or a call to an llvm.func that is not an always-inline body free of
/// allocas (declarations included: unknown).
bool mayAllocate(Operation *op, SymbolTableCollection &symbols) {
  return op
      ->walk([&](Operation *inner) {
        if (isa<memref::AllocaOp, LLVM::AllocaOp>(inner))
          return WalkResult::interrupt();
        auto call = dyn_cast<LLVM::CallOp>(inner);
        if (!call)
          return WalkResult::advance();
        auto callee = symbols.lookupNearestSymbolFrom<LLVM::LLVMFuncOp>(
            call, call.getCalleeAttr());
        bool known =
            callee && !callee.isExternal() && callee.getAlwaysInline() &&
            !callee
                 ->walk([](LLVM::AllocaOp) { return WalkResult::interrupt(); })
                 .wasInterrupted();
        return known ? WalkResult::advance() : WalkResult::interrupt();
      })
      .wasInterrupted();
}

struct QntInlineAllocaScopesPass
    : public qmlir::qnt::impl::QntInlineAllocaScopesPassBase<
          QntInlineAllocaScopesPass> {
  void runOnOperation() override {
    SymbolTableCollection symbols;
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk([&](memref::AllocaScopeOp scope) {
      if (scope.getBodyRegion().hasOneBlock() && !mayAllocate(scope, symbols))
        scopes.push_back(scope);
    });
    IRRewriter rewriter(&getContext());
    for (memref::AllocaScopeOp scope : scopes) {
      Block *body = &scope.getBodyRegion().front();
      Operation *terminator = body->getTerminator();
      SmallVector<Value> results(terminator->getOperands());
      rewriter.eraseOp(terminator);
      rewriter.inlineBlockBefore(body, scope);
      rewriter.replaceOp(scope, results);
    }
  }
};

} // namespace
