//===- QntToLinalg.cpp - qnt to linalg reference lowering -----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Lowers qnt ops to linalg.generic ops on tensors. The dequantization is one
// elementwise generic over [N, K] whose body unpacks a code and applies the
// scheme's formula exactly as the numerics library does (same operation order
// in fp32, so the two agree bit for bit); the matmul contracts with that
// weight in the scheme's compute type, accumulating in f32.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToLinalg/QntToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"

#include "LinalgBuilders.h"

namespace qmlir {
#define GEN_PASS_DEF_CONVERTQNTTOLINALGPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {

/// The SSA values describing one quantized weight.
struct WeightOperands {
  SchemeAttr scheme;
  Value codes, scales, zeroPoints, dqScales, dqOffset;
  int64_t n, k;
};

/// A float constant tensor (tables of the table schemes, the dynamic map).
Value floatTable(OpBuilder &b, Location loc, ArrayRef<float> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    b.getF32Type());
  return arith::ConstantOp::create(b, loc,
                                   DenseElementsAttr::get(type, values));
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// Zero-extends an i8 (read as unsigned) to index.
Value u8ToIndex(OpBuilder &b, Location loc, Value v) {
  Value wide = arith::ExtUIOp::create(b, loc, b.getI32Type(), v);
  return arith::IndexCastUIOp::create(b, loc, b.getIndexType(), wide);
}

/// Emits, inside a generic body, the fp32 value of weight element (n, k).
/// Mirrors numerics::dequantizeElement.
Value emitDequantElement(OpBuilder &b, Location loc, const WeightOperands &w,
                         Value table, Value dynMap, Value n, Value k) {
  SchemeAttr s = w.scheme;
  Type i8 = b.getI8Type(), i32 = b.getI32Type(), f32 = b.getF32Type();
  int64_t groupSize = numerics::effectiveGroupSize(w.k, s.getGroupSize());
  int64_t groups = s.getNumGroups(w.k);

  // The stored code (a byte, or the right nibble of one).
  Value code;
  if (s.getBitsPerCode() == 8) {
    code = tensor::ExtractOp::create(b, loc, w.codes, ValueRange{n, k});
  } else {
    Value c2 = indexConst(b, loc, 2);
    Value byteIdx = arith::DivUIOp::create(b, loc, k, c2);
    Value byte = tensor::ExtractOp::create(b, loc, w.codes,
                                           ValueRange{n, byteIdx});
    // Element 2i sits in the high nibble: shift = 4 * (1 - k % 2).
    Value odd = arith::RemUIOp::create(b, loc, k, c2);
    Value oddI8 = arith::IndexCastUIOp::create(b, loc, i8, odd);
    Value one = arith::ConstantIntOp::create(b, loc, i8, 1);
    Value four = arith::ConstantIntOp::create(b, loc, i8, 4);
    Value shift = arith::MulIOp::create(
        b, loc, arith::SubIOp::create(b, loc, one, oddI8), four);
    Value shifted = arith::ShRUIOp::create(b, loc, byte, shift);
    code = arith::AndIOp::create(b, loc, shifted,
                                 arith::ConstantIntOp::create(b, loc, i8, 15));
  }

  Value group = arith::DivUIOp::create(b, loc, k, indexConst(b, loc, groupSize));

  // The per-group scale (absmax for the table kinds).
  Value scale;
  if (s.getDoubleQuant()) {
    Value sc = tensor::ExtractOp::create(b, loc, w.scales, ValueRange{n, group});
    Value mapped = tensor::ExtractOp::create(b, loc, dynMap,
                                             ValueRange{u8ToIndex(b, loc, sc)});
    Value flat = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, n, indexConst(b, loc, groups)),
        group);
    Value block = arith::DivUIOp::create(
        b, loc, flat, indexConst(b, loc, numerics::kDoubleQuantBlock));
    Value blockScale =
        tensor::ExtractOp::create(b, loc, w.dqScales, ValueRange{block});
    Value offset = tensor::ExtractOp::create(b, loc, w.dqOffset, ValueRange{});
    scale = arith::AddFOp::create(
        b, loc, arith::MulFOp::create(b, loc, mapped, blockScale), offset);
  } else {
    scale = tensor::ExtractOp::create(b, loc, w.scales, ValueRange{n, group});
  }

  // The code's value before scaling.
  Value q;
  if (s.isTable()) {
    q = tensor::ExtractOp::create(b, loc, table,
                                  ValueRange{u8ToIndex(b, loc, code)});
  } else if (!s.getSymmetric()) {
    Value zp = tensor::ExtractOp::create(b, loc, w.zeroPoints,
                                         ValueRange{n, group});
    Value codeWide = arith::ExtUIOp::create(b, loc, i32, code);
    Value zpWide = arith::ExtUIOp::create(b, loc, i32, zp);
    Value diff = arith::SubIOp::create(b, loc, codeWide, zpWide);
    q = arith::SIToFPOp::create(b, loc, f32, diff);
  } else {
    if (s.getBitsPerCode() == 4) {
      // Sign-extend the 4-bit two's complement code.
      Value four = arith::ConstantIntOp::create(b, loc, i8, 4);
      code = arith::ShRSIOp::create(
          b, loc, arith::ShLIOp::create(b, loc, code, four), four);
    }
    q = arith::SIToFPOp::create(b, loc, f32, code);
  }
  return arith::MulFOp::create(b, loc, q, scale);
}

/// Builds the [N, K] dequantized weight in `elemType` as a linalg.generic.
Value buildDequantize(OpBuilder &b, Location loc, const WeightOperands &w,
                      Type elemType) {
  Value table, dynMap;
  if (w.scheme.isTable())
    table = floatTable(b, loc, w.scheme.getTable());
  if (w.scheme.getDoubleQuant()) {
    const auto &map = numerics::dynamicMap();
    dynMap = floatTable(b, loc, ArrayRef<float>(map.data(), map.size()));
  }
  return elementwise(
      b, loc, {w.n, w.k}, elemType, ValueRange{},
      [&](OpBuilder &nb, Location nloc, ValueRange) {
        Value n = linalg::IndexOp::create(nb, nloc, 0);
        Value k = linalg::IndexOp::create(nb, nloc, 1);
        Value v = emitDequantElement(nb, nloc, w, table, dynMap, n, k);
        if (elemType != v.getType())
          v = arith::TruncFOp::create(nb, nloc, elemType, v);
        linalg::YieldOp::create(nb, nloc, v);
      });
}

/// Rounds an f32 value to `compute` and back (identity for f32); extends
/// narrower floats to f32.
Value toComputeThenF32(OpBuilder &b, Location loc, Value v, Type compute) {
  Type f32 = b.getF32Type();
  if (v.getType() != f32)
    v = arith::ExtFOp::create(b, loc, f32, v);
  if (compute != f32)
    v = arith::ExtFOp::create(
        b, loc, f32, arith::TruncFOp::create(b, loc, compute, v).getResult());
  return v;
}

template <typename OpTy>
WeightOperands weightOperands(OpTy op, int64_t n, int64_t k) {
  return {op.getScheme(),     op.getCodes(),    op.getScales(),
          op.getZeroPoints(), op.getDqScales(), op.getDqOffset(),
          n,                  k};
}

struct DequantizeLowering : public OpRewritePattern<DequantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeOp op,
                                PatternRewriter &rewriter) const override {
    auto type = op.getResult().getType();
    WeightOperands w =
        weightOperands(op, type.getDimSize(0), type.getDimSize(1));
    rewriter.replaceOp(op, buildDequantize(rewriter, op.getLoc(), w,
                                           type.getElementType()));
    return success();
  }
};

struct MatmulLowering : public OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    Type compute = op.getScheme().getComputeType();
    WeightOperands w = weightOperands(op, op.getN(), op.getK());
    Value weight = buildDequantize(rewriter, loc, w, f32);

    auto initType = op.getInit().getType();
    bool batched = initType.getRank() == 3;
    MLIRContext *ctx = rewriter.getContext();
    unsigned nd = batched ? 4 : 3;
    // Loop order: [b,] n, m, k: a weight row is reused from cache by every
    // activation row before the next one is read.
    unsigned b0 = batched ? 1 : 0;
    AffineExpr n = getAffineDimExpr(b0, ctx), m = getAffineDimExpr(b0 + 1, ctx),
               k = getAffineDimExpr(b0 + 2, ctx);
    SmallVector<AffineExpr> xs = {m, k}, ws = {n, k}, os = {m, n};
    if (batched) {
      xs.insert(xs.begin(), getAffineDimExpr(0, ctx));
      os.insert(os.begin(), getAffineDimExpr(0, ctx));
    }
    SmallVector<AffineMap> maps = {AffineMap::get(nd, 0, xs, ctx),
                                   AffineMap::get(nd, 0, ws, ctx),
                                   AffineMap::get(nd, 0, os, ctx)};
    SmallVector<utils::IteratorType> iters = iterators(nd - 1, 1);

    // Accumulate in f32 whatever the result type is.
    Value acc = op.getInit();
    Type outElem = initType.getElementType();
    if (outElem != f32)
      acc = castElements(rewriter, loc, acc, f32);
    auto accType = llvm::cast<RankedTensorType>(acc.getType());
    auto contraction = linalg::GenericOp::create(
        rewriter, loc, accType, ValueRange{op.getInput(), weight},
        ValueRange{acc}, maps, iters,
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value x = toComputeThenF32(nb, nloc, args[0], compute);
          Value wv = toComputeThenF32(nb, nloc, args[1], compute);
          auto fm = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
          Value prod = arith::MulFOp::create(nb, nloc, x, wv, fm);
          linalg::YieldOp::create(nb, nloc,
                                  Value(arith::AddFOp::create(nb, nloc, args[2], prod, fm)));
        });
    Value result = contraction.getResult(0);
    if (outElem != f32)
      result = castElements(rewriter, loc, result, outElem);
    rewriter.replaceOp(op, result);
    return success();
  }

  /// Elementwise float cast of a tensor.
  static Value castElements(OpBuilder &b, Location loc, Value v, Type to) {
    auto type = llvm::cast<RankedTensorType>(v.getType());
    return elementwise(
        b, loc, type.getShape(), to, ValueRange{v},
        [&](OpBuilder &nb, Location nloc, ValueRange args) {
          Value x = args[0];
          Value y = to.getIntOrFloatBitWidth() >
                            x.getType().getIntOrFloatBitWidth()
                        ? Value(arith::ExtFOp::create(nb, nloc, to, x))
                        : Value(arith::TruncFOp::create(nb, nloc, to, x));
          linalg::YieldOp::create(nb, nloc, y);
        });
  }
};

/// A quantize of a constant weight folds to constants (the numerics library
/// computes them); any other is lowered by QuantizeLowering.
struct QuantizeFolding : public OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    SmallVector<Value> folded;
    if (failed(rewriter.tryFold(op, folded)) || folded.empty())
      return rewriter.notifyMatchFailure(op, "weight is not a constant");
    rewriter.replaceOp(op, folded);
    return success();
  }
};

struct ConvertQntToLinalgPass
    : public qmlir::impl::ConvertQntToLinalgPassBase<ConvertQntToLinalgPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateQntToLinalgPatterns(patterns);
    ConversionTarget target(getContext());
    target.addIllegalDialect<QntDialect>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void qmlir::populateQntToLinalgPatterns(RewritePatternSet &patterns) {
  patterns.add<DequantizeLowering, MatmulLowering>(patterns.getContext());
  patterns.add<QuantizeFolding>(patterns.getContext(), /*benefit=*/2);
  populateQntQuantizeToLinalgPatterns(patterns);
}
