//===- QuantizeLowering.cpp - qnt.quantize to linalg ----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Runtime quantization of a weight that is not a compile-time constant, in
// linalg on tensors. It computes the same codes as the numerics library: the
// same fp32 operation order, round half to even, the bitsandbytes midpoint
// rule for nf4/fp4 (a count of the sorted midpoints below the value, i.e. a
// bucketize), bitsandbytes' lookup table for the double-quantized absmax,
// and the same double-precision mean.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToLinalg/QntToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"

#include "LinalgBuilders.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {

/// clamp(x * (1 / amax), -1, 1) with NaN -> 0 (numerics::scaleToUnit).
Value scaleToUnit(OpBuilder &b, Location loc, Value x, Value amax) {
  Value inv = arith::DivFOp::create(b, loc, f32Const(b, loc, 1.0f), amax);
  Value s = arith::MulFOp::create(b, loc, x, inv);
  Value isNan = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, s, s);
  s = arith::SelectOp::create(b, loc, isNan, f32Const(b, loc, 0.0f), s);
  s = arith::MaximumFOp::create(b, loc, s, f32Const(b, loc, -1.0f));
  return arith::MinimumFOp::create(b, loc, s, f32Const(b, loc, 1.0f));
}

/// The dynamic-map codes (i8) of a flat [count] tensor quantized in blocks of
/// `block` with their absmax, as numerics::quantizeBlockwiseDynamic:
/// v = clamp(x * (1 / absmax)), then index (int)fma((v + 1) * 0.5, 65535, 0.5)
/// into bitsandbytes' 65536-entry lookup table; an all-zero block keeps
/// code 0.
Value blockwiseDynamicCodes(OpBuilder &b, Location loc, Value x,
                            Value blockAbsmax, int64_t block) {
  auto type = llvm::cast<RankedTensorType>(x.getType());
  const std::vector<uint8_t> &table = numerics::dynamicLookupTable();
  SmallVector<int8_t> lut(table.begin(), table.end());
  auto lutType = RankedTensorType::get({65536}, b.getI8Type());
  Value lutTensor = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(lutType, ArrayRef<int8_t>(lut)));
  return elementwise(
      b, loc, type.getShape(), b.getI8Type(), ValueRange{x},
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value i = linalg::IndexOp::create(nb, nl, 0);
        Value blk = arith::DivUIOp::create(
            nb, nl, i, arith::ConstantIndexOp::create(nb, nl, block));
        Value amax =
            tensor::ExtractOp::create(nb, nl, blockAbsmax, ValueRange{blk});
        Value v = scaleToUnit(nb, nl, a[0], amax);
        Value t = arith::MulFOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, v, f32Const(nb, nl, 1.0f)),
            f32Const(nb, nl, 0.5f));
        Value pos = math::FmaOp::create(nb, nl, t, f32Const(nb, nl, 65535.0f),
                                        f32Const(nb, nl, 0.5f));
        Value idx = arith::FPToSIOp::create(nb, nl, nb.getI32Type(), pos);
        idx = arith::MinSIOp::create(
            nb, nl, idx,
            arith::ConstantIntOp::create(nb, nl, nb.getI32Type(), 65535));
        Value index =
            arith::IndexCastOp::create(nb, nl, nb.getIndexType(), idx);
        Value code =
            tensor::ExtractOp::create(nb, nl, lutTensor, ValueRange{index});
        Value isZero = arith::CmpFOp::create(
            nb, nl, arith::CmpFPredicate::OEQ, amax, f32Const(nb, nl, 0.0f));
        linalg::YieldOp::create(
            nb, nl,
            Value(arith::SelectOp::create(
                nb, nl, isZero,
                arith::ConstantIntOp::create(nb, nl, nb.getI8Type(), 0),
                code)));
      });
}

/// Codes (i8) of `x` (any shape, values in [-1, 1]) in a code book: the
/// number of midpoints strictly below each value indexes the sorted codes,
/// which is the bitsandbytes midpoint rule.
Value bucketize(OpBuilder &b, Location loc, Value x,
                const numerics::Codebook &book) {
  auto type = llvm::cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  ArrayRef<float> mids = book.getMidpoints();
  auto midType = RankedTensorType::get({int64_t(mids.size())}, b.getF32Type());
  Value midTensor =
      arith::ConstantOp::create(b, loc, DenseElementsAttr::get(midType, mids));
  Value count = filled(b, loc, type.getShape(), b.getI32IntegerAttr(0));
  MLIRContext *ctx = b.getContext();
  AffineMap xMap = AffineMap::getMultiDimIdentityMap(rank + 1, ctx)
                       .getMajorSubMap(rank);
  AffineMap midMap = AffineMap::get(rank + 1, 0, getAffineDimExpr(rank, ctx));
  count = linalg::GenericOp::create(
              b, loc, count.getType(), ValueRange{x, midTensor},
              ValueRange{count}, ArrayRef<AffineMap>{xMap, midMap, xMap},
              iterators(rank, 1),
              [&](OpBuilder &nb, Location nl, ValueRange args) {
                Value above = arith::CmpFOp::create(
                    nb, nl, arith::CmpFPredicate::OGT, args[0], args[1]);
                Value inc =
                    arith::ExtUIOp::create(nb, nl, nb.getI32Type(), above);
                linalg::YieldOp::create(
                    nb, nl, Value(arith::AddIOp::create(nb, nl, args[2], inc)));
              })
              .getResult(0);
  SmallVector<int8_t> codes(book.getSortedCodes().begin(),
                            book.getSortedCodes().end());
  auto codeType = RankedTensorType::get({int64_t(codes.size())}, b.getI8Type());
  Value codeTensor = arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(codeType, ArrayRef<int8_t>(codes)));
  return elementwise(b, loc, type.getShape(), b.getI8Type(), ValueRange{count},
                     [&](OpBuilder &nb, Location nl, ValueRange args) {
                       Value idx = arith::IndexCastOp::create(
                           nb, nl, nb.getIndexType(), args[0]);
                       linalg::YieldOp::create(
                           nb, nl,
                           Value(tensor::ExtractOp::create(nb, nl, codeTensor,
                                                           ValueRange{idx})));
                     });
}

/// Yields the i8 code `q` (i32), or 0 when the group's scale is 0 (an
/// all-zero group), as the numerics library stores it.
void yieldCode(OpBuilder &b, Location loc, Value q, Value scale) {
  Value isZero = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OEQ,
                                       scale, f32Const(b, loc, 0.0f));
  q = arith::SelectOp::create(
      b, loc, isZero, arith::ConstantIntOp::create(b, loc, b.getI32Type(), 0),
      q);
  linalg::YieldOp::create(
      b, loc, Value(arith::TruncIOp::create(b, loc, b.getI8Type(), q)));
}

/// Reduces the last dimension of a [.., R] f32 tensor with `combine`,
/// starting from `init` (max |x| when `absolute`).
Value reduceLast(OpBuilder &b, Location loc, Value x, float init,
                 bool absolute,
                 function_ref<Value(OpBuilder &, Location, Value, Value)>
                     combine) {
  auto type = llvm::cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  Value acc = filled(b, loc, type.getShape().drop_back(),
                     b.getF32FloatAttr(init));
  MLIRContext *ctx = b.getContext();
  AffineMap in = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap out = in.getMajorSubMap(rank - 1);
  return linalg::GenericOp::create(
             b, loc, acc.getType(), ValueRange{x}, ValueRange{acc},
             ArrayRef<AffineMap>{in, out}, iterators(rank - 1, 1),
             [&](OpBuilder &nb, Location nl, ValueRange args) {
               Value v = args[0];
               if (absolute)
                 v = math::AbsFOp::create(nb, nl, v);
               linalg::YieldOp::create(nb, nl, combine(nb, nl, args[1], v));
             })
      .getResult(0);
}

Value maxOf(OpBuilder &b, Location loc, Value a, Value v) {
  return arith::MaximumFOp::create(b, loc, a, v);
}
Value minOf(OpBuilder &b, Location loc, Value a, Value v) {
  return arith::MinimumFOp::create(b, loc, a, v);
}

struct QuantizeLowering : public OpRewritePattern<QuantizeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantizeOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SchemeAttr scheme = op.getScheme();
    numerics::Scheme ns = scheme.toNumerics();
    auto wType = op.getWeight().getType();
    int64_t n = wType.getDimSize(0), k = wType.getDimSize(1);
    int64_t groupSize = numerics::effectiveGroupSize(k, ns.groupSize);
    int64_t groups = k / groupSize;
    OpBuilder &b = rewriter;
    Type f32 = b.getF32Type(), i8 = b.getI8Type(), i32 = b.getI32Type();

    Value w = op.getWeight();
    if (wType.getElementType() != f32)
      w = elementwise(b, loc, {n, k}, f32, ValueRange{w},
                      [&](OpBuilder &nb, Location nl, ValueRange a) {
                        linalg::YieldOp::create(
                            nb, nl, Value(arith::ExtFOp::create(nb, nl, f32, a[0])));
                      });
    // [N, K] -> [N, groups, G] for the per-group statistics.
    Value grouped = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({n, groups, groupSize}, f32), w,
        ArrayRef<ReassociationIndices>{{0}, {1, 2}});

    auto groupIdx = [&](OpBuilder &nb, Location nl, Value kIdx) -> Value {
      return arith::DivUIOp::create(
          nb, nl, kIdx, arith::ConstantIndexOp::create(nb, nl, groupSize));
    };

    Value scales, zeroPoints, codes; // codes: one i8 per element, [N, K].
    if (scheme.isTable()) {
      scales = reduceLast(b, loc, grouped, 0.0f, /*absolute=*/true, maxOf);
      Value unit = elementwise(
          b, loc, {n, k}, f32, ValueRange{w},
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value row = linalg::IndexOp::create(nb, nl, 0);
            Value g = groupIdx(nb, nl, linalg::IndexOp::create(nb, nl, 1));
            Value amax = tensor::ExtractOp::create(nb, nl, scales,
                                                   ValueRange{row, g});
            // bitsandbytes: x * fl(1 / max(absmax, 1e-38)), clamped (the
            // op's groups divide K: no partial block).
            Value clamped = arith::MaximumFOp::create(
                nb, nl, amax, f32Const(nb, nl, numerics::kMinAbsmax));
            linalg::YieldOp::create(nb, nl,
                                    scaleToUnit(nb, nl, a[0], clamped));
          });
      numerics::Codebook book(numerics::schemeTable(ns), 16);
      codes = bucketize(b, loc, unit, book);
    } else if (ns.symmetric) {
      bool isInt8 = ns.kind == numerics::Kind::Int8;
      int qmax = isInt8 ? 127 : 7, qmin = isInt8 ? -127 : -8;
      Value amax = reduceLast(b, loc, grouped, 0.0f, /*absolute=*/true, maxOf);
      scales = elementwise(b, loc, {n, groups}, f32, ValueRange{amax},
                           [&](OpBuilder &nb, Location nl, ValueRange a) {
                             linalg::YieldOp::create(
                                 nb, nl,
                                 Value(arith::DivFOp::create(
                                     nb, nl, a[0], f32Const(nb, nl, qmax))));
                           });
      codes = elementwise(
          b, loc, {n, k}, i8, ValueRange{w},
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value row = linalg::IndexOp::create(nb, nl, 0);
            Value g = groupIdx(nb, nl, linalg::IndexOp::create(nb, nl, 1));
            Value am = tensor::ExtractOp::create(nb, nl, amax,
                                                 ValueRange{row, g});
            Value sc = tensor::ExtractOp::create(nb, nl, scales,
                                                 ValueRange{row, g});
            // int8 multiplies by fl(fl(1 / absmax) * 127) (bitsandbytes);
            // int4 divides by the scale, as the numerics library does.
            Value x =
                isInt8
                    ? Value(arith::MulFOp::create(
                          nb, nl, a[0],
                          arith::MulFOp::create(
                              nb, nl,
                              arith::DivFOp::create(
                                  nb, nl, f32Const(nb, nl, 1.0f), am),
                              f32Const(nb, nl, 127.0f))))
                    : Value(arith::DivFOp::create(nb, nl, a[0], sc));
            yieldCode(nb, nl, clampRound(nb, nl, x, qmin, qmax), am);
          });
    } else {
      int levels = ns.kind == numerics::Kind::Int8 ? 255 : 15;
      Value lo = reduceLast(b, loc, grouped, 0.0f, false, minOf);
      Value hi = reduceLast(b, loc, grouped, 0.0f, false, maxOf);
      scales = elementwise(
          b, loc, {n, groups}, f32, ValueRange{lo, hi},
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value range = arith::SubFOp::create(nb, nl, a[1], a[0]);
            linalg::YieldOp::create(
                nb, nl,
                Value(arith::DivFOp::create(nb, nl, range,
                                            f32Const(nb, nl, levels))));
          });
      zeroPoints = elementwise(
          b, loc, {n, groups}, i8, ValueRange{lo, scales},
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value neg = arith::NegFOp::create(nb, nl, a[0]);
            Value zp = clampRound(
                nb, nl, arith::DivFOp::create(nb, nl, neg, a[1]), 0, levels);
            Value positive = arith::CmpFOp::create(
                nb, nl, arith::CmpFPredicate::OGT, a[1], f32Const(nb, nl, 0.0f));
            zp = arith::SelectOp::create(
                nb, nl, positive, zp,
                arith::ConstantIntOp::create(nb, nl, i32, 0));
            linalg::YieldOp::create(nb, nl,
                                    Value(arith::TruncIOp::create(nb, nl, i8, zp)));
          });
      codes = elementwise(
          b, loc, {n, k}, i8, ValueRange{w},
          [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value row = linalg::IndexOp::create(nb, nl, 0);
            Value g = groupIdx(nb, nl, linalg::IndexOp::create(nb, nl, 1));
            Value sc = tensor::ExtractOp::create(nb, nl, scales,
                                                 ValueRange{row, g});
            Value zp8 = tensor::ExtractOp::create(nb, nl, zeroPoints,
                                                  ValueRange{row, g});
            Value zp = arith::UIToFPOp::create(nb, nl, f32, zp8);
            // Round w / scale first, then add the integral zero point.
            Value r = math::RoundEvenOp::create(
                nb, nl, arith::DivFOp::create(nb, nl, a[0], sc));
            yieldCode(nb, nl,
                      clampRound(nb, nl, arith::AddFOp::create(nb, nl, r, zp),
                                 0, levels),
                      sc);
          });
    }

    SmallVector<Value> results = {packCodes(b, loc, codes, scheme, n, k)};
    if (ns.doubleQuant) {
      auto [dqCodes, dqScales, offset] = doubleQuantize(b, loc, scales, n,
                                                        groups);
      results.append({dqCodes});
      if (zeroPoints)
        results.push_back(zeroPoints);
      results.append({dqScales, offset});
    } else {
      results.push_back(scales);
      if (zeroPoints)
        results.push_back(zeroPoints);
    }
    rewriter.replaceOp(op, results);
    return success();
  }

  /// One code per element [N, K] -> the stored codes (4-bit: two a byte,
  /// element 2i in the high nibble, an odd K padded with 0).
  static Value packCodes(OpBuilder &b, Location loc, Value codes,
                         SchemeAttr scheme, int64_t n, int64_t k) {
    if (scheme.getBitsPerCode() == 8)
      return codes;
    int64_t cols = (k + 1) / 2;
    Type i8 = b.getI8Type();
    return elementwise(
        b, loc, {n, cols}, i8, ValueRange{},
        [&](OpBuilder &nb, Location nl, ValueRange) {
          Value row = linalg::IndexOp::create(nb, nl, 0);
          Value col = linalg::IndexOp::create(nb, nl, 1);
          Value two = arith::ConstantIndexOp::create(nb, nl, 2);
          Value even = arith::MulIOp::create(nb, nl, col, two);
          Value odd = arith::AddIOp::create(
              nb, nl, even, arith::ConstantIndexOp::create(nb, nl, 1));
          Value last = arith::ConstantIndexOp::create(nb, nl, k - 1);
          Value hasOdd = arith::CmpIOp::create(nb, nl, arith::CmpIPredicate::ule,
                                               odd, last);
          Value oddIdx = arith::MinUIOp::create(nb, nl, odd, last);
          Value fifteen = arith::ConstantIntOp::create(nb, nl, i8, 15);
          Value hiCode = arith::AndIOp::create(
              nb, nl,
              tensor::ExtractOp::create(nb, nl, codes, ValueRange{row, even}),
              fifteen);
          Value loCode = arith::AndIOp::create(
              nb, nl,
              tensor::ExtractOp::create(nb, nl, codes, ValueRange{row, oddIdx}),
              fifteen);
          loCode = arith::SelectOp::create(
              nb, nl, hasOdd, loCode, arith::ConstantIntOp::create(nb, nl, i8, 0));
          Value hiShifted = arith::ShLIOp::create(
              nb, nl, hiCode, arith::ConstantIntOp::create(nb, nl, i8, 4));
          linalg::YieldOp::create(
              nb, nl, Value(arith::OrIOp::create(nb, nl, hiShifted, loCode)));
        });
  }

  /// bitsandbytes double quantization of the [N, groups] absmax values:
  /// offset = mean (summed in f64), then blocks of 256 of (absmax - offset)
  /// coded in the dynamic map. Returns the i8 codes [N, groups], the block
  /// absmax [ceil(N*groups/256)] and the offset (0-d).
  static std::tuple<Value, Value, Value>
  doubleQuantize(OpBuilder &b, Location loc, Value absmax, int64_t n,
                 int64_t groups) {
    Type f32 = b.getF32Type(), f64 = b.getF64Type();
    int64_t count = n * groups;
    int64_t block = numerics::kDoubleQuantBlock;
    int64_t blocks = (count + block - 1) / block;
    Value flat = tensor::CollapseShapeOp::create(
        b, loc, absmax, ArrayRef<ReassociationIndices>{{0, 1}});

    // offset = f32(sum_f64 / count).
    Value sum = filled(b, loc, {}, b.getF64FloatAttr(0.0));
    MLIRContext *ctx = b.getContext();
    AffineMap id1 = AffineMap::getMultiDimIdentityMap(1, ctx);
    AffineMap scalar = AffineMap::get(1, 0, {}, ctx);
    sum = linalg::GenericOp::create(
              b, loc, sum.getType(), ValueRange{flat}, ValueRange{sum},
              ArrayRef<AffineMap>{id1, scalar}, iterators(0, 1),
              [&](OpBuilder &nb, Location nl, ValueRange a) {
                Value wide = arith::ExtFOp::create(nb, nl, f64, a[0]);
                linalg::YieldOp::create(
                    nb, nl, Value(arith::AddFOp::create(nb, nl, a[1], wide)));
              })
              .getResult(0);
    Value offset = elementwise(
        b, loc, {}, f32, ValueRange{sum},
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          Value mean = arith::DivFOp::create(
              nb, nl, a[0],
              arith::ConstantOp::create(nb, nl, nb.getF64FloatAttr(count)));
          linalg::YieldOp::create(nb, nl,
                                  Value(arith::TruncFOp::create(nb, nl, f32, mean)));
        });
    Value off = tensor::ExtractOp::create(b, loc, offset, ValueRange{});
    Value centered = elementwise(
        b, loc, {count}, f32, ValueRange{flat},
        [&](OpBuilder &nb, Location nl, ValueRange a) {
          linalg::YieldOp::create(nb, nl,
                                  Value(arith::SubFOp::create(nb, nl, a[0], off)));
        });

    // Block absmax over [blocks, 256]; the padding zeros do not change it.
    Value padded = centered;
    if (blocks * block != count) {
      auto padType = RankedTensorType::get({blocks * block}, f32);
      SmallVector<OpFoldResult> low = {b.getIndexAttr(0)},
                                high = {b.getIndexAttr(blocks * block - count)};
      padded = tensor::PadOp::create(b, loc, padType, centered, low, high,
                                     f32Const(b, loc, 0.0f));
    }
    Value byBlock = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({blocks, block}, f32), padded,
        ArrayRef<ReassociationIndices>{{0, 1}});
    Value blockAbsmax =
        reduceLast(b, loc, byBlock, 0.0f, /*absolute=*/true, maxOf);

    Value codes =
        blockwiseDynamicCodes(b, loc, centered, blockAbsmax, block);
    Value codes2d = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({n, groups}, b.getI8Type()), codes,
        ArrayRef<ReassociationIndices>{{0, 1}});
    return {codes2d, blockAbsmax, offset};
  }
};

} // namespace

void qmlir::populateQntQuantizeToLinalgPatterns(RewritePatternSet &patterns) {
  // Constant weights fold first (QuantizeFolding has the higher benefit).
  patterns.add<QuantizeLowering>(patterns.getContext(), /*benefit=*/1);
}
