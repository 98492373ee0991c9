//===- QuantizeLinear.cpp - --qnt-quantize-linear -------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/Transforms/LinearMatcher.h"
#include "qmlir/Dialect/Qnt/Transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace qmlir::qnt {
#define GEN_PASS_DEF_QNTQUANTIZELINEARPASS
#include "qmlir/Dialect/Qnt/Transforms/Passes.h.inc"
} // namespace qmlir::qnt

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {
struct QntQuantizeLinearPass
    : public qnt::impl::QntQuantizeLinearPassBase<QntQuantizeLinearPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<LinearSelection> sel =
        parseSelection(module, scheme, symmetric, groupSize, doubleQuant,
                       computeType, actInt8, outlierThreshold, minSize, skip);
    if (failed(sel))
      return signalPassFailure();

    SmallVector<linalg::LinalgOp> candidates;
    module.walk([&](linalg::LinalgOp op) {
      if (looksLinear(op))
        candidates.push_back(op);
    });
    for (linalg::LinalgOp op : candidates) {
      std::string why;
      FailureOr<LinearMatch> match = matchLinear(op, why);
      if (succeeded(match))
        why = sel->rejects(*match);
      std::vector<float> weight;
      if (why.empty() && failed(match->readWeightNK(weight)))
        why = "weight values are not available (elided or not f32/bf16/f16)";
      if (!why.empty()) {
        if (emitRemarks)
          op->emitRemark() << "not quantized: " << why;
        continue;
      }
      // NaN / inf would quantize into garbage without a word: refuse.
      int64_t bad = numerics::firstNonFinite(weight.data(), weight.size());
      if (bad >= 0) {
        op->emitError() << "weight holds "
                        << numerics::nonFiniteName(weight[bad])
                        << " at [n, k] = [" << bad / match->k << ", "
                        << bad % match->k << "]; it cannot be quantized";
        return signalPassFailure();
      }
      rewrite(*match, sel->scheme, weight);
    }
  }

  /// Replaces the linear op by a qnt.matmul on constants quantized with the
  /// numerics library, and removes the float weight when nothing else uses
  /// it.
  void rewrite(const LinearMatch &match, SchemeAttr scheme,
               const std::vector<float> &weight) {
    numerics::QuantizedWeight q = numerics::quantize(
        scheme.toNumerics(), weight.data(), match.n, match.k);
    WeightAttrs attrs = makeWeightAttrs(scheme, q);
    OpBuilder b(match.op);
    Location loc = match.op->getLoc();
    auto constant = [&](TypedAttr a) -> Value {
      return a ? arith::ConstantOp::create(b, loc, a).getResult() : Value();
    };
    Value codes = constant(attrs.codes), scales = constant(attrs.scales),
          zp = constant(attrs.zeroPoints), dqs = constant(attrs.dqScales),
          dqo = constant(attrs.dqOffset);
    auto mm = MatmulOp::create(b, loc, match.init.getType(), scheme,
                               match.input, codes, scales, zp, dqs, dqo,
                               match.init);
    match.op->replaceAllUsesWith(mm->getResults());
    match.op->erase();
    // Drop the float weight (and the transposes/broadcasts feeding only it).
    for (Operation *def : match.weightChain)
      if (def->use_empty())
        def->erase();
    if (match.weight->use_empty())
      match.weight->erase();
  }
};
} // namespace
