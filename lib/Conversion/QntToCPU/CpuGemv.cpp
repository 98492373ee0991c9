//===- CpuGemv.cpp - The f32 and bf16 GEMV --------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Up to kCpuGemvMaxRows activation rows: the f32 dequant-GEMV, its
// slices, and the bf16 dot products of AVX-512 BF16.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelEmitter.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;
using namespace qmlir::qnt::cpu;

//===----------------------------------------------------------------------===//
// GEMV: up to kCpuGemvMaxRows activation rows
//===----------------------------------------------------------------------===//

SmallVector<Value> CpuKernelEmitter::gemvStep(ArrayRef<Value> rows,
                                              ArrayRef<GroupParams> params,
                                              Value chunk, ValueRange accs,
                                              bool masked) {
  int64_t nr = rows.size();
  SmallVector<Value> next(accs.begin(), accs.end());
  if (useBf16) {
    SmallVector<Value> xv;
    for (int64_t i = 0; i < m; ++i)
      xv.push_back(
          vector::LoadOp::create(b, loc, vec(b.getBF16Type(), kChunk), xb,
                                 ValueRange{idx(i), mul(chunk, kChunk)}));
    for (int64_t r = 0; r < nr; ++r) {
      Value w = decodeBf16(params[r], rows[r], chunk, masked);
      for (int64_t i = 0; i < m; ++i) {
        Value &acc = next[i * nr + r];
        acc =
            x86("llvm.x86.avx512bf16.dpbf16ps.512", vec(f32), {acc, xv[i], w});
      }
    }
    return next;
  }
  SmallVector<std::pair<Value, Value>> xs;
  for (int64_t i = 0; i < m; ++i)
    xs.push_back(xChunk(idx(i), chunk, masked));
  for (int64_t r = 0; r < nr; ++r) {
    auto [w0, w1] = decodeChunk(params[r], rows[r], chunk, masked);
    for (int64_t i = 0; i < m; ++i) {
      Value &acc = next[i * nr + r];
      acc = vector::FMAOp::create(b, loc, xs[i].first, w0, acc);
      acc = vector::FMAOp::create(b, loc, xs[i].second, w1, acc);
    }
  }
  return next;
}

SmallVector<Value> CpuKernelEmitter::floatRows(ArrayRef<Value> rows) {
  SmallVector<Value> accs(m * rows.size(), zeroVector());
  auto paramsOf = [&](Value group) {
    SmallVector<GroupParams> params;
    for (Value row : rows)
      params.push_back(groupParams(row, group));
    return params;
  };
  accs = forLoop(idx(0), idx(groups), 1, accs, [&](Value g, ValueRange in) {
    SmallVector<GroupParams> params = paramsOf(g);
    Value begin = mul(g, chunksPerGroup);
    Value end = minIdx(add(begin, idx(chunksPerGroup)), idx(fullChunks));
    return forLoop(begin, end, 1, in, [&](Value c, ValueRange acc) {
      return gemvStep(rows, params, c, acc, /*masked=*/false);
    });
  });
  if (hasTail())
    accs = gemvStep(rows, paramsOf(idx(groups - 1)), idx(fullChunks), accs,
                    /*masked=*/true);
  return accs;
}

void CpuKernelEmitter::buildGemv() {
  if (actInt8)
    quantizeActivationsInt8();
  else if (useIntDot)
    quantizeActivations();
  if (useBf16)
    xb = convertActivations(m, /*decodeOrder=*/true);
  buildGemvRows();
}

/// W8A8 below AVX-512 VNNI (no integer tiles) with more than
/// kCpuGemvMaxRows rows: the integer GEMV on slices of kCpuGemvMaxRows
/// activation rows, after quantizing all of them.
void CpuKernelEmitter::buildGemvSlices() {
  quantizeActivationsInt8();
  // The buffers indexed by activation row, as a whole and as seen by the
  // GEMV of one slice.
  SmallVector<Value *> perRow = {&xq, &xs, &out};
  if (outCount)
    perRow.append({&outK, &outX, &outCount});
  SmallVector<Value> whole;
  for (Value *v : perRow)
    whole.push_back(*v);
  int64_t rows = m, step = kCpuGemvMaxRows;
  auto slice = [&](Value first, int64_t count) {
    for (auto [v, all] : llvm::zip(perRow, whole)) {
      auto type = llvm::cast<MemRefType>(all.getType());
      SmallVector<OpFoldResult> offsets = {first},
                                sizes = {b.getIndexAttr(count)},
                                strides = {b.getIndexAttr(1)};
      if (type.getRank() == 2) {
        offsets.push_back(b.getIndexAttr(0));
        sizes.push_back(b.getIndexAttr(type.getDimSize(1)));
        strides.push_back(b.getIndexAttr(1));
      }
      *v = memref::SubViewOp::create(b, loc, all, offsets, sizes, strides);
    }
    m = count;
    buildGemvRows();
  };
  int64_t full = rows / step * step;
  forLoop(idx(0), idx(full), step, {}, [&](Value first, ValueRange) {
    slice(first, step);
    return SmallVector<Value>();
  });
  if (rows > full)
    slice(idx(full), rows - full);
  for (auto [v, all] : llvm::zip(perRow, whole))
    *v = all;
  m = rows;
}

/// The GEMV over the activations as prepared (f32, integer or bf16).
void CpuKernelEmitter::buildGemvRows() {
  // Weight rows per iteration. f32 path: enough independent accumulators
  // to hide the FMA latency, few enough to stay in registers with the
  // activations. Integer path: one (one code stream per thread and no
  // spills measured 1.1-1.6x faster than 2 or 4 rows at M = 1 to 8).
  int64_t nr = useIntDot ? 1 : m <= 2 ? 4 : m <= 4 ? 2 : 1;
  int64_t iters = (n + nr - 1) / nr;
  scf::ParallelOp::create(
      b, loc, ValueRange{idx(0)}, ValueRange{idx(iters)}, ValueRange{idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value first = mul(ivs[0], nr);
        SmallVector<Value> rows; // Clamped: the last block repeats row N-1.
        for (int64_t r = 0; r < nr; ++r)
          rows.push_back(minIdx(add(first, idx(r)), idx(n - 1)));
        SmallVector<Value> accs = useIntDot ? intRows(rows) : floatRows(rows);
        for (int64_t r = 0; r < nr; ++r) {
          Value valid = r > 0 ? rowInRange(add(first, idx(r)), nr) : Value();
          for (int64_t i = 0; i < m; ++i)
            accumulate(idx(i), rows[r], accs[i * nr + r], valid);
        }
      });
}


//===----------------------------------------------------------------------===//
// bf16 dot products (AVX-512 BF16)
//===----------------------------------------------------------------------===//

/// 32 bf16 (vcvtne2ps2bf16, round to nearest even): `low`'s 16 values,
/// then `high`'s.
Value CpuKernelEmitter::toBf16(Value low, Value high) {
  return x86("llvm.x86.avx512bf16.cvtne2ps2bf16.512",
             vec(b.getBF16Type(), kChunk), {high, low});
}

/// [rows, chunks * 32]: the activations in bf16, zero past K and past M
/// (rows > M pads AMX's A tiles); each chunk in decodeBf16's order (4-bit:
/// even k, then odd k) with `decodeOrder`, else in k order.
Value CpuKernelEmitter::convertActivations(int64_t rows, bool decodeOrder) {
  Value buf = alloc(rows, chunks * kChunk, b.getBF16Type());
  forLoop(idx(0), idx(rows), 1, {}, [&](Value i, ValueRange) {
    Value row = rows > m ? minIdx(i, idx(m - 1)) : i;
    forLoop(idx(0), idx(chunks), 1, {}, [&](Value c, ValueRange) {
      Value col = mul(c, kChunk);
      Value v = vector::TransferReadOp::create(
          b, loc, vec(f32, kChunk), x, ValueRange{row, col}, f32Scalar(0.0f),
          ArrayRef<bool>{!hasTail()});
      if (rows > m)
        v = arith::SelectOp::create(
            b, loc,
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, i, idx(m)),
            v, zeroVector(kChunk));
      if (decodeOrder && bits == 4)
        v = vector::ShuffleOp::create(b, loc, v, v, evenOddOrder());
      auto half = [&](int64_t at) -> Value {
        return vector::ExtractStridedSliceOp::create(b, loc, v, {at}, {kLanes},
                                                     {1});
      };
      vector::StoreOp::create(b, loc, toBf16(half(0), half(kLanes)), buf,
                              ValueRange{i, col});
      return SmallVector<Value>();
    });
    return SmallVector<Value>();
  });
  return buf;
}

/// The chunk's 32 weights of `row` in bf16: 4-bit codes (high nibbles,
/// i.e. even k, then low nibbles) pick their values from the group's table
/// with one vpermw; 8-bit ones in k order, scaled in f32 and converted.
Value CpuKernelEmitter::decodeBf16(const GroupParams &p, Value row, Value chunk,
                                   bool masked) {
  if (bits == 8) {
    auto [first, second] = decodeChunk(p, row, chunk, masked, /*round=*/false);
    return toBf16(first, second);
  }
  return vector::BitCastOp::create(
      b, loc, vec(b.getBF16Type(), kChunk),
      lookupWords(p.tableBf16, row, chunk, masked));
}
