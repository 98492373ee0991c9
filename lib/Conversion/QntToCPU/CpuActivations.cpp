//===- CpuActivations.cpp - Activation quantization -----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The integer path's activations per block of K (14 bits) and W8A8's per
// row (int8, with LLM.int8 outliers listed apart).
//
//===----------------------------------------------------------------------===//

#include "CpuKernelEmitter.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;
using namespace qmlir::qnt::cpu;

/// xq [M, chunks * 32 (+ kRowPad for the tiles)] and xs [M, blocks]: each
/// block of each activation row scaled to +-kActivationMax and rounded;
/// each chunk in intOrder, the order of intWeights' lanes.
void CpuKernelEmitter::quantizeActivations() {
  xq = alloc(m, chunks * kChunk + (m > kCpuGemvMaxRows ? kRowPad : 0), i16);
  xs = alloc(m, blocks, f32);
  Value limit = f32Scalar(numerics::kActivationMax);
  Value tiny = f32Scalar(numerics::kActivationTiny), zero = f32Scalar(0.0f);
  forLoop(idx(0), idx(m), 1, {}, [&](Value i, ValueRange) {
    forLoop(idx(0), idx(blocks), 1, {}, [&](Value block, ValueRange) {
      Value begin = mul(block, blockChunks);
      Value end = minIdx(add(begin, idx(blockChunks)), idx(chunks));
      auto load = [&](Value c) {
        return loadX(i, mul(c, kChunk), hasTail(), kChunk);
      };
      Value amax =
          forLoop(begin, end, 1, {zeroVector(kChunk)},
                  [&](Value c, ValueRange in) -> SmallVector<Value> {
                    return {arith::MaximumFOp::create(
                        b, loc, in[0], math::AbsFOp::create(b, loc, load(c)))};
                  })[0];
      amax = vector::ReductionOp::create(b, loc,
                                         vector::CombiningKind::MAXIMUMF, amax);
      memref::StoreOp::create(b, loc,
                              arith::DivFOp::create(b, loc, amax, limit), xs,
                              ValueRange{i, block});
      Value inverse = arith::SelectOp::create(
          b, loc,
          arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE, amax, tiny),
          arith::DivFOp::create(b, loc, limit, amax), zero);
      inverse = vector::BroadcastOp::create(b, loc, vec(f32, kChunk), inverse);
      forLoop(begin, end, 1, {}, [&](Value c, ValueRange) {
        Value q = math::RoundEvenOp::create(
            b, loc, arith::MulFOp::create(b, loc, load(c), inverse));
        q = arith::FPToSIOp::create(b, loc, vec(i16, kChunk), q);
        if (bits == 4)
          q = vector::ShuffleOp::create(b, loc, q, q, intOrder());
        vector::StoreOp::create(b, loc, q, xq, ValueRange{i, mul(c, kChunk)});
        return SmallVector<Value>();
      });
      return SmallVector<Value>();
    });
    return SmallVector<Value>();
  });
}

/// The scale of activation row `row` in K block `block` (W8A8: one per
/// row).
Value CpuKernelEmitter::activationScale(Value row, Value block) {
  return memref::LoadOp::create(b, loc, xs,
                                ValueRange{row, actInt8 ? idx(0) : block});
}

/// W8A8 (Numerics/IntDot.h matmulActInt8): xq [M, chunks * 32 (+ kRowPad
/// for the tiles)] each row's int8 codes in k order (i16 for the GEMV,
/// bytes for the VNNI tiles, with xsum) and xs [M, 1]
/// its scale a / 127, a the absmax of its inliers; with a threshold each
/// row's outliers (code 0) listed in outK / outX, outCount of them.
void CpuKernelEmitter::quantizeActivationsInt8() {
  // The integer tiles (AVX-512 VNNI, AMX) take the codes as bytes; AMX's A
  // tiles read 32 rows x 64 bytes at a time: rows to a multiple of 32 and
  // columns to one of 64, zero.
  bool bytes = wideInt && m > kCpuGemvMaxRows;
  Type code = bytes ? i8 : i16;
  int64_t rowsAlloc = amxTiles ? int64_t(llvm::alignTo(m, kAmxRows)) : m;
  int64_t cols = amxTiles
                     ? (chunks + 1) / 2 * 2 * kChunk
                     : chunks * kChunk + (m > kCpuGemvMaxRows ? kRowPad : 0);
  xq = alloc(rowsAlloc, cols, code);
  for (int64_t c = chunks; c * kChunk < cols && amxTiles; ++c) // Column pad.
    forLoop(idx(0), idx(m), 1, {}, [&](Value i, ValueRange) {
      vector::StoreOp::create(b, loc, splatInt(i8, 0, kChunk), xq,
                              ValueRange{i, idx(c * kChunk)});
      return SmallVector<Value>();
    });
  if (rowsAlloc > m) // Row pad.
    forLoop(idx(m), idx(rowsAlloc), 1, {}, [&](Value i, ValueRange) {
      forLoop(idx(0), idx(cols / kChunk), 1, {}, [&](Value c, ValueRange) {
        vector::StoreOp::create(b, loc, splatInt(i8, 0, kChunk), xq,
                                ValueRange{i, mul(c, kChunk)});
        return SmallVector<Value>();
      });
      return SmallVector<Value>();
    });
  xs = alloc(m, 1, f32);
  if (bytes)
    xsum = alloc(m, blocks, i32);
  if (threshold > 0.0f) {
    outK = alloc(m, k, i32);
    outX = alloc(m, k, f32);
    outCount =
        memref::AllocOp::create(b, loc, MemRefType::get({m}, b.getIndexType()));
  }
  VectorType type = vec(f32, kChunk);
  auto splat = [&](float v) {
    return floatVector(SmallVector<float>(kChunk, v));
  };
  auto load = [&](Value i, Value c) {
    return loadX(i, mul(c, kChunk), hasTail(), kChunk);
  };
  // |v| >= threshold, lane by lane.
  auto outliers = [&](Value v) -> Value {
    return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGE,
                                 math::AbsFOp::create(b, loc, v),
                                 splat(threshold));
  };
  forLoop(idx(0), idx(m), 1, {}, [&](Value i, ValueRange) {
    Value amax = forLoop(idx(0), idx(chunks), 1, {splat(0.0f)},
                         [&](Value c, ValueRange in) -> SmallVector<Value> {
                           Value v = load(i, c);
                           Value a = math::AbsFOp::create(b, loc, v);
                           if (threshold > 0.0f)
                             a = arith::SelectOp::create(b, loc, outliers(v),
                                                         splat(0.0f), a);
                           return {arith::MaximumFOp::create(b, loc, in[0], a)};
                         })[0];
    amax = vector::ReductionOp::create(b, loc, vector::CombiningKind::MAXIMUMF,
                                       amax);
    memref::StoreOp::create(
        b, loc, arith::DivFOp::create(b, loc, amax, f32Scalar(127.0f)), xs,
        ValueRange{i, idx(0)});
    // clampRound(x * fl(fl(1 / a) * 127), -127, 127), NaN (a = 0) -> 0.
    Value inverse = arith::MulFOp::create(
        b, loc, arith::DivFOp::create(b, loc, f32Scalar(1.0f), amax),
        f32Scalar(127.0f));
    inverse = vector::BroadcastOp::create(b, loc, type, inverse);
    SmallVector<Value> count; // Outliers so far.
    if (threshold > 0.0f)
      count.push_back(idx(0));
    count = forLoop(
        idx(0), idx(chunks), 1, count,
        [&](Value c, ValueRange in) -> SmallVector<Value> {
          Value v = load(i, c);
          Value r = math::RoundEvenOp::create(
              b, loc, arith::MulFOp::create(b, loc, v, inverse));
          Value nan =
              arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNO, r, r);
          r = arith::SelectOp::create(b, loc, nan, splat(0.0f), r);
          r = arith::MinimumFOp::create(
              b, loc, arith::MaximumFOp::create(b, loc, r, splat(-127.0f)),
              splat(127.0f));
          Value out;
          if (threshold > 0.0f) {
            out = outliers(v);
            r = arith::SelectOp::create(b, loc, out, splat(0.0f), r);
          }
          vector::StoreOp::create(
              b, loc, arith::FPToSIOp::create(b, loc, vec(code, kChunk), r), xq,
              ValueRange{i, mul(c, kChunk)});
          if (!out)
            return {};
          // Append the chunk's outliers, if any, to the row's list.
          Value any = vector::ReductionOp::create(
              b, loc, vector::CombiningKind::OR, out);
          auto ifOp =
              scf::IfOp::create(b, loc, TypeRange{b.getIndexType()}, any,
                                /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPointToStart(ifOp.thenBlock());
          Value n = forLoop(
              idx(0), idx(kChunk), 1, {in[0]},
              [&](Value lane, ValueRange cnt) -> SmallVector<Value> {
                Value xv =
                    vector::ExtractOp::create(b, loc, v, OpFoldResult(lane));
                Value isOut =
                    vector::ExtractOp::create(b, loc, out, OpFoldResult(lane));
                auto append =
                    scf::IfOp::create(b, loc, TypeRange{b.getIndexType()},
                                      isOut, /*withElseRegion=*/true);
                OpBuilder::InsertionGuard inner(b);
                b.setInsertionPointToStart(append.thenBlock());
                Value col = add(mul(c, kChunk), lane);
                memref::StoreOp::create(
                    b, loc, arith::IndexCastOp::create(b, loc, i32, col), outK,
                    ValueRange{i, cnt[0]});
                memref::StoreOp::create(b, loc, xv, outX,
                                        ValueRange{i, cnt[0]});
                scf::YieldOp::create(b, loc, ValueRange{add(cnt[0], idx(1))});
                b.setInsertionPointToStart(append.elseBlock());
                scf::YieldOp::create(b, loc, cnt[0]);
                return {append.getResult(0)};
              })[0];
          scf::YieldOp::create(b, loc, n);
          b.setInsertionPointToStart(ifOp.elseBlock());
          scf::YieldOp::create(b, loc, in[0]);
          return {ifOp.getResult(0)};
        });
    if (threshold > 0.0f)
      memref::StoreOp::create(b, loc, count[0], outCount, ValueRange{i});
    if (bytes) // xsum: 128 x each block's sum of codes.
      forLoop(idx(0), idx(blocks), 1, {}, [&](Value block, ValueRange) {
        Value begin = mul(block, blockChunks);
        Value end = minIdx(add(begin, idx(blockChunks)), idx(chunks));
        Value sum = forLoop(
            begin, end, 1, {arith::ConstantIntOp::create(b, loc, i32, 0)},
            [&](Value c, ValueRange in) -> SmallVector<Value> {
              Value codes = arith::ExtSIOp::create(
                  b, loc, vec(i32, kChunk),
                  vector::LoadOp::create(b, loc, vec(i8, kChunk), xq,
                                         ValueRange{i, mul(c, kChunk)}));
              return {arith::AddIOp::create(
                  b, loc, in[0],
                  vector::ReductionOp::create(
                      b, loc, vector::CombiningKind::ADD, codes))};
            })[0];
        memref::StoreOp::create(
            b, loc,
            arith::MulIOp::create(
                b, loc, sum, arith::ConstantIntOp::create(b, loc, i32, 128)),
            xsum, ValueRange{i, block});
        return SmallVector<Value>();
      });
    return SmallVector<Value>();
  });
}

/// W8A8 with a threshold: `sum` + x * (w * s) over activation row i's
/// outliers, k ascending, for weight row `row`.
Value CpuKernelEmitter::addOutliers(Value i, Value row, Value sum) {
  Value count = memref::LoadOp::create(b, loc, outCount, ValueRange{i});
  return forLoop(
      idx(0), count, 1, {sum},
      [&](Value j, ValueRange acc) -> SmallVector<Value> {
        Value col = arith::IndexCastOp::create(
            b, loc, b.getIndexType(),
            memref::LoadOp::create(b, loc, outK, ValueRange{i, j}));
        Value code =
            memref::LoadOp::create(b, loc, codes, ValueRange{row, col});
        Value group =
            groups == 1
                ? idx(0)
                : Value(arith::DivUIOp::create(b, loc, col, idx(groupSize)));
        Value w = arith::MulFOp::create(
            b, loc, arith::SIToFPOp::create(b, loc, f32, code),
            loadScale(row, group));
        Value xv = memref::LoadOp::create(b, loc, outX, ValueRange{i, j});
        return {arith::AddFOp::create(b, loc, acc[0],
                                      arith::MulFOp::create(b, loc, xv, w))};
      })[0];
}

/// W8A8 with a threshold, after the tiles: the outliers of every
/// activation row added to out, per weight row in parallel (the GEMV adds
/// them in accumulate, while the weight row is in cache).
void CpuKernelEmitter::addOutliersToOut() {
  scf::ParallelOp::create(
      b, loc, ValueRange{idx(0)}, ValueRange{idx(n)}, ValueRange{idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value row = ivs[0];
        forLoop(idx(0), idx(m), 1, {}, [&](Value i, ValueRange) {
          Value old = memref::LoadOp::create(b, loc, out, ValueRange{i, row});
          memref::StoreOp::create(b, loc, addOutliers(i, row, old), out,
                                  ValueRange{i, row});
          return SmallVector<Value>();
        });
      });
}
