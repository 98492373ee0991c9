//===- CpuIntPath.cpp - The integer GEMV ----------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Numerics/IntDot.h: 16-bit integer weights from pshufb / vpermw lookups,
// exact int32 sums, one f32 scale per block.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelEmitter.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;
using namespace qmlir::qnt::cpu;

//===----------------------------------------------------------------------===//
// Integer GEMV (Numerics/IntDot.h)
//===----------------------------------------------------------------------===//

/// The k of each lane of a 4-bit chunk's weights after a pshufb lookup: in
/// each half of 16, the even k then the odd k.
SmallVector<int64_t> cpu::nibbleOrder() {
  SmallVector<int64_t> order;
  for (int64_t half = 0; half < kChunk; half += kLanes)
    for (int64_t parity = 0; parity < 2; ++parity)
      for (int64_t i = parity; i < kLanes; i += 2)
        order.push_back(half + i);
  return order;
}

/// The k of each lane of a 4-bit chunk's 32 indices (high nibbles, then low
/// nibbles) and of what a vpermw looks up with them: even k, then odd k.
SmallVector<int64_t> cpu::evenOddOrder() {
  SmallVector<int64_t> order;
  for (int64_t parity = 0; parity < 2; ++parity)
    for (int64_t i = parity; i < kChunk; i += 2)
      order.push_back(i);
  return order;
}


/// The integer decode constants of (row, group): 4-bit, the 16 integer
/// weights as low and high bytes (pshufb tables, repeated in both 128-bit
/// lanes); 8-bit asymmetric, the zero point.
IntParams CpuKernelEmitter::intParams(Value row, Value group) {
  IntParams p;
  Value zeroPoint = loadZeroPoint(row, group);
  if (bits == 8) {
    if (zeroPoint)
      p.zp = vector::BroadcastOp::create(
          b, loc, vec(i16, kChunk),
          arith::ExtUIOp::create(b, loc, i16, zeroPoint));
    return p;
  }
  if (wideInt) {
    SmallVector<int16_t> words(plan.table.begin(), plan.table.end());
    words.append(plan.table.begin(), plan.table.end());
    p.table16 = arith::ConstantOp::create(
        b, loc,
        DenseElementsAttr::get(vec(i16, kChunk), ArrayRef<int16_t>(words)));
    if (zeroPoint)
      p.table16 = arith::SubIOp::create(
          b, loc, p.table16,
          vector::BroadcastOp::create(
              b, loc, vec(i16, kChunk),
              arith::ExtUIOp::create(b, loc, i16, zeroPoint)));
    return p;
  }
  SmallVector<int8_t> lo, hi;
  for (int64_t rep = 0; rep < 2; ++rep)
    for (int16_t v : plan.table) {
      lo.push_back(static_cast<int8_t>(v & 0xFF));
      hi.push_back(static_cast<int8_t>(v >> 8));
    }
  auto bytes = [&](ArrayRef<int8_t> v) -> Value {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec(i8, kChunk), v));
  };
  p.tableLo = bytes(lo);
  p.tableHi = bytes(hi);
  if (zeroPoint) { // code - zero point, in 16 bits.
    Value zpv = vector::BroadcastOp::create(b, loc, vec(i8, kChunk), zeroPoint);
    Value below = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                        p.tableLo, zpv);
    p.tableHi = arith::ExtSIOp::create(b, loc, vec(i8, kChunk), below);
    p.tableLo = arith::SubIOp::create(b, loc, p.tableLo, zpv);
  }
  return p;
}

/// The order of a chunk's weights out of intWeights (lane j holds k =
/// order[j]): 8-bit, k order; 4-bit on the 512-bit path, even k then odd k
/// (the vpermw index order); 4-bit otherwise, nibbleOrder.
SmallVector<int64_t> CpuKernelEmitter::intOrder() const {
  if (bits == 8)
    return llvm::to_vector(llvm::seq<int64_t>(0, kChunk));
  return wideInt ? evenOddOrder() : nibbleOrder();
}

/// The chunk's 32 integer weights of `row` (32 x i16, in intOrder): 8-bit
/// widened; 4-bit through one vpermw of the 16-bit table (512-bit path) or
/// pshufb of both table bytes, interleaved.
Value CpuKernelEmitter::intWeights(const IntParams &p, Value row, Value chunk,
                                   bool masked) {
  VectorType wordType = vec(i16, kChunk);
  if (bits == 8) {
    Value bytes = loadBytes(row, mul(chunk, kChunk), masked, kChunk);
    if (p.zp)
      return arith::SubIOp::create(
          b, loc, arith::ExtUIOp::create(b, loc, wordType, bytes), p.zp);
    return arith::ExtSIOp::create(b, loc, wordType, bytes);
  }
  if (wideInt)
    return lookupWords(p.table16, row, chunk, masked);
  auto [high, low] = loadNibbles(row, chunk, masked);
  // index[j] = code of k: even k (high nibbles) 0..15, odd k 16..31.
  Value index = vector::ShuffleOp::create(
      b, loc, high, low, llvm::to_vector(llvm::seq<int64_t>(0, kChunk)));
  VectorType byteType = vec(i8, kChunk);
  Value lo = x86("llvm.x86.avx2.pshuf.b", byteType, {p.tableLo, index});
  Value hi = x86("llvm.x86.avx2.pshuf.b", byteType, {p.tableHi, index});
  // pshufb and the byte interleave work within 128-bit lanes: the first
  // 16 words get index lanes 0-7 and 16-23 (k 0, 2, .., 14, 1, 3, .., 15).
  SmallVector<int64_t> mask;
  for (int64_t from : {0, 8})
    for (int64_t base : {from, from + kLanes})
      for (int64_t j = base; j < base + 8; ++j)
        mask.append({j, j + kChunk});
  return vector::BitCastOp::create(
      b, loc, wordType, vector::ShuffleOp::create(b, loc, lo, hi, mask));
}

/// One block of K (all in one group) of weight `rows` x the activation
/// rows: exact int32 sums of chunks [begin, end) (and the masked tail
/// chunk), then accs += float(sum) * (activation scale * weight scale).
SmallVector<Value> CpuKernelEmitter::intBlock(ArrayRef<Value> rows, Value block,
                                              Value begin, Value end, bool tail,
                                              ValueRange accs) {
  int64_t nr = rows.size();
  Value group = groups == 1
                    ? idx(0)
                    : Value(arith::DivUIOp::create(
                          b, loc, block, idx(chunksPerGroup / blockChunks)));
  SmallVector<IntParams> params;
  SmallVector<Value> weightScales;
  Value step = f32Scalar(plan.tableStep);
  for (Value row : rows) {
    params.push_back(intParams(row, group));
    weightScales.push_back(
        arith::MulFOp::create(b, loc, loadScale(row, group), step));
  }
  // 512-bit path: one vpdpwssd per chunk and row; otherwise the chunk in
  // two 256-bit halves (vpmaddwd and vpaddd, or vpdpwssd).
  int64_t lanes = intLanes(), parts = kLanes / lanes;
  VectorType sumType = vec(i32, lanes);
  auto part = [&](Value v, int64_t at) -> Value {
    if (parts == 1)
      return v;
    return vector::ExtractStridedSliceOp::create(b, loc, v, {at * 2 * lanes},
                                                 {2 * lanes}, {1});
  };
  auto dot = [&](Value sum, Value w, Value x) -> Value {
    if (wideInt)
      return x86("llvm.x86.avx512.vpdpwssd.512", sumType, {sum, w, x});
    if (isa >= CpuIsa::Avx512Vnni)
      return x86("llvm.x86.avx512.vpdpwssd.256", sumType, {sum, w, x});
    if (isa == CpuIsa::Generic) { // W8A8: vpmaddwd's pair sums, portably.
      auto wide = [&](Value v, int64_t parity) -> Value {
        SmallVector<int64_t> lanesOf;
        for (int64_t j = 0; j < lanes; ++j)
          lanesOf.push_back(2 * j + parity);
        return arith::ExtSIOp::create(
            b, loc, sumType, vector::ShuffleOp::create(b, loc, v, v, lanesOf));
      };
      for (int64_t parity = 0; parity < 2; ++parity)
        sum = arith::AddIOp::create(
            b, loc, sum,
            arith::MulIOp::create(b, loc, wide(w, parity), wide(x, parity)));
      return sum;
    }
    return arith::AddIOp::create(
        b, loc, sum, x86("llvm.x86.avx2.pmadd.wd", sumType, {w, x}));
  };
  auto chunkStep = [&](Value c, ValueRange in, bool masked) {
    SmallVector<Value> next(in.begin(), in.end());
    SmallVector<Value> xv;
    for (int64_t i = 0; i < m; ++i)
      xv.push_back(vector::LoadOp::create(b, loc, vec(i16, kChunk), xq,
                                          ValueRange{idx(i), mul(c, kChunk)}));
    for (int64_t r = 0; r < nr; ++r) {
      Value w = intWeights(params[r], rows[r], c, masked);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t h = 0; h < parts; ++h)
          next[i * nr + r] = dot(next[i * nr + r], part(w, h), part(xv[i], h));
    }
    return next;
  };
  SmallVector<Value> sums(m * nr, splatInt(i32, 0, lanes));
  sums = forLoop(begin, end, 1, sums, [&](Value c, ValueRange in) {
    return chunkStep(c, in, /*masked=*/false);
  });
  if (tail)
    sums = chunkStep(idx(fullChunks), sums, /*masked=*/true);
  SmallVector<Value> next(accs.begin(), accs.end());
  for (int64_t i = 0; i < m; ++i) {
    Value xScale = activationScale(idx(i), block);
    for (int64_t r = 0; r < nr; ++r) {
      Value scale = vector::BroadcastOp::create(
          b, loc, vec(f32, lanes),
          arith::MulFOp::create(b, loc, xScale, weightScales[r]));
      Value sum =
          arith::SIToFPOp::create(b, loc, vec(f32, lanes), sums[i * nr + r]);
      Value &acc = next[i * nr + r];
      acc = vector::FMAOp::create(b, loc, sum, scale, acc);
    }
  }
  return next;
}

/// The f32 sums (intLanes() each, [activation row][weight row]) of weight
/// `rows` x the activation rows over all of K.
SmallVector<Value> CpuKernelEmitter::intRows(ArrayRef<Value> rows) {
  SmallVector<Value> accs(m * rows.size(), zeroVector(intLanes()));
  int64_t fullBlocks = fullChunks / blockChunks;
  accs = forLoop(
      idx(0), idx(fullBlocks), 1, accs, [&](Value block, ValueRange in) {
        Value begin = mul(block, blockChunks);
        return intBlock(rows, block, begin, add(begin, idx(blockChunks)),
                        /*tail=*/false, in);
      });
  if (fullBlocks < blocks) // The last block: fewer chunks, or the tail.
    accs = intBlock(rows, idx(fullBlocks), idx(fullBlocks * blockChunks),
                    idx(fullChunks), hasTail(), accs);
  return accs;
}
