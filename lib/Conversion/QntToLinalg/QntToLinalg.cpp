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

/// Whether |x| >= threshold (x f32), when there is a threshold (else null).
Value isOutlier(OpBuilder &b, Location loc, Value x, float threshold) {
  if (!(threshold > 0.0f))
    return {};
  return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE,
                               math::AbsFOp::create(b, loc, x),
                               f32Const(b, loc, threshold));
}

/// W8A8 (`act = int8`), numerics::matmulActInt8 step by step on the rows
/// [R, K] of x (a batch collapsed into rows): the inliers' absmax per row,
/// the int8 codes, exact int32 sums per group, their f32 sum scaled per
/// group, then the outliers in f32 (k ascending), then init + that.
Value buildActInt8Matmul(OpBuilder &b, Location loc, MatmulOp op,
                         const WeightOperands &w) {
  MLIRContext *ctx = b.getContext();
  Type f32 = b.getF32Type(), i32 = b.getI32Type();
  float threshold = w.scheme.getThreshold();
  Value x = op.getInput(), init = op.getInit();
  RankedTensorType initType = op.getInit().getType();
  SmallVector<ReassociationIndices> collapse = {{0, 1}, {2}};
  if (initType.getRank() == 3) {
    x = tensor::CollapseShapeOp::create(b, loc, x, collapse);
    init = tensor::CollapseShapeOp::create(b, loc, init, collapse);
  }
  int64_t rows = llvm::cast<RankedTensorType>(x.getType()).getDimSize(0);
  int64_t n = w.n, k = w.k, groups = w.scheme.getNumGroups(k);
  int64_t groupSize = numerics::effectiveGroupSize(k, w.scheme.getGroupSize());
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx),
             d2 = getAffineDimExpr(2, ctx), d3 = getAffineDimExpr(3, ctx);
  auto map = [&](unsigned dims, ArrayRef<AffineExpr> results) {
    return AffineMap::get(dims, 0, results, ctx);
  };
  auto toF32 = [&](OpBuilder &nb, Location nloc, Value v) -> Value {
    return v.getType() == f32 ? v : arith::ExtFOp::create(nb, nloc, f32, v);
  };
  TypedAttr zero = b.getF32FloatAttr(0.0f);

  // The inliers' absmax of each row.
  Value amax =
      linalg::GenericOp::create(
          b, loc, TypeRange{RankedTensorType::get({rows}, f32)}, ValueRange{x},
          ValueRange{filled(b, loc, {rows}, zero)},
          {map(2, {d0, d1}), map(2, {d0})}, iterators(1, 1),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value v = toF32(nb, nloc, args[0]);
            Value a = math::AbsFOp::create(nb, nloc, v);
            if (Value out = isOutlier(nb, nloc, v, threshold))
              a = arith::SelectOp::create(nb, nloc, out,
                                          f32Const(nb, nloc, 0.0f), a);
            linalg::YieldOp::create(
                nb, nloc,
                Value(arith::MaximumFOp::create(nb, nloc, args[1], a)));
          })
          .getResult(0);

  // The codes, clampRound(x * fl(fl(1 / a) * 127)); outliers 0. K is
  // padded with zero codes to whole groups.
  int64_t padded = groups * groupSize;
  Value codes =
      linalg::GenericOp::create(
          b, loc, TypeRange{RankedTensorType::get({rows, k}, i32)},
          ValueRange{x, amax},
          ValueRange{
              tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{rows, k}, i32)},
          {map(2, {d0, d1}), map(2, {d0}), map(2, {d0, d1})}, iterators(2),
          [&](OpBuilder &nb, Location nloc, ValueRange args) {
            Value v = toF32(nb, nloc, args[0]);
            Value inv = arith::MulFOp::create(
                nb, nloc,
                arith::DivFOp::create(nb, nloc, f32Const(nb, nloc, 1.0f),
                                      args[1]),
                f32Const(nb, nloc, 127.0f));
            Value q = clampRound(nb, nloc,
                                 arith::MulFOp::create(nb, nloc, v, inv), -127,
                                 127);
            if (Value out = isOutlier(nb, nloc, v, threshold))
              q = arith::SelectOp::create(
                  nb, nloc, out, arith::ConstantIntOp::create(nb, nloc, i32, 0),
                  q);
            linalg::YieldOp::create(nb, nloc, q);
          })
          .getResult(0);
  Value weights = w.codes;
  if (padded != k) {
    auto pad = [&](Value v, Type t) -> Value {
      int64_t dim0 = llvm::cast<RankedTensorType>(v.getType()).getDimSize(0);
      Value zeros = filled(b, loc, {dim0, padded}, b.getZeroAttr(t));
      return tensor::InsertSliceOp::create(
          b, loc, v, zeros,
          ArrayRef<OpFoldResult>{b.getIndexAttr(0), b.getIndexAttr(0)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(dim0), b.getIndexAttr(k)},
          ArrayRef<OpFoldResult>{b.getIndexAttr(1), b.getIndexAttr(1)});
    };
    codes = pad(codes, i32);
    weights = pad(weights, b.getI8Type());
  }
  SmallVector<ReassociationIndices> split = {{0}, {1, 2}};
  auto grouped = [&](Value v, int64_t dim0, Type t) -> Value {
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({dim0, groups, groupSize}, t), v, split);
  };

  // Exact int32 sums per (row, weight row, group).
  Value sums = linalg::GenericOp::create(
                   b, loc,
                   TypeRange{RankedTensorType::get({rows, n, groups}, i32)},
                   ValueRange{grouped(codes, rows, i32),
                              grouped(weights, n, b.getI8Type())},
                   ValueRange{
                       filled(b, loc, {rows, n, groups}, b.getI32IntegerAttr(0))},
                   {map(4, {d0, d2, d3}), map(4, {d1, d2, d3}),
                    map(4, {d0, d1, d2})},
                   iterators(3, 1),
                   [&](OpBuilder &nb, Location nloc, ValueRange args) {
                     Value wv = arith::ExtSIOp::create(nb, nloc, i32, args[1]);
                     Value prod = arith::MulIOp::create(nb, nloc, args[0], wv);
                     linalg::YieldOp::create(
                         nb, nloc,
                         Value(arith::AddIOp::create(nb, nloc, args[2], prod)));
                   })
                   .getResult(0);

  // acc = sum over groups of float(sum) * (a / 127 * weight scale).
  Value acc = linalg::GenericOp::create(
                  b, loc, TypeRange{RankedTensorType::get({rows, n}, f32)},
                  ValueRange{sums, amax, w.scales},
                  ValueRange{filled(b, loc, {rows, n}, zero)},
                  {map(3, {d0, d1, d2}), map(3, {d0}), map(3, {d1, d2}),
                   map(3, {d0, d1})},
                  iterators(2, 1),
                  [&](OpBuilder &nb, Location nloc, ValueRange args) {
                    Value xs = arith::DivFOp::create(
                        nb, nloc, args[1], f32Const(nb, nloc, 127.0f));
                    Value scale = arith::MulFOp::create(nb, nloc, xs, args[2]);
                    Value sum = arith::SIToFPOp::create(nb, nloc, f32, args[0]);
                    linalg::YieldOp::create(
                        nb, nloc,
                        Value(arith::AddFOp::create(
                            nb, nloc, args[3],
                            arith::MulFOp::create(nb, nloc, sum, scale))));
                  })
                  .getResult(0);

  // The outliers, in f32 with the dequantized weights, k ascending.
  if (threshold > 0.0f)
    acc = linalg::GenericOp::create(
              b, loc, TypeRange{acc.getType()}, ValueRange{x}, ValueRange{acc},
              {map(3, {d0, d2}), map(3, {d0, d1})}, iterators(2, 1),
              [&](OpBuilder &nb, Location nloc, ValueRange args) {
                Value v = toF32(nb, nloc, args[0]);
                Value wv =
                    emitDequantElement(nb, nloc, w, Value(), Value(),
                                       linalg::IndexOp::create(nb, nloc, 1),
                                       linalg::IndexOp::create(nb, nloc, 2));
                Value added = arith::AddFOp::create(
                    nb, nloc, args[1], arith::MulFOp::create(nb, nloc, v, wv));
                linalg::YieldOp::create(
                    nb, nloc,
                    Value(arith::SelectOp::create(
                        nb, nloc, isOutlier(nb, nloc, v, threshold), added,
                        args[1])));
              })
              .getResult(0);

  // init + acc, in init's element type.
  Type outElem = initType.getElementType();
  Value result = elementwise(
      b, loc, {rows, n}, outElem, ValueRange{init, acc},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value sum =
            arith::AddFOp::create(nb, nloc, toF32(nb, nloc, args[0]), args[1]);
        Value v = outElem == f32
                      ? sum
                      : Value(arith::TruncFOp::create(nb, nloc, outElem, sum));
        linalg::YieldOp::create(nb, nloc, v);
      });
  if (initType.getRank() == 3)
    result = tensor::ExpandShapeOp::create(b, loc, initType, result, collapse);
  return result;
}

struct MatmulLowering : public OpRewritePattern<MatmulOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatmulOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type f32 = rewriter.getF32Type();
    Type compute = op.getScheme().getComputeType();
    WeightOperands w = weightOperands(op, op.getN(), op.getK());
    if (op.getScheme().getActInt8()) {
      if (!op.getInput().getType().hasStaticShape() ||
          !op.getInit().getType().hasStaticShape())
        return op.emitOpError("with 'act = int8' needs static shapes");
      rewriter.replaceOp(op, buildActInt8Matmul(rewriter, loc, op, w));
      return success();
    }
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
