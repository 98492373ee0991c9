//===- OuterParallelLoops.cpp - --qnt-outer-parallel-loops ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace qmlir::qnt {
#define GEN_PASS_DEF_QNTOUTERPARALLELLOOPSPASS
#include "qmlir/Dialect/Qnt/Transforms/Passes.h.inc"
} // namespace qmlir::qnt

using namespace mlir;

namespace {

/// scf.parallel (i, j, ...) -> scf.parallel (i) { scf.for j { ... } }.
void splitInnerDimensions(scf::ParallelOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto outer = scf::ParallelOp::create(
      b, loc, op.getLowerBound().take_front(1),
      op.getUpperBound().take_front(1), op.getStep().take_front(1));
  IRMapping mapping;
  mapping.map(op.getInductionVars()[0], outer.getInductionVars()[0]);
  b.setInsertionPointToStart(outer.getBody());
  // Nested scf.for over the remaining dimensions, innermost last.
  for (unsigned d = 1, e = op.getNumLoops(); d < e; ++d) {
    auto loop = scf::ForOp::create(b, loc, op.getLowerBound()[d],
                                   op.getUpperBound()[d], op.getStep()[d]);
    mapping.map(op.getInductionVars()[d], loop.getInductionVar());
    b.setInsertionPointToStart(loop.getBody());
  }
  for (Operation &inner : op.getBody()->without_terminator())
    b.clone(inner, mapping);
  op.erase();
}

struct QntOuterParallelLoopsPass
    : public qmlir::qnt::impl::QntOuterParallelLoopsPassBase<
          QntOuterParallelLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp op) {
      if (op.getNumLoops() > 1 && op.getNumReductions() == 0)
        loops.push_back(op);
    });
    for (scf::ParallelOp op : loops)
      splitInnerDimensions(op);
  }
};

} // namespace
