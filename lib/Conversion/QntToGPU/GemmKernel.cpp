//===- GemmKernel.cpp - Generated dequant tensor-core GEMM ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/GemmKernel.h"

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

bool qnt::canUseGemm(const KernelShape &shape) {
  auto [scheme, m, n, k, actType, outType] = shape;
  if (m < 9 || !(actType.isBF16() || actType.isF16()) ||
      scheme.getComputeType() != actType || k % GemmConfig::kTileK != 0)
    return false;
  // Below a full tile of rows the GEMM only pays when its grid fills a large
  // GPU (measured on the H100: 4096 x 28672 at M = 16 runs 1.9x faster than
  // the GEMV, 4096 x 4096 1.7x slower).
  int64_t blocks = ((n + 63) / 64) * ((m + 63) / 64);
  if (m < 64 && blocks < kMinGemmBlocks)
    return false;
  int64_t g = numerics::effectiveGroupSize(k, scheme.getGroupSize());
  return g % GemmConfig::kTileK == 0;
}

GemmConfig qnt::chooseGemmConfig(const KernelShape &shape) {
  GemmConfig c{shape};
  // A larger tile halves the dequantization per multiply-add.
  c.tile = shape.m >= 128 ? 128 : 64;
  return c;
}

namespace {

/// Emits one GEMM kernel. Shared tiles hold pairs of 16-bit values as i32
/// (the register format of mma.sync operands) in 16-byte elements, rows
/// padded from 4 to 5 of them (80 bytes) so that the 8 row addresses of an
/// ldmatrix hit distinct banks; ldmatrix.x4 loads the mma fragments.
class GemmEmitter : public KernelEmitter {
public:
  GemmEmitter(OpBuilder &b, Location loc, const GemmConfig &c)
      : KernelEmitter(b, loc, c, c.blockThreads()),
        c(c) {}

  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

private:
  static constexpr int64_t kRowBytes = 80;

  SmallVector<Value> loadStep(Value k0, Value row, Value half);
  void storeStep(ArrayRef<Value> raw, Value row, Value half);
  /// ldmatrix.x4 from the shared byte address `addr` (i32): 4 packed words.
  SmallVector<Value> ldmatrix4(Value addr) {
    MLIRContext *ctx = b.getContext();
    auto ptrType = LLVM::LLVMPointerType::get(
        ctx, static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared));
    Value ptr = LLVM::IntToPtrOp::create(b, loc, ptrType, addr);
    auto resType = LLVM::LLVMStructType::getLiteral(ctx, {i32, i32, i32, i32});
    Value r = NVVM::LdMatrixOp::create(
        b, loc, resType, ptr, b.getI32IntegerAttr(4),
        NVVM::MMALayoutAttr::get(ctx, NVVM::MMALayout::row),
        NVVM::LdStMatrixShapeAttr::get(ctx, 8, 8),
        NVVM::LdStMatrixEltTypeAttr::get(ctx, NVVM::LdStMatrixEltType::B16));
    SmallVector<Value> words;
    for (int64_t i = 0; i < 4; ++i)
      words.push_back(LLVM::ExtractValueOp::create(b, loc, r, i));
    return words;
  }
  /// Shared byte address (i32) of a tile's row and 16-byte column.
  Value tileAddress(Value base, Value row, Value byteCol) {
    Value off = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, row, idx(kRowBytes)), byteCol);
    return arith::AddIOp::create(
        b, loc, base, arith::IndexCastUIOp::create(b, loc, i32, off));
  }
  /// Global row `row` of this block's tile along `dim` (y: M, x: N),
  /// clamped to the last valid row (its results are never stored).
  Value tileRow(gpu::Dimension dim, Value row, int64_t rows) {
    Value start = arith::MulIOp::create(
        b, loc, gpu::BlockIdOp::create(b, loc, dim), idx(c.tile));
    return minIdx(arith::AddIOp::create(b, loc, start, row), rows - 1);
  }
  /// Stores 4 packed words at element (half * 2 + part) of a tile row.
  void storeWords(Value tile, Value row, Value half, int64_t part,
                  Value words) {
    Value col = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, half, idx(2)), idx(part));
    memref::StoreOp::create(b, loc, words, tile, ValueRange{row, col});
  }

  const GemmConfig &c;
  Value aTile, bTile;
};

/// Thread (row, half) loads 16 activations of its row (two 16-byte loads)
/// and 16 codes of its output channel with their scale: the global reads
/// of one step of K, issued a step ahead of their use.
SmallVector<Value> GemmEmitter::loadStep(Value k0, Value row, Value half) {
  SmallVector<Value> raw;
  Value mRow = tileRow(gpu::Dimension::y, row, m);
  Value kStart = arith::AddIOp::create(
      b, loc, k0, arith::MulIOp::create(b, loc, half, idx(16)));
  auto vecType = VectorType::get({8}, actType);
  for (int64_t part = 0; part < 2; ++part) {
    Value col = arith::AddIOp::create(b, loc, kStart, idx(8 * part));
    raw.push_back(vector::LoadOp::create(b, loc, vecType, x,
                                         ValueRange{mRow, col},
                                         /*nontemporal=*/false,
                                         llvm::MaybeAlign(16)));
  }
  // 16 codes: 8 bytes (4-bit) or 16 bytes (8-bit); groups are multiples of
  // 32, so one scale covers them.
  Value nRow = tileRow(gpu::Dimension::x, row, n);
  int64_t bytes = 16 * bits / 8;
  Value byteCol =
      bits == 8 ? kStart
                : arith::DivUIOp::create(b, loc, kStart, idx(2)).getResult();
  raw.push_back(vector::LoadOp::create(b, loc, VectorType::get({bytes}, i8),
                                       codes, ValueRange{nRow, byteCol},
                                       /*nontemporal=*/false,
                                       llvm::MaybeAlign(bytes)));
  Value g = arith::DivUIOp::create(b, loc, kStart, idx(groupSize));
  raw.push_back(decodeScale(nRow, g));
  if (zp)
    raw.push_back(zeroPointBias(nRow, g));
  return raw;
}

/// Stores one step's activations, and its weights dequantized to the compute
/// type, as packed words into the shared tiles.
void GemmEmitter::storeStep(ArrayRef<Value> raw, Value row, Value half) {
  auto wordsType = VectorType::get({4}, i32);
  for (int64_t part = 0; part < 2; ++part)
    storeWords(aTile, row, half, part,
               vector::BitCastOp::create(b, loc, wordsType, raw[part]));
  int64_t numWords = 16 * bits / 8 / 4;
  Value words = vector::BitCastOp::create(
      b, loc, VectorType::get({numWords}, i32), raw[2]);
  Value scale = raw[3];
  Value zpBias = zp ? raw[4] : Value();
  SmallVector<Value> values;
  for (int64_t w = 0; w < numWords; ++w) {
    Value word = vector::ExtractOp::create(b, loc, words, w);
    for (int64_t j = 0; j < perWord; ++j) {
      int64_t shift = bits == 8 ? 8 * j : 8 * (j / 2) + (j % 2 ? 0 : 4);
      Value q = codeValue(word, shift, zpBias);
      Value wv = arith::MulFOp::create(b, loc, q, scale);
      values.push_back(arith::TruncFOp::create(b, loc, actType, wv));
    }
  }
  // Two stores of 8 values (4 packed words) each.
  auto halfType = VectorType::get({8}, actType);
  for (int64_t part = 0; part < 2; ++part) {
    Value quarter = vector::BitCastOp::create(
        b, loc, wordsType,
        vector::FromElementsOp::create(
            b, loc, halfType, ArrayRef<Value>(values).slice(8 * part, 8)));
    storeWords(bTile, row, half, part, quarter);
  }
}

gpu::GPUFuncOp GemmEmitter::build(gpu::GPUModuleOp module, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  // Two buffers of T rows each (double buffering).
  Type tileType =
      sharedType({2 * c.tile, kRowBytes / 16}, VectorType::get({4}, i32));
  int64_t warpRows = c.tile / c.warpsM(), warpCols = c.tile / c.warpsN();
  int64_t mTiles = warpRows / 16, nTiles = warpCols / 8;
  gpu::GPUFuncOp func = createKernel(module, name, {tileType, tileType});
  aTile = extraSharedBuffers[0];
  bTile = extraSharedBuffers[1];

  Value warp = arith::DivUIOp::create(b, loc, tid, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, tid, idx(32));
  Value grp = arith::DivUIOp::create(b, loc, lane, idx(4));
  Value t4 = arith::RemUIOp::create(b, loc, lane, idx(4));
  Value wm = arith::DivUIOp::create(b, loc, warp, idx(c.warpsN()));
  Value wn = arith::RemUIOp::create(b, loc, warp, idx(c.warpsN()));
  Value loadRow = arith::DivUIOp::create(b, loc, tid, idx(2));
  // Shared byte addresses of the tiles, and each lane's ldmatrix row/column:
  // A (16 x 16): rows lane % 16, 16-byte column lane / 16; B (two 8 x 16
  // tiles of N): rows lane % 8 + 8 * (lane / 16), column (lane / 8) % 2.
  auto baseOf = [&](Value tile) -> Value {
    Value p = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, tile);
    return arith::IndexCastUIOp::create(b, loc, i32, p);
  };
  Value aBase = baseOf(aTile), bBase = baseOf(bTile);
  Value aLaneRow = arith::RemUIOp::create(b, loc, lane, idx(16));
  Value aLaneCol = arith::MulIOp::create(
      b, loc, arith::DivUIOp::create(b, loc, lane, idx(16)), idx(16));
  Value bLaneRow = arith::AddIOp::create(
      b, loc, arith::RemUIOp::create(b, loc, lane, idx(8)),
      arith::MulIOp::create(b, loc,
                            arith::DivUIOp::create(b, loc, lane, idx(16)),
                            idx(8)));
  Value bLaneCol = arith::MulIOp::create(
      b, loc,
      arith::RemUIOp::create(b, loc,
                             arith::DivUIOp::create(b, loc, lane, idx(8)),
                             idx(2)),
      idx(16));
  Value loadHalf = arith::RemUIOp::create(b, loc, tid, idx(2));
  // This lane's first ldmatrix row of the warp's A and B sub-tiles.
  Value aRow = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, wm, idx(warpRows)), aLaneRow);
  Value bRow = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, wn, idx(warpCols)), bLaneRow);

  // mTiles x nTiles tiles of 16 x 8 per warp, 4 accumulators each, then the
  // global reads of the next step. Software pipeline over two shared
  // buffers: step i dequantizes step i+1 into one buffer and issues the
  // global reads of step i+2 while the tensor cores work on the other; one
  // barrier per step.
  int64_t numAcc = mTiles * nTiles * 4;
  int64_t step = GemmConfig::kTileK;
  auto clampStep = [&](Value kValue) -> Value {
    return arith::MinUIOp::create(b, loc, kValue, idx(k - step));
  };
  storeStep(loadStep(idx(0), loadRow, loadHalf), loadRow, loadHalf);
  gpu::BarrierOp::create(b, loc);
  SmallVector<Value> inits(numAcc, f32c(0.0f));
  SmallVector<Value> second = loadStep(clampStep(idx(step)), loadRow, loadHalf);
  inits.append(second.begin(), second.end());
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(k), idx(step), inits,
      [&](OpBuilder &nb, Location nl, Value k0, ValueRange iterIn) {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        ValueRange accIn = iterIn.take_front(numAcc);
        // This step's buffer p = (k0 / step) % 2; the next one 1 - p (the
        // last step writes a harmless copy of itself there).
        Value p = arith::RemUIOp::create(
            b, loc, arith::DivUIOp::create(b, loc, k0, idx(step)), idx(2));
        Value pNext = arith::SubIOp::create(b, loc, idx(1), p);
        Value rowOffset = arith::MulIOp::create(b, loc, p, idx(c.tile));
        Value nextRow = arith::AddIOp::create(
            b, loc, loadRow, arith::MulIOp::create(b, loc, pNext, idx(c.tile)));
        storeStep(SmallVector<Value>(iterIn.drop_front(numAcc)), nextRow,
                  loadHalf);
        SmallVector<Value> prefetched = loadStep(
            clampStep(arith::AddIOp::create(b, loc, k0, idx(2 * step))),
            loadRow, loadHalf);
        SmallVector<Value> acc(accIn.begin(), accIn.end());
        // Two k16 steps of 32 bytes per tile row.
        for (int64_t kk = 0; kk < GemmConfig::kTileK * 2; kk += 32) {
          SmallVector<SmallVector<Value>> aFrags, bFrags;
          for (int64_t mi = 0; mi < mTiles; ++mi) {
            Value row = arith::AddIOp::create(
                b, loc, rowOffset,
                arith::AddIOp::create(b, loc, aRow, idx(16 * mi)));
            aFrags.push_back(ldmatrix4(tileAddress(
                aBase, row, arith::AddIOp::create(b, loc, aLaneCol, idx(kk)))));
          }
          for (int64_t ni = 0; ni < nTiles; ni += 2) {
            Value row = arith::AddIOp::create(
                b, loc, rowOffset,
                arith::AddIOp::create(b, loc, bRow, idx(8 * ni)));
            SmallVector<Value> w = ldmatrix4(tileAddress(
                bBase, row, arith::AddIOp::create(b, loc, bLaneCol, idx(kk))));
            bFrags.push_back({w[0], w[1]});
            bFrags.push_back({w[2], w[3]});
          }
          for (int64_t mi = 0; mi < mTiles; ++mi)
            for (int64_t ni = 0; ni < nTiles; ++ni) {
              int64_t base = (mi * nTiles + ni) * 4;
              SmallVector<Value> next = mma(
                  aFrags[mi], bFrags[ni], ArrayRef<Value>(acc).slice(base, 4));
              std::copy(next.begin(), next.end(), acc.begin() + base);
            }
        }
        gpu::BarrierOp::create(b, loc);
        acc.append(prefetched.begin(), prefetched.end());
        scf::YieldOp::create(b, loc, acc);
      });

  // Epilogue: out = init + acc, for the rows and columns that exist.
  Value mBlock = arith::MulIOp::create(
      b, loc, gpu::BlockIdOp::create(b, loc, gpu::Dimension::y),
      idx(c.tile));
  Value nBlock = arith::MulIOp::create(
      b, loc, gpu::BlockIdOp::create(b, loc, gpu::Dimension::x),
      idx(c.tile));
  // c0, c1: (row grp, cols 2*t4 + {0,1}); c2, c3: row grp + 8. One m16
  // tile's sums at a time.
  Value warpRow = arith::AddIOp::create(
      b, loc, mBlock,
      arith::AddIOp::create(
          b, loc, arith::MulIOp::create(b, loc, wm, idx(warpRows)), grp));
  Value warpCol = arith::AddIOp::create(
      b, loc, nBlock,
      arith::AddIOp::create(b, loc,
                            arith::MulIOp::create(b, loc, wn, idx(warpCols)),
                            arith::MulIOp::create(b, loc, t4, idx(2))));
  for (int64_t mi = 0; mi < mTiles; ++mi) {
    SmallVector<OutPair> pairs;
    for (int64_t ni = 0; ni < nTiles; ++ni) {
      Value col = arith::AddIOp::create(b, loc, warpCol, idx(8 * ni));
      for (int64_t half = 0; half < 2; ++half) {
        int64_t e = (mi * nTiles + ni) * 4 + 2 * half;
        pairs.push_back(
            {arith::AddIOp::create(b, loc, warpRow, idx(16 * mi + 8 * half)),
             col, loop.getResult(e), loop.getResult(e + 1)});
      }
    }
    addPairsToOut(pairs);
  }
  gpu::ReturnOp::create(b, loc);
  return func;
}

} // namespace

gpu::GPUFuncOp qnt::buildGemmKernel(OpBuilder &builder, Location loc,
                                    gpu::GPUModuleOp module,
                                    const GemmConfig &config, StringRef name) {
  return GemmEmitter(builder, loc, config).build(module, name);
}
