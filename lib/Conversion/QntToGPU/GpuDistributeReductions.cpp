//===- GpuDistributeReductions.cpp - --qnt-gpu-distribute-reductions ------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A linalg reduction over its innermost loop becomes a kernel that reduces
// each output element with a warp (many rows) or a whole block (few rows):
// the lanes take strided elements of the row, combine them with the body's
// combiner, then reduce across the lanes with shuffles (and, for a block,
// one round through shared memory). The generic lowering instead gives each
// output element one thread that walks the whole row: a norm of one token
// over 4096 values is then 4096 dependent loads in a single thread.
// (IREE's warp-reduction strategy for the same ops.)
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "KernelEmitter.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/IRMapping.h"

#include <limits>

namespace qmlir {
#define GEN_PASS_DEF_QNTGPUDISTRIBUTEREDUCTIONSPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;

namespace {

constexpr int64_t kBlockThreads = 256, kWarp = 32;
/// Fewer rows than this (two per SM of an H100) get a block each.
constexpr int64_t kBlockPerRowBelow = 264;

/// What a reduction generic's body does: yield combiner(acc, x).
struct ReductionBody {
  Operation *combiner = nullptr;
  Value element; // x, computed by the rest of the body
  TypedAttr identity;
};

/// The identity of a supported f32 combiner, or null.
TypedAttr identityOf(Operation *op, Builder &b) {
  float inf = std::numeric_limits<float>::infinity();
  if (isa<arith::AddFOp>(op))
    return b.getF32FloatAttr(0.0f);
  if (isa<arith::MaximumFOp, arith::MaxNumFOp>(op))
    return b.getF32FloatAttr(-inf);
  if (isa<arith::MinimumFOp, arith::MinNumFOp>(op))
    return b.getF32FloatAttr(inf);
  return {};
}

/// Matches a generic on buffers with one f32 output and one reduction loop,
/// the innermost, whose body yields combiner(acc, x) with acc used nowhere
/// else.
std::optional<ReductionBody> matchReduction(linalg::GenericOp op,
                                            Builder &b) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || op.getNumLoops() < 2 ||
      op.getIteratorTypesArray().back() != utils::IteratorType::reduction)
    return std::nullopt;
  for (Value in : op.getDpsInputs())
    if (!isa<MemRefType>(in.getType()) && !in.getType().isIntOrIndexOrFloat())
      return std::nullopt;
  OpOperand *init = op.getDpsInitOperand(0);
  auto outType = dyn_cast<MemRefType>(init->get().getType());
  if (!outType || !outType.getElementType().isF32())
    return std::nullopt;
  BlockArgument acc = op.getMatchingBlockArgument(init);
  auto yield = cast<linalg::YieldOp>(op.getBody()->getTerminator());
  Operation *comb = yield.getValues()[0].getDefiningOp();
  if (!comb || comb->getNumOperands() != 2 || !acc.hasOneUse() ||
      comb->getBlock() != op.getBody())
    return std::nullopt;
  TypedAttr identity = identityOf(comb, b);
  if (!identity)
    return std::nullopt;
  Value x;
  if (comb->getOperand(0) == acc)
    x = comb->getOperand(1);
  else if (comb->getOperand(1) == acc)
    x = comb->getOperand(0);
  else
    return std::nullopt;
  if (!comb->getResult(0).hasOneUse())
    return std::nullopt;
  return ReductionBody{comb, x, identity};
}

class Distributor {
public:
  Distributor(linalg::GenericOp op, ReductionBody body)
      : op(op), body(body), b(op), loc(op.getLoc()) {}

  void run();

private:
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value combine(Value acc, Value x) {
    Operation *c = b.clone(*body.combiner);
    c->setOperands({acc, x});
    return c->getResult(0);
  }
  /// The body's element value at loop indices ivs (inputs loaded through
  /// their indexing maps).
  Value element(ArrayRef<Value> ivs);
  Value load(OpOperand *operand, ArrayRef<Value> ivs);

  linalg::GenericOp op;
  ReductionBody body;
  OpBuilder b;
  Location loc;
};

Value Distributor::load(OpOperand *operand, ArrayRef<Value> ivs) {
  Value v = operand->get();
  if (!isa<MemRefType>(v.getType()))
    return v;
  AffineMap map = op.getMatchingIndexingMap(operand);
  std::optional<SmallVector<Value, 8>> indices =
      affine::expandAffineMap(b, loc, map, ivs);
  return memref::LoadOp::create(b, loc, v, *indices);
}

Value Distributor::element(ArrayRef<Value> ivs) {
  IRMapping mapping;
  for (OpOperand *in : op.getDpsInputOperands())
    mapping.map(op.getMatchingBlockArgument(in), load(in, ivs));
  for (Operation &inner : op.getBody()->without_terminator()) {
    if (&inner == body.combiner)
      continue;
    if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
      mapping.map(index.getResult(), ivs[index.getDim()]);
      continue;
    }
    b.clone(inner, mapping);
  }
  return mapping.lookupOrDefault(body.element);
}

void Distributor::run() {
  SmallVector<Range, 4> ranges =
      cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc);
  int64_t loops = ranges.size(), parallel = loops - 1;
  SmallVector<Value> sizes;
  std::optional<int64_t> staticRows = 1;
  for (const Range &r : ranges) {
    sizes.push_back(getValueOrCreateConstantIndexOp(b, loc, r.size));
    if (sizes.size() <= size_t(parallel)) {
      std::optional<int64_t> s = getConstantIntValue(r.size);
      staticRows = s && staticRows ? std::optional(*staticRows * *s)
                                   : std::nullopt;
    }
  }
  Value rows = idx(1);
  for (int64_t i = 0; i < parallel; ++i)
    rows = arith::MulIOp::create(b, loc, rows, sizes[i]);
  Value length = sizes.back();
  std::optional<int64_t> staticLength = getConstantIntValue(ranges.back().size);
  // A block per row when rows are few and long; otherwise a warp per row.
  int64_t lanes = staticRows && *staticRows < kBlockPerRowBelow &&
                          (!staticLength || *staticLength > 4 * kWarp)
                      ? kBlockThreads
                      : kWarp;
  int64_t rowsPerBlock = kBlockThreads / lanes;
  Value grid = arith::CeilDivUIOp::create(b, loc, rows, idx(rowsPerBlock));
  Value one = idx(1);
  MLIRContext *ctx = b.getContext();
  auto shared = MemRefType::get(
      {kBlockThreads / kWarp}, b.getF32Type(), MemRefLayoutAttrInterface{},
      gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup));
  SmallVector<Type> workgroup;
  if (lanes > kWarp)
    workgroup.push_back(shared);
  auto launch = gpu::LaunchOp::create(b, loc, grid, one, one,
                                      idx(kBlockThreads), one, one, nullptr,
                                      nullptr, {}, workgroup);
  Block &kernel = launch.getBody().front();
  b.setInsertionPointToStart(&kernel);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&kernel);

  Value tid = launch.getThreadIds().x;
  Value row = arith::AddIOp::create(
      b, loc,
      arith::MulIOp::create(b, loc, launch.getBlockIds().x, idx(rowsPerBlock)),
      arith::DivUIOp::create(b, loc, tid, idx(lanes)));
  Value lane = arith::RemUIOp::create(b, loc, tid, idx(lanes));
  // Lanes of a row past the last one read the last row (no divergence
  // around the shuffles and the barrier) and store nothing.
  Value inRange =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, rows);
  Value clamped = arith::MinUIOp::create(
      b, loc, row, arith::SubIOp::create(b, loc, rows, one));
  SmallVector<Value> ivs(loops);
  Value rest = clamped;
  for (int64_t i = parallel - 1; i >= 0; --i) {
    ivs[i] = arith::RemUIOp::create(b, loc, rest, sizes[i]);
    rest = arith::DivUIOp::create(b, loc, rest, sizes[i]);
  }

  Value identity = arith::ConstantOp::create(b, loc, body.identity);
  auto loop = scf::ForOp::create(
      b, loc, lane, length, idx(lanes), ValueRange{identity},
      [&](OpBuilder &nb, Location, Value r, ValueRange acc) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        ivs.back() = r;
        scf::YieldOp::create(b, loc, combine(acc[0], element(ivs)));
      });
  Value acc = qmlir::qnt::warpAllReduce(b, loc, loop.getResult(0),
                                 [&](Value x, Value y) { return combine(x, y); });
  if (lanes > kWarp) {
    // Each warp's sum through shared memory; every thread then combines
    // the warps' sums in the same order.
    Value partials = launch.getWorkgroupAttributions()[0];
    Value warp = arith::DivUIOp::create(b, loc, tid, idx(kWarp));
    Value first = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::RemUIOp::create(b, loc, tid, idx(kWarp)), idx(0));
    scf::IfOp::create(b, loc, first, [&](OpBuilder &nb, Location) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToEnd(nb.getInsertionBlock());
      memref::StoreOp::create(b, loc, acc, partials, ValueRange{warp});
      scf::YieldOp::create(b, loc);
    });
    gpu::BarrierOp::create(b, loc);
    acc = memref::LoadOp::create(b, loc, partials, ValueRange{idx(0)});
    for (int64_t w = 1; w < kBlockThreads / kWarp; ++w)
      acc = combine(acc, memref::LoadOp::create(b, loc, partials,
                                                ValueRange{idx(w)}));
  }
  // Lane 0 of each row: out = combiner(out, row total).
  Value store = arith::AndIOp::create(
      b, loc, inRange,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, idx(0)));
  scf::IfOp::create(b, loc, store, [&](OpBuilder &nb, Location) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(nb.getInsertionBlock());
    ivs.back() = idx(0);
    OpOperand *init = op.getDpsInitOperand(0);
    AffineMap map = op.getMatchingIndexingMap(init);
    std::optional<SmallVector<Value, 8>> indices =
        affine::expandAffineMap(b, loc, map, ivs);
    Value out = init->get();
    Value old = memref::LoadOp::create(b, loc, out, *indices);
    memref::StoreOp::create(b, loc, combine(old, acc), out, *indices);
    scf::YieldOp::create(b, loc);
  });
  op.erase();
}

struct QntGpuDistributeReductionsPass
    : public qmlir::impl::QntGpuDistributeReductionsPassBase<
          QntGpuDistributeReductionsPass> {
  using Base::Base;

  void runOnOperation() override {
    Builder b(&getContext());
    SmallVector<std::pair<linalg::GenericOp, ReductionBody>> work;
    getOperation().walk([&](linalg::GenericOp op) {
      // Host code only: not inside a kernel already.
      if (op->getParentOfType<gpu::LaunchOp>())
        return;
      if (std::optional<ReductionBody> body = matchReduction(op, b))
        work.push_back({op, *body});
    });
    for (auto &[op, body] : work)
      Distributor(op, body).run();
  }
};
} // namespace
