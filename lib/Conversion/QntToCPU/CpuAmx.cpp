//===- CpuAmx.cpp - AMX tiles ---------------------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelEmitter.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;
using namespace qmlir::qnt::cpu;

/// AMX tiles, per thread a tile of 32 weight rows, per K tile of up to
/// kAmxTileChunks chunks their weights decoded into wh [K tile / per, 32 x
/// per] as AMX's B operand wants them: row j holds each weight row's `per`
/// consecutive k (a 32-bit group) from k = per j, the first 16 weight rows
/// for one B tile, the next 16 for the other. Per 32 activation rows (two A
/// tiles of 16 rows x 64 bytes) and K step (64 bytes of k): two A loads, two
/// B loads and four tile products into 16 x 16 tiles, unrolled over the K
/// tile (the amx dialect cannot carry tiles through a loop); the four tiles
/// are stored and added to out.
///  - bf16 compute (per = 2): activations converted to bf16 into xh [M
///    rounded up to 32, chunks * 32] (zero past M and K), tdpbf16ps: bf16
///    products are exact and summed in f32, as the reference's rounded
///    operands.
///  - W8A8 per channel (per = 4): the int8 codes (xq, padded the same way),
///    tdpbssd (signed x signed, exact int32 sums per K tile), scaled by the
///    row's activation scale and the columns' weight scales.
void CpuKernelEmitter::buildAmxTiled() {
  bool ints = actInt8;
  Type elem = ints ? i8 : Type(b.getBF16Type());
  int64_t per = ints ? 4 : 2, aRows = kAmxRows / 2, stepBytes = 64;
  int64_t stepChunks = stepBytes / (kChunk * (ints ? 1 : 2)); // 2 or 1.
  Value xa16;
  if (ints) {
    quantizeActivationsInt8();
    xa16 = xq;
  } else {
    xa16 = convertActivations(llvm::alignTo(m, kAmxRows), /*decodeOrder=*/false);
  }
  tileRows = 2 * kLanes;
  int64_t tileChunks = std::min(chunks + chunks % stepChunks, kAmxTileChunks);
  // A 4-bit chunk decodes to even k, then odd k: pairs (2j, 2j + 1) are
  // lanes j and 16 + j.
  SmallVector<int64_t> pairOrder;
  for (int64_t j = 0; j < kLanes; ++j)
    pairOrder.append({j, kLanes + j});
  auto tile = [&](int64_t rows, int64_t cols, Type t) {
    return amx::TileType::get({rows, cols}, t);
  };
  Type accType = ints ? i32 : f32;
  int64_t groupsPerChunk = kChunk / per;
  Value wh, cb, wsc;
  tileLoop(
      tileChunks, kAmxRows,
      [&] {
        wh = alloc(tileChunks * groupsPerChunk, tileRows * per, elem);
        cb = alloc(kAmxRows, tileRows, accType);
        if (ints)
          wsc = alloc(1, tileRows, f32);
      },
      [&](Value t, Value firstChunk, Value count) {
        forEachTileChunk(
            t, firstChunk, count,
            [&](Value r, Value row, Value c, Value cc, Value group,
                bool masked) {
              Value w;
              if (ints) {
                w = loadBytes(row, mul(c, kChunk), masked, kChunk);
                // The column's weight scale, once per K tile.
                Value first = arith::CmpIOp::create(
                    b, loc, arith::CmpIPredicate::eq, cc, idx(0));
                auto ifOp = scf::IfOp::create(b, loc, first, false);
                OpBuilder::InsertionGuard guard(b);
                b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
                memref::StoreOp::create(b, loc, loadScale(row, group), wsc,
                                        ValueRange{idx(0), r});
              } else {
                w = decodeBf16(groupParams(row, group), row, c, masked);
                if (bits == 4)
                  w = vector::ShuffleOp::create(b, loc, w, w, pairOrder);
              }
              for (int64_t j = 0; j < groupsPerChunk; ++j)
                vector::StoreOp::create(
                    b, loc,
                    vector::ExtractStridedSliceOp::create(b, loc, w, {per * j},
                                                          {per}, {1}),
                    wh,
                    ValueRange{add(mul(cc, groupsPerChunk), idx(j)),
                               mul(r, per)});
            });
      },
      [&](Value t, Value firstChunk, Value count, Value mBase, int64_t rows) {
        int64_t aTiles = rows > aRows ? 2 : 1;
        Type aType =
            tile(aRows, stepBytes * 8 / elem.getIntOrFloatBitWidth(), elem);
        Type bType =
            tile(kLanes, stepBytes * 8 / elem.getIntOrFloatBitWidth(), elem);
        Type cType = tile(aRows, kLanes, accType);
        // The K tile's products, unrolled over its `steps` K steps.
        auto multiply = [&](int64_t steps) {
          SmallVector<Value> acc(2 * aTiles);
          for (Value &a : acc)
            a = amx::TileZeroOp::create(b, loc, cType);
          for (int64_t st = 0; st < steps; ++st) {
            Value kAt = mul(add(firstChunk, idx(st * stepChunks)), kChunk);
            SmallVector<Value> as;
            for (int64_t a = 0; a < aTiles; ++a)
              as.push_back(amx::TileLoadOp::create(
                  b, loc, aType, xa16,
                  ValueRange{add(mBase, idx(a * aRows)), kAt}));
            for (int64_t bt = 0; bt < 2; ++bt) {
              Value bTile = amx::TileLoadOp::create(
                  b, loc, bType, wh,
                  ValueRange{idx(st * kLanes), idx(bt * kLanes * per)});
              for (int64_t a = 0; a < aTiles; ++a) {
                Value &c = acc[a * 2 + bt];
                c = ints ? Value(amx::TileMulIOp::create(b, loc, cType, as[a],
                                                         bTile, c))
                         : Value(amx::TileMulFOp::create(b, loc, cType, as[a],
                                                         bTile, c));
              }
            }
          }
          for (int64_t a = 0; a < aTiles; ++a)
            for (int64_t bt = 0; bt < 2; ++bt)
              amx::TileStoreOp::create(
                  b, loc, cb, ValueRange{idx(a * aRows), idx(bt * kLanes)},
                  acc[a * 2 + bt]);
        };
        int64_t stepsPerTile = tileChunks / stepChunks;
        int64_t last = (chunks % tileChunks + stepChunks - 1) / stepChunks;
        if (last == 0) {
          multiply(stepsPerTile);
        } else {
          Value whole = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                              count, idx(tileChunks));
          auto ifOp = scf::IfOp::create(b, loc, whole, /*withElseRegion=*/true);
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
          multiply(stepsPerTile);
          b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
          multiply(last);
        }
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t v = 0; v < 2; ++v) {
            Value sum = vector::LoadOp::create(
                b, loc, vec(accType), cb, ValueRange{idx(i), idx(v * kLanes)});
            if (ints) // Exact int32 sums times both scales.
              sum = arith::MulFOp::create(
                  b, loc, arith::SIToFPOp::create(b, loc, vec(f32), sum),
                  arith::MulFOp::create(
                      b, loc,
                      vector::LoadOp::create(
                          b, loc, vec(f32), wsc,
                          ValueRange{idx(0), idx(v * kLanes)}),
                      vector::BroadcastOp::create(
                          b, loc, vec(f32),
                          activationScale(add(mBase, idx(i)), idx(0)))));
            addToOut(add(mBase, idx(i)), add(mul(t, tileRows), idx(v * kLanes)),
                     sum);
          }
      });
}
