//===- CpuTiles.cpp - Tiles: more activation rows -------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelEmitter.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;
using namespace qmlir::qnt::cpu;

//===----------------------------------------------------------------------===//
// Tiles: more activation rows
//===----------------------------------------------------------------------===//
//
// Each thread takes tiles of `tileRows` weight rows; per K tile it decodes
// the tile's weights once into a buffer in k-major order (the tile rows'
// weights of one k, f32, or of one pair of k, i16, side by side) and runs an
// outer-product micro-kernel over all activation rows: the lanes of an
// accumulator are the tile's output columns, so sums need no reduction
// across lanes and each K tile adds into `out` once per activation row.

/// Calls `fn` for each row r < tileRows of the tile (weight row clamped to
/// N - 1) and chunk c = firstChunk + cc, cc < tileChunks, with the chunk's
/// group; `masked` for the partial chunk at the end of K.
void CpuKernelEmitter::forEachTileChunk(Value tile, Value firstChunk,
                                        Value tileChunks, ChunkFn fn) {
  forLoop(idx(0), idx(tileRows), 1, {}, [&](Value r, ValueRange) {
    Value row = minIdx(add(mul(tile, tileRows), r), idx(n - 1));
    forLoop(idx(0), tileChunks, 1, {}, [&](Value cc, ValueRange) {
      Value c = add(firstChunk, cc);
      Value group =
          groups == 1
              ? idx(0)
              : Value(arith::DivUIOp::create(b, loc, c, idx(chunksPerGroup)));
      if (!hasTail()) {
        fn(r, row, c, cc, group, false);
        return SmallVector<Value>();
      }
      Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, c,
                                         idx(fullChunks));
      auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      fn(r, row, c, cc, group, false);
      b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
      fn(r, row, c, cc, group, true);
      return SmallVector<Value>();
    });
    return SmallVector<Value>();
  });
}

/// Stores lane j of `v` at buf[base + j, r] (16 lanes of a decoded chunk
/// into the k-major tile buffer).
void CpuKernelEmitter::storeColumn(Value v, Value buf, Value base, Value r,
                                   ArrayRef<int64_t> at) {
  for (auto [lane, pos] : llvm::enumerate(at))
    memref::StoreOp::create(b, loc, vector::ExtractOp::create(b, loc, v, lane),
                            buf, ValueRange{add(base, idx(pos)), r});
}

/// out[row, col ..) += acc, lanes past N left alone.
void CpuKernelEmitter::addToOut(Value row, Value col, Value acc) {
  bool inBounds = n % tileRows == 0;
  auto type = llvm::cast<VectorType>(acc.getType());
  Value old = vector::TransferReadOp::create(
      b, loc, type, out, ValueRange{row, col}, f32Scalar(0.0f), {inBounds});
  vector::TransferWriteOp::create(b, loc,
                                  arith::AddFOp::create(b, loc, old, acc), out,
                                  ValueRange{row, col}, {inBounds});
}

/// The tile driver: per thread iteration a tile, `setup()` (its buffers);
/// per K tile of up to `tileChunks` chunks (`count` of them from `first`),
/// `decode(tile, first, count)` then `micro(..., mBase, rows)` for each
/// group of `mr` activation rows.
void CpuKernelEmitter::tileLoop(int64_t tileChunks, int64_t mr,
                                llvm::function_ref<void()> setup, TileFn decode,
                                MicroFn micro) {
  int64_t kBlocks = (chunks + tileChunks - 1) / tileChunks;
  int64_t tiles = (n + tileRows - 1) / tileRows;
  scf::ParallelOp::create(
      b, loc, ValueRange{idx(0)}, ValueRange{idx(tiles)}, ValueRange{idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value tile = ivs[0];
        setup();
        forLoop(idx(0), idx(kBlocks), 1, {}, [&](Value kb, ValueRange) {
          Value first = mul(kb, tileChunks);
          Value count =
              minIdx(idx(tileChunks),
                     arith::SubIOp::create(b, loc, idx(chunks), first));
          decode(tile, first, count);
          int64_t whole = m / mr * mr;
          forLoop(idx(0), idx(whole), mr, {}, [&](Value mb, ValueRange) {
            micro(tile, first, count, mb, mr);
            return SmallVector<Value>();
          });
          if (m > whole)
            micro(tile, first, count, idx(whole), m - whole);
          return SmallVector<Value>();
        });
      });
}

/// A new buffer [rows, cols] of `t`, 64-byte aligned; on the heap (a stack
/// buffer in a parallel loop body would need an alloca scope, which cannot
/// hold the lowered loops).
Value CpuKernelEmitter::alloc(int64_t rows, int64_t cols, Type t) {
  return memref::AllocOp::create(b, loc, MemRefType::get({rows, cols}, t),
                                 b.getI64IntegerAttr(64));
}

/// f32 tiles (the f32 path, bf16/f16 compute types): xf [M, K] the
/// activations in the compute type's precision; wf [tileK, tileRows] the
/// decoded weights (rounded the same way); per k one load of the tile's
/// weights and, per activation row, a broadcast and an FMA per vector.
void CpuKernelEmitter::buildTiled() {
  Value xf = alloc(m, chunks * kChunk + kRowPad, f32);
  forLoop(idx(0), idx(m), 1, {}, [&](Value i, ValueRange) {
    forLoop(idx(0), idx(chunks), 1, {}, [&](Value c, ValueRange) {
      vector::StoreOp::create(b, loc,
                              loadX(i, mul(c, kChunk), hasTail(), kChunk), xf,
                              ValueRange{i, mul(c, kChunk)});
      return SmallVector<Value>();
    });
    return SmallVector<Value>();
  });
  // Two weight vectors per k: each broadcast activation feeds two FMAs.
  tileRows = 2 * microLanes;
  int64_t vectors = 2;
  // wf (16 KiB) and 12 activation rows' K tile stay in L1.
  int64_t tileChunks =
      std::clamp<int64_t>(kF32TileBytes / (tileRows * 4 * kChunk), 1, chunks);
  SmallVector<int64_t> even, odd, first, second;
  for (int64_t j = 0; j < kLanes; ++j) {
    even.push_back(2 * j);
    odd.push_back(2 * j + 1);
    first.push_back(j);
    second.push_back(kLanes + j);
  }
  Value wf;
  tileLoop(
      tileChunks, microRows,
      [&] { wf = alloc(tileChunks * kChunk, tileRows, f32); },
      [&](Value tile, Value firstChunk, Value count) {
        forEachTileChunk(
            tile, firstChunk, count,
            [&](Value r, Value row, Value c, Value cc, Value group,
                bool masked) {
              auto [w0, w1] =
                  decodeChunk(groupParams(row, group), row, c, masked);
              Value base = mul(cc, kChunk);
              storeColumn(w0, wf, base, r, bits == 4 ? even : first);
              storeColumn(w1, wf, base, r, bits == 4 ? odd : second);
            });
      },
      [&](Value tile, Value firstChunk, Value count, Value mBase,
          int64_t rows) {
        Value kBase = mul(firstChunk, kChunk);
        SmallVector<Value> accs(rows * vectors, zeroVector(microLanes));
        accs = forLoop(
            idx(0), mul(count, kChunk), 1, accs, [&](Value kk, ValueRange in) {
              SmallVector<Value> w, next(in.begin(), in.end());
              for (int64_t v = 0; v < vectors; ++v)
                w.push_back(vector::LoadOp::create(
                    b, loc, vec(f32, microLanes), wf,
                    ValueRange{kk, idx(v * microLanes)}));
              for (int64_t i = 0; i < rows; ++i) {
                Value xv = vector::BroadcastOp::create(
                    b, loc, vec(f32, microLanes),
                    memref::LoadOp::create(
                        b, loc, xf,
                        ValueRange{add(mBase, idx(i)), add(kBase, kk)}));
                for (int64_t v = 0; v < vectors; ++v)
                  next[i * vectors + v] = vector::FMAOp::create(
                      b, loc, xv, w[v], next[i * vectors + v]);
              }
              return next;
            });
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t v = 0; v < vectors; ++v)
            addToOut(add(mBase, idx(i)),
                     add(mul(tile, tileRows), idx(v * microLanes)),
                     accs[i * vectors + v]);
      });
}

/// The activations at xq columns [k, k + 32 / bits) of row `row` (one
/// 32-bit lane: an i16 pair, or four int8 codes) in all 16 lanes.
Value CpuKernelEmitter::broadcastLane(Value row, Value k) {
  Type code = llvm::cast<MemRefType>(xq.getType()).getElementType();
  int64_t per = 32 / code.getIntOrFloatBitWidth();
  Value group =
      vector::LoadOp::create(b, loc, vec(code, per), xq, ValueRange{row, k});
  Value one = vector::BitCastOp::create(b, loc, vec(i32, 1), group);
  Value splat = vector::BroadcastOp::create(
      b, loc, vec(i32), vector::ExtractOp::create(b, loc, one, 0));
  return vector::BitCastOp::create(b, loc, vec(code, 16 * per), splat);
}

/// Integer tiles (AVX-512 VNNI): wp [tileK / per, tileRows] i32, wp[p, r]
/// = the `per` weights of lanes [per p, per (p + 1)) of tile row r as one
/// 32-bit lane, and wsc [activation blocks of the K tile, tileRows], each
/// block's weight scale (times the table step). xq holds the activations
/// in the same order, so a lane broadcast from it meets the same k. Per
/// lane of K one load of the tile's lanes and, per activation row, its
/// lane broadcast and one instruction; each block's int32 sums are scaled
/// into the f32 accumulators at its end.
///  - 16-bit activations (per = 2): vpdpwssd on intWeights' pairs.
///  - W8A8 (per = 4): vpdpbusd, twice the products per instruction, on the
///    int8 codes; its first operand is unsigned, so the weights are stored
///    as w + 128 (the sign bit flipped) and each block subtracts 128 x the
///    block's sum of activation codes (xsum).
void CpuKernelEmitter::buildIntTiled() {
  bool bytes = actInt8;
  int64_t per = bytes ? 4 : 2;
  if (actInt8)
    quantizeActivationsInt8();
  else
    quantizeActivations();
  // K tiles of whole activation blocks, about kIntTileK (W8A8: twice) wide:
  // the tile's lanes (16 KiB) and 12 activation rows' K tile stay in L1.
  tileRows = kLanes;
  int64_t tileChunks =
      std::min(chunks, std::max<int64_t>(1, kIntTileK * per / 2 / plan.block) *
                           blockChunks);
  int64_t chunkLanes = kChunk / per, blockLanes = plan.block / per;
  auto lanes = llvm::to_vector(llvm::seq<int64_t>(0, chunkLanes));
  Value wp, wsc;
  tileLoop(
      tileChunks, kIntMicroRows,
      [&] {
        wp = alloc(tileChunks * chunkLanes, tileRows, i32);
        wsc =
            alloc((tileChunks + blockChunks - 1) / blockChunks, tileRows, f32);
      },
      [&](Value tile, Value firstChunk, Value count) {
        forEachTileChunk(
            tile, firstChunk, count,
            [&](Value r, Value row, Value c, Value cc, Value group,
                bool masked) {
              Value weights =
                  bytes ? Value(arith::XOrIOp::create(
                              b, loc,
                              loadBytes(row, mul(c, kChunk), masked, kChunk),
                              splatInt(i8, -128, kChunk)))
                        : intWeights(intParams(row, group), row, c, masked);
              storeColumn(vector::BitCastOp::create(
                              b, loc, vec(i32, chunkLanes), weights),
                          wp, mul(cc, chunkLanes), r, lanes);
              // The block's scale, at its first chunk.
              Value atBlock = arith::CmpIOp::create(
                  b, loc, arith::CmpIPredicate::eq,
                  arith::RemUIOp::create(b, loc, cc, idx(blockChunks)), idx(0));
              auto ifOp = scf::IfOp::create(b, loc, atBlock, false);
              OpBuilder::InsertionGuard guard(b);
              b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
              Value scale = arith::MulFOp::create(b, loc, loadScale(row, group),
                                                  f32Scalar(plan.tableStep));
              memref::StoreOp::create(
                  b, loc, scale, wsc,
                  ValueRange{
                      arith::DivUIOp::create(b, loc, cc, idx(blockChunks)), r});
            });
      },
      [&](Value tile, Value firstChunk, Value count, Value mBase,
          int64_t rows) {
        Value kBase = mul(firstChunk, kChunk), total = mul(count, chunkLanes);
        Value here = arith::CeilDivUIOp::create(b, loc, total, idx(blockLanes));
        SmallVector<Value> accs = forLoop(
            idx(0), here, 1, SmallVector<Value>(rows, zeroVector()),
            [&](Value bl, ValueRange in) {
              Value begin = mul(bl, blockLanes);
              Value end = minIdx(add(begin, idx(blockLanes)), total);
              SmallVector<Value> sums = forLoop(
                  begin, end, 1, SmallVector<Value>(rows, splatInt(i32, 0)),
                  [&](Value p, ValueRange s) {
                    Value w = vector::LoadOp::create(b, loc, vec(i32), wp,
                                                     ValueRange{p, idx(0)});
                    Value k = add(kBase, mul(p, per));
                    SmallVector<Value> next(s.begin(), s.end());
                    for (auto [i, sum] : llvm::enumerate(next)) {
                      Value x = broadcastLane(add(mBase, idx(i)), k);
                      sum = bytes
                                ? x86("llvm.x86.avx512.vpdpbusd.512", vec(i32),
                                      {sum,
                                       vector::BitCastOp::create(
                                           b, loc, vec(i8, 64), w),
                                       x})
                                : x86("llvm.x86.avx512.vpdpwssd.512", vec(i32),
                                      {sum, x,
                                       vector::BitCastOp::create(
                                           b, loc, vec(i16, kChunk), w)});
                    }
                    return next;
                  });
              Value block = add(
                  arith::DivUIOp::create(b, loc, kBase, idx(plan.block)), bl);
              Value wScale = vector::LoadOp::create(b, loc, vec(f32), wsc,
                                                    ValueRange{bl, idx(0)});
              SmallVector<Value> next(in.begin(), in.end());
              for (auto [i, acc] : llvm::enumerate(next)) {
                Value row = add(mBase, idx(i));
                Value sum = sums[i];
                if (bytes) // - 128 x the block's activation codes.
                  sum = arith::SubIOp::create(
                      b, loc, sum,
                      vector::BroadcastOp::create(
                          b, loc, vec(i32),
                          memref::LoadOp::create(b, loc, xsum,
                                                 ValueRange{row, block})));
                Value scale = arith::MulFOp::create(
                    b, loc, wScale,
                    vector::BroadcastOp::create(b, loc, vec(f32),
                                                activationScale(row, block)));
                acc = vector::FMAOp::create(
                    b, loc, arith::SIToFPOp::create(b, loc, vec(f32), sum),
                    scale, acc);
              }
              return next;
            });
        for (int64_t i = 0; i < rows; ++i)
          addToOut(add(mBase, idx(i)), mul(tile, tileRows), accs[i]);
      });
}
