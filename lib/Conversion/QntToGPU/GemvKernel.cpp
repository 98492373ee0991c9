//===- GemvKernel.cpp - Generated dequant-GEMV kernels --------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/GemvKernel.h"

#include "KernelEmitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

FailureOr<GemvConfig> qnt::chooseGemvConfig(const KernelShape &shape,
                                            const GemvTuning &tuning,
                                            std::string &whyNot) {
  GemvConfig c{shape};
  auto [scheme, m, n, k, actType, outType] = shape;
  // Up to 8 activation rows share each load of the weights.
  c.mTile = std::min<int64_t>(m, 8);
  // Two output channels per warp keep two 16-byte loads in flight; wide
  // layers get 8 warps a block.
  c.rowsPerWarp = 2;
  c.warpsPerBlock = n >= 8192 ? 8 : 4;
  int64_t bits = scheme.getBitsPerCode();
  int64_t perWord = 32 / bits, perChunk = 4 * perWord;
  int64_t g = numerics::effectiveGroupSize(k, scheme.getGroupSize());
  c.vectorized = k % perChunk == 0 && g % perWord == 0;
  c.unroll = 1;

  if (tuning.rowsPerWarp < 0 || tuning.warpsPerBlock < 0 || tuning.unroll < 0) {
    whyNot = "tuning values must be >= 0";
    return failure();
  }
  if (tuning.rowsPerWarp)
    c.rowsPerWarp = tuning.rowsPerWarp;
  if (tuning.warpsPerBlock) {
    if (tuning.warpsPerBlock > 32) {
      whyNot = "warps-per-block must be at most 32 (1024 threads)";
      return failure();
    }
    c.warpsPerBlock = tuning.warpsPerBlock;
  }
  if (tuning.unroll && c.vectorized) {
    // The largest unroll up to the request that divides a lane's chunks.
    int64_t chunks = k / perChunk;
    for (int64_t u = tuning.unroll; u >= 1; --u)
      if (chunks % (32 * u) == 0) {
        c.unroll = u;
        break;
      }
  }
  return c;
}

namespace {

/// Emits one GEMV kernel.
class GemvEmitter : public KernelEmitter {
public:
  GemvEmitter(OpBuilder &b, Location loc, const GemvConfig &c)
      : KernelEmitter(b, loc, c, c.blockThreads()),
        c(c) {}

  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

private:
  /// Rounds an f32 operand to the scheme's compute type (and back).
  Value toCompute(Value v) {
    Type compute = s.getComputeType();
    if (compute == f32)
      return v;
    return arith::ExtFOp::create(
        b, loc, f32, arith::TruncFOp::create(b, loc, compute, v).getResult());
  }
  Value codeValueScalar(Value row, Value kIdx, Value zp);
  SmallVector<Value> vectorLoop(Value lane, ArrayRef<Value> rows,
                                ArrayRef<Value> mRows);
  SmallVector<Value> scalarLoop(Value lane, ArrayRef<Value> rows,
                                ArrayRef<Value> mRows);
  Value warpSum(Value v);

  const GemvConfig &c;
};

/// The unscaled value of element k of a row, reading its byte (scalar path).
Value GemvEmitter::codeValueScalar(Value row, Value kIdx, Value zpBias) {
  Value col = bits == 8 ? kIdx : arith::DivUIOp::create(b, loc, kIdx, idx(2));
  Value byte = memref::LoadOp::create(b, loc, codes, ValueRange{row, col});
  Value word = arith::ExtUIOp::create(b, loc, i32, byte);
  if (bits == 8)
    return codeValue(word, 0, zpBias);
  // Element 2i is the high nibble: shift = 4 * (1 - k % 2).
  Value odd = arith::IndexCastUIOp::create(
      b, loc, i32, arith::RemUIOp::create(b, loc, kIdx, idx(2)));
  Value shift = arith::MulIOp::create(
      b, loc, arith::SubIOp::create(b, loc, i32c(1), odd), i32c(4));
  Value nibWord = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, word, shift), i32c(15));
  return codeValue(nibWord, 0, zpBias);
}

/// 16-byte loads: lane `lane` takes chunks lane, lane+32, ... of each row.
/// 16-byte loads: lane `lane` takes chunks lane, lane+32, ... of each row.
/// Each iteration first issues the loads of `unroll` chunks of every row
/// (several 16-byte loads in flight per lane), then dequantizes and
/// accumulates them.
SmallVector<Value> GemvEmitter::vectorLoop(Value lane, ArrayRef<Value> rows,
                                           ArrayRef<Value> mRows) {
  int64_t chunks = c.k / perChunk;
  int64_t r = rows.size(), mt = mRows.size();
  int64_t unroll = c.unroll;
  SmallVector<Value> inits(r * mt, f32c(0.0f));
  bool scalePerChunk = groupSize % perChunk == 0;
  auto bytesType = VectorType::get({16}, i8);
  auto wordsType = VectorType::get({4}, i32);
  auto xType = VectorType::get({perWord}, c.actType);
  // kWord is a multiple of perWord and rows hold whole chunks, so activation
  // loads are aligned to their size (capped at 16 bytes).
  int64_t xAlign =
      std::min<int64_t>(16, perWord * c.actType.getIntOrFloatBitWidth() / 8);
  auto loop = scf::ForOp::create(
      b, loc, lane, idx(chunks), idx(32 * unroll), inits,
      [&](OpBuilder &nb, Location nl, Value chunk0, ValueRange accIn) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        SmallVector<Value> acc(accIn.begin(), accIn.end());
        // All loads of this iteration first.
        SmallVector<Value> kChunks, words, chunkScale, chunkZp;
        for (int64_t u = 0; u < unroll; ++u) {
          Value chunk = arith::AddIOp::create(b, loc, chunk0, idx(32 * u));
          Value byteCol = arith::MulIOp::create(b, loc, chunk, idx(16));
          kChunks.push_back(arith::MulIOp::create(b, loc, chunk, idx(perChunk)));
          for (int64_t ri = 0; ri < r; ++ri)
            words.push_back(vector::BitCastOp::create(
                b, loc, wordsType,
                vector::LoadOp::create(b, loc, bytesType, codes,
                                       ValueRange{rows[ri], byteCol},
                                       /*nontemporal=*/false,
                                       llvm::MaybeAlign(16))));
          if (scalePerChunk) {
            Value g = arith::DivUIOp::create(b, loc, kChunks.back(),
                                             idx(groupSize));
            for (int64_t ri = 0; ri < r; ++ri) {
              chunkScale.push_back(decodeScale(rows[ri], g));
              chunkZp.push_back(zeroPointBias(rows[ri], g));
            }
          }
        }
        for (int64_t u = 0; u < unroll; ++u) {
          for (int64_t w = 0; w < 4; ++w) {
            Value kWord =
                arith::AddIOp::create(b, loc, kChunks[u], idx(w * perWord));
            // The activations of this word, shared by all rows.
            SmallVector<SmallVector<Value>> xs(mt);
            for (int64_t mi = 0; mi < mt; ++mi) {
              Value xv = vector::LoadOp::create(
                  b, loc, xType, x, ValueRange{mRows[mi], kWord},
                  /*nontemporal=*/false, llvm::MaybeAlign(xAlign));
              for (int64_t j = 0; j < perWord; ++j)
                xs[mi].push_back(toCompute(
                    toF32(vector::ExtractOp::create(b, loc, xv, j))));
            }
            for (int64_t ri = 0; ri < r; ++ri) {
              Value scale, zpBias;
              if (scalePerChunk) {
                scale = chunkScale[u * r + ri];
                zpBias = chunkZp[u * r + ri];
              } else {
                Value g =
                    arith::DivUIOp::create(b, loc, kWord, idx(groupSize));
                scale = decodeScale(rows[ri], g);
                zpBias = zeroPointBias(rows[ri], g);
              }
              Value word =
                  vector::ExtractOp::create(b, loc, words[u * r + ri], w);
              SmallVector<Value> dots(mt, f32c(0.0f));
              for (int64_t j = 0; j < perWord; ++j) {
                // Element j of the word: 4-bit element 2i is the high
                // nibble of byte i.
                int64_t shift =
                    bits == 8 ? 8 * j : 8 * (j / 2) + (j % 2 ? 0 : 4);
                Value q = codeValue(word, shift, zpBias);
                for (int64_t mi = 0; mi < mt; ++mi)
                  dots[mi] = fma(q, xs[mi][j], dots[mi]);
              }
              for (int64_t mi = 0; mi < mt; ++mi)
                acc[mi * r + ri] = fma(dots[mi], scale, acc[mi * r + ri]);
            }
          }
        }
        scf::YieldOp::create(b, loc, acc);
      });
  return SmallVector<Value>(loop.getResults());
}

/// One code at a time: lane `lane` takes elements lane, lane+32, ...
SmallVector<Value> GemvEmitter::scalarLoop(Value lane, ArrayRef<Value> rows,
                                           ArrayRef<Value> mRows) {
  int64_t r = rows.size(), mt = mRows.size();
  SmallVector<Value> inits(r * mt, f32c(0.0f));
  auto loop = scf::ForOp::create(
      b, loc, lane, idx(c.k), idx(32), inits,
      [&](OpBuilder &nb, Location nl, Value kIdx, ValueRange accIn) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        SmallVector<Value> acc(accIn.begin(), accIn.end());
        Value g = arith::DivUIOp::create(b, loc, kIdx, idx(groupSize));
        SmallVector<Value> xs;
        for (int64_t mi = 0; mi < mt; ++mi)
          xs.push_back(toCompute(toF32(memref::LoadOp::create(
              b, loc, x, ValueRange{mRows[mi], kIdx}))));
        for (int64_t ri = 0; ri < r; ++ri) {
          Value q = codeValueScalar(rows[ri], kIdx, zeroPointBias(rows[ri], g));
          Value w = arith::MulFOp::create(b, loc, q, decodeScale(rows[ri], g));
          for (int64_t mi = 0; mi < mt; ++mi)
            acc[mi * r + ri] = fma(w, xs[mi], acc[mi * r + ri]);
        }
        scf::YieldOp::create(b, loc, acc);
      });
  return SmallVector<Value>(loop.getResults());
}

/// Butterfly sum over the 32 lanes of a warp.
Value GemvEmitter::warpSum(Value v) {
  return warpAllReduce(b, loc, v, [&](Value x, Value y) -> Value {
    return arith::AddFOp::create(b, loc, x, y);
  });
}

gpu::GPUFuncOp GemvEmitter::build(gpu::GPUModuleOp module, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  gpu::GPUFuncOp func = createKernel(module, name, {});
  Value bx = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);

  Value warp = arith::DivUIOp::create(b, loc, tid, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, tid, idx(32));
  Value rowBase = arith::MulIOp::create(
      b, loc,
      arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, bx, idx(c.warpsPerBlock)), warp),
      idx(c.rowsPerWarp));
  Value mBase = arith::MulIOp::create(b, loc, by, idx(c.mTile));
  // Out-of-range rows read a valid row (the last) and skip the store.
  SmallVector<Value> rows, rowsRaw, mRows, mRaw;
  for (int64_t ri = 0; ri < c.rowsPerWarp; ++ri) {
    rowsRaw.push_back(arith::AddIOp::create(b, loc, rowBase, idx(ri)));
    rows.push_back(minIdx(rowsRaw.back(), c.n - 1));
  }
  for (int64_t mi = 0; mi < c.mTile; ++mi) {
    mRaw.push_back(arith::AddIOp::create(b, loc, mBase, idx(mi)));
    mRows.push_back(minIdx(mRaw.back(), c.m - 1));
  }

  SmallVector<Value> acc = c.vectorized ? vectorLoop(lane, rows, mRows)
                                        : scalarLoop(lane, rows, mRows);

  Value isLane0 = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        lane, idx(0));
  for (int64_t mi = 0; mi < c.mTile; ++mi) {
    for (int64_t ri = 0; ri < c.rowsPerWarp; ++ri) {
      Value sum = warpSum(acc[mi * c.rowsPerWarp + ri]);
      // Rows in range are their own clamped rows.
      addToOut(mRaw[mi], rowsRaw[ri], sum, isLane0);
    }
  }
  gpu::ReturnOp::create(b, loc);
  return func;
}

} // namespace

gpu::GPUFuncOp qnt::buildGemvKernel(OpBuilder &builder, Location loc,
                                    gpu::GPUModuleOp module,
                                    const GemvConfig &config, StringRef name) {
  return GemvEmitter(builder, loc, config).build(module, name);
}
