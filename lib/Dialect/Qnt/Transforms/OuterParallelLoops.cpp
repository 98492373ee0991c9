//===- OuterParallelLoops.cpp - --qnt-outer-parallel-loops ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"

namespace qmlir::qnt {
#define GEN_PASS_DEF_QNTOUTERPARALLELLOOPSPASS
#include "qmlir/Dialect/Qnt/Transforms/Passes.h.inc"
} // namespace qmlir::qnt

using namespace mlir;

namespace {

/// At b's point: nested scf.for over dimensions `first`.. of `op` (innermost
/// last) around a copy of its body; `mapping` holds the other dimensions'
/// induction variables.
void cloneAsForNest(OpBuilder &b, scf::ParallelOp op, unsigned first,
                    IRMapping &mapping) {
  Location loc = op.getLoc();
  for (unsigned d = first, e = op.getNumLoops(); d < e; ++d) {
    auto loop = scf::ForOp::create(b, loc, op.getLowerBound()[d],
                                   op.getUpperBound()[d], op.getStep()[d]);
    mapping.map(op.getInductionVars()[d], loop.getInductionVar());
    b.setInsertionPointToStart(loop.getBody());
  }
  for (Operation &inner : op.getBody()->without_terminator())
    b.clone(inner, mapping);
}

/// scf.parallel (i, j, ...) -> scf.parallel (i) { scf.for j { ... } }.
void splitInnerDimensions(scf::ParallelOp op) {
  OpBuilder b(op);
  auto outer = scf::ParallelOp::create(
      b, op.getLoc(), op.getLowerBound().take_front(1),
      op.getUpperBound().take_front(1), op.getStep().take_front(1));
  IRMapping mapping;
  mapping.map(op.getInductionVars()[0], outer.getInductionVars()[0]);
  b.setInsertionPointToStart(outer.getBody());
  cloneAsForNest(b, op, 1, mapping);
  op.erase();
}

/// (ub - lb) ceildiv step of a loop dimension, at the builder's point.
Value tripCount(OpBuilder &b, Location loc, Value lb, Value ub, Value step) {
  Value span = arith::SubIOp::create(b, loc, ub, lb);
  return arith::CeilDivUIOp::create(b, loc, span, step);
}

/// The iterations of `op` times those of the scf.for loops that enclose
/// the rest of its body one inside the other (the inner dimensions split
/// off, a reduction), computed before `op`; null if a bound is defined
/// inside the loop.
Value loopNestWork(OpBuilder &b, scf::ParallelOp op) {
  Location loc = op.getLoc();
  auto outside = [&](Value v) {
    return !op->isAncestor(v.getParentBlock()->getParentOp());
  };
  Value work = arith::ConstantIndexOp::create(b, loc, 1);
  for (unsigned d = 0; d < op.getNumLoops(); ++d)
    work = arith::MulIOp::create(
        b, loc, work,
        tripCount(b, loc, op.getLowerBound()[d], op.getUpperBound()[d],
                  op.getStep()[d]));
  Block *body = op.getBody();
  while (true) {
    scf::ForOp inner;
    for (Operation &nested : body->without_terminator())
      if (auto loop = dyn_cast<scf::ForOp>(nested)) {
        inner = loop;
        break;
      }
    if (!inner)
      return work;
    if (!outside(inner.getLowerBound()) || !outside(inner.getUpperBound()) ||
        !outside(inner.getStep()))
      return {};
    work = arith::MulIOp::create(
        b, loc, work,
        tripCount(b, loc, inner.getLowerBound(), inner.getUpperBound(),
                  inner.getStep()));
    body = inner.getBody();
  }
}

/// Runs `op` on one thread when its loop nest has fewer than `minWork`
/// iterations: scf.if (work < minWork) { sequential copy } else { op }.
void serializeIfSmall(scf::ParallelOp op, int64_t minWork) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value work = loopNestWork(b, op);
  if (!work)
    return;
  Value small = arith::CmpIOp::create(
      b, loc, arith::CmpIPredicate::ult, work,
      arith::ConstantIndexOp::create(b, loc, minWork));
  auto branch = scf::IfOp::create(b, loc, small, /*withElseRegion=*/true);
  op->moveBefore(branch.elseBlock()->getTerminator());
  // The same loop nest with scf.for for each parallel dimension.
  b.setInsertionPoint(branch.thenBlock()->getTerminator());
  IRMapping mapping;
  cloneAsForNest(b, op, 0, mapping);
}

struct QntOuterParallelLoopsPass
    : public qmlir::qnt::impl::QntOuterParallelLoopsPassBase<
          QntOuterParallelLoopsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp op) {
      if (op.getNumLoops() > 1 && op.getNumReductions() == 0)
        loops.push_back(op);
    });
    for (scf::ParallelOp op : loops)
      splitInnerDimensions(op);
    // Small loops of public functions (generated kernels, private, split
    // their own work) on one thread.
    if (minParallelWork <= 0 || getOperation().isPrivate())
      return;
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp op) {
      if (op.getNumReductions() == 0 &&
          !op->getParentOfType<scf::ParallelOp>())
        outermost.push_back(op);
    });
    for (scf::ParallelOp op : outermost)
      serializeIfSmall(op, minParallelWork);
  }
};

} // namespace
