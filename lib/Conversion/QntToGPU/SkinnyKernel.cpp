//===- SkinnyKernel.cpp - Generated tensor-core dequant GEMV --------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/SkinnyKernel.h"

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

/// The largest chunk (bytes) whose window divides K and the group, or 0.
static int64_t chooseChunk(const KernelShape &shape) {
  int64_t bits = shape.scheme.getBitsPerCode();
  int64_t g = numerics::effectiveGroupSize(shape.k, shape.scheme.getGroupSize());
  for (int64_t bytes : {16, 8, 4}) {
    int64_t window = 4 * bytes * 8 / bits;
    if (shape.k % window == 0 && g % window == 0)
      return bytes;
  }
  return 0;
}

bool qnt::canUseSkinny(const KernelShape &shape) {
  auto [scheme, m, n, k, actType, outType] = shape;
  // A single row of the table kinds stays on the GEMV: the pair-table
  // lookups (shared-memory bank conflicts) make the skinny kernel up to 20 %
  // slower there (H100, bench/results/gpu-2026-11-23-h100-skinny).
  if (m == 1 && scheme.isTable())
    return false;
  return m >= 1 && m <= SkinnyConfig::kMaxRows &&
         (actType.isBF16() || actType.isF16()) &&
         scheme.getComputeType() == actType && chooseChunk(shape) != 0;
}

FailureOr<SkinnyConfig> qnt::chooseSkinnyConfig(const KernelShape &shape,
                                                const SkinnyTuning &tuning,
                                                std::string &whyNot) {
  if (tuning.warps < 0 || tuning.warps > 32 || tuning.unroll < 0 ||
      (tuning.tiles != 0 && tuning.tiles != 1 && tuning.tiles != 2 &&
       tuning.tiles != 4)) {
    whyNot = "skinny-warps must be in [0, 32], skinny-unroll >= 0 and "
             "skinny-tiles 0, 1, 2 or 4";
    return failure();
  }
  SkinnyConfig c{shape};
  c.chunkBytes = chooseChunk(shape);
  // Two tiles of channels per block share each activation load: that pays
  // with two tiles of M (int4: the activations are then 4x the code bytes)
  // and, for one row, only where N leaves thousands of blocks (4096 x 28672:
  // 7-13 % faster; N = 4096 or 6144: 3-16 % slower). A third and fourth
  // tile cost more in registers (occupancy) than they save (H100,
  // bench/results/gpu-2026-11-23-h100-tiles).
  c.tiles = tuning.tiles                     ? tuning.tiles
            : c.mTiles() > 1 || c.n >= 16384 ? 2
                                             : 1;
  int64_t windows = shape.k / c.window(shape.scheme.getBitsPerCode());
  // About 4096 warps over the GPU (32 per SM of an H100) keep enough loads
  // in flight to stream the weights at full bandwidth; the warps' partial
  // sums must fit in 48 KiB of shared memory.
  auto fits = [&](int64_t warps) {
    return warps * c.accumulators() * 32 * 4 <= 48 * 1024;
  };
  c.splitWarps = 1;
  while (c.splitWarps < 16 && c.gridX() * c.splitWarps < 4096 &&
         2 * c.splitWarps <= windows && fits(2 * c.splitWarps))
    c.splitWarps *= 2;
  // With two tiles, loading two windows at once takes so many registers
  // that fewer warps fit on an SM than the extra loads in flight are worth.
  c.unroll =
      c.tiles == 1 && windows % 2 == 0 && windows / c.splitWarps >= 4 ? 2 : 1;

  if (tuning.warps)
    c.splitWarps = tuning.warps;
  if (!fits(c.splitWarps)) {
    whyNot = "the partial sums of " + std::to_string(c.splitWarps) +
             " warps do not fit in 48 KiB of shared memory";
    return failure();
  }
  if (tuning.unroll)
    for (int64_t u = tuning.unroll; u >= 1; --u)
      if (windows % u == 0) {
        c.unroll = u;
        break;
      }
  return c;
}

namespace {

/// Emits one skinny kernel.
class SkinnyEmitter : public KernelEmitter {
public:
  SkinnyEmitter(OpBuilder &b, Location loc, const SkinnyConfig &c)
      : KernelEmitter(b, loc, c, c.blockThreads()), c(c) {
    cpc = c.codesPerChunk(bits);
    window = c.window(bits);
    numWords = c.chunkBytes / 4;
  }

  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

private:
  /// The i32 word as a pair of compute-type values, and back.
  Value asPair(Value word) {
    Value v = vector::FromElementsOp::create(
        b, loc, VectorType::get({1}, i32), ValueRange{word});
    return vector::BitCastOp::create(b, loc, VectorType::get({2}, actType), v);
  }
  Value asWord(Value pair) {
    Value v = vector::BitCastOp::create(b, loc, VectorType::get({1}, i32),
                                        pair);
    return vector::ExtractOp::create(b, loc, v, 0);
  }
  Value prmt(Value lo, Value hi, int64_t selector) {
    return NVVM::PermuteOp::create(b, loc, i32, lo, hi, i32c(selector),
                                   NVVM::PermuteMode::DEFAULT);
  }
  Value kOfLane(Value windowIdx) {
    return arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, windowIdx, idx(window)),
        arith::MulIOp::create(b, loc, t4, idx(cpc)));
  }
  Value groupOf(Value windowIdx) {
    return arith::DivUIOp::create(
        b, loc, arith::MulIOp::create(b, loc, windowIdx, idx(window)),
        idx(groupSize));
  }

  Value windowOf(Value groupIdx, int64_t u) {
    return arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, groupIdx, idx(c.unroll)),
        idx(u));
  }
  SmallVector<Value> loadActivations(Value kLane, Value token);
  SmallVector<Value> loadCodes(Value groupIdx);
  SmallVector<Value> loadScales(Value groupIdx);
  void accumulateWindow(ArrayRef<Value> codesIn, ArrayRef<Value> scalesIn,
                        Value windowIdx, MutableArrayRef<Value> acc);
  SmallVector<Value> int4Pairs(Value word, Value bias);
  void reduceAndStore(ArrayRef<Value> acc, Value warp, Value lane);

  const SkinnyConfig &c;
  int64_t cpc, window, numWords;
  /// Per window: values of loadCodes and loadScales.
  int64_t codesPerWindow, scalesPerWindow;
  /// With one tile of M, the activations are loaded with the codes, a group
  /// ahead (more rows would cost too many registers).
  bool prefetchX;
  Value t4, pairTable;
  /// Per tile the lane's two channels (grp and grp + 8 of the tile), and
  /// per tile of 8 rows of M the lane's row.
  SmallVector<Value> rows, tokens;
};

/// The activations of the lane's chunk in one row of M, as words of two
/// values.
SmallVector<Value> SkinnyEmitter::loadActivations(Value kLane, Value token) {
  int64_t perLoad = std::min<int64_t>(8, cpc);
  SmallVector<Value> words;
  for (int64_t p = 0; p < cpc; p += perLoad) {
    Value col = arith::AddIOp::create(b, loc, kLane, idx(p));
    Value v = vector::LoadOp::create(
        b, loc, VectorType::get({perLoad}, actType), x,
        ValueRange{token, col}, /*nontemporal=*/false,
        llvm::MaybeAlign(perLoad * actType.getIntOrFloatBitWidth() / 8));
    Value w = vector::BitCastOp::create(
        b, loc, VectorType::get({perLoad / 2}, i32), v);
    for (int64_t i = 0; i < perLoad / 2; ++i)
      words.push_back(vector::ExtractOp::create(b, loc, w, i));
  }
  return words;
}

/// The global reads of the codes of `unroll` windows: per window the code
/// words of the lane's channels (and its activations, see prefetchX).
SmallVector<Value> SkinnyEmitter::loadCodes(Value groupIdx) {
  SmallVector<Value> raw;
  for (int64_t u = 0; u < c.unroll; ++u) {
    Value kLane = kOfLane(windowOf(groupIdx, u));
    Value byteCol =
        bits == 8 ? kLane
                  : arith::DivUIOp::create(b, loc, kLane, idx(2)).getResult();
    for (Value row : rows) {
      Value bytes = vector::LoadOp::create(
          b, loc, VectorType::get({c.chunkBytes}, i8), codes,
          ValueRange{row, byteCol}, /*nontemporal=*/false,
          llvm::MaybeAlign(c.chunkBytes));
      Value words = vector::BitCastOp::create(
          b, loc, VectorType::get({numWords}, i32), bytes);
      for (int64_t i = 0; i < numWords; ++i)
        raw.push_back(vector::ExtractOp::create(b, loc, words, i));
    }
    if (prefetchX)
      llvm::append_range(raw, loadActivations(kLane, tokens[0]));
  }
  return raw;
}

/// The stored scales (and zero points) of the lane's channels for `unroll`
/// windows.
SmallVector<Value> SkinnyEmitter::loadScales(Value groupIdx) {
  SmallVector<Value> raw;
  for (int64_t u = 0; u < c.unroll; ++u) {
    Value g = groupOf(windowOf(groupIdx, u));
    for (Value row : rows)
      raw.push_back(loadScale(row, g));
    if (zp)
      for (Value row : rows)
        raw.push_back(memref::LoadOp::create(b, loc, zp, ValueRange{row, g}));
  }
  return raw;
}

/// The four pairs of an int4 word, minus the zero point: (e1, e5), (e0, e4),
/// (e3, e7), (e2, e6) for elements e0..e7 (e2i in the high nibble of byte i).
/// `bias` is the packed pair (magic + zero point).
SmallVector<Value> SkinnyEmitter::int4Pairs(Value word, Value bias) {
  int64_t magic = actType.isBF16() ? 0x43004300 : 0x64006400;
  SmallVector<Value> pairs;
  for (int64_t shift : {0, 4, 8, 12}) {
    Value field = arith::AndIOp::create(
        b, loc, arith::ShRUIOp::create(b, loc, word, i32c(shift)),
        i32c(0x000F000F));
    Value biased = arith::OrIOp::create(b, loc, field, i32c(magic));
    pairs.push_back(asWord(
        arith::SubFOp::create(b, loc, asPair(biased), asPair(bias))));
  }
  return pairs;
}

/// One window: dequantized pairs of the lane's channels against its
/// activations on the tensor cores, scaled once into `acc` (per tile of
/// channels, per tile of M, the 4 accumulators of an mma).
void SkinnyEmitter::accumulateWindow(ArrayRef<Value> raw,
                                     ArrayRef<Value> scalesIn, Value windowIdx,
                                     MutableArrayRef<Value> acc) {
  Value g = groupOf(windowIdx);
  Value kLane = kOfLane(windowIdx);
  size_t numRows = rows.size();
  SmallVector<Value> scale(numRows), bias(numRows);
  for (size_t r = 0; r < numRows; ++r) {
    scale[r] = finishScale(scalesIn[r], rows[r], g);
    Value zpRaw = zp ? scalesIn[numRows + r] : Value();
    if (bits == 8) {
      // 2^23 + zero point, as codeValue wants it.
      if (zp)
        bias[r] = arith::AddFOp::create(
            b, loc, arith::UIToFPOp::create(b, loc, f32, zpRaw),
            f32c(8388608.0f));
      continue;
    }
    if (s.isTable())
      continue;
    // (magic + zero point) in both halves; symmetric codes are made
    // unsigned by flipping their sign bits (below) and use 8.
    int64_t magicBits = actType.isBF16() ? 0x4300 : 0x6400;
    Value z = zp ? arith::AndIOp::create(
                       b, loc, arith::ExtUIOp::create(b, loc, i32, zpRaw),
                       i32c(0xFF))
                       .getResult()
                 : i32c(8);
    bias[r] = arith::MulIOp::create(
        b, loc, arith::OrIOp::create(b, loc, z, i32c(magicBits)),
        i32c(0x10001));
  }

  // The activations of the lane's chunk, per tile of 8 rows of M.
  SmallVector<SmallVector<Value>> xw;
  for (Value token : tokens)
    xw.push_back(prefetchX
                     ? SmallVector<Value>(raw.drop_front(numRows * numWords))
                     : loadActivations(kLane, token));

  SmallVector<Value> win(acc.size(), f32c(0.0f));
  int64_t mTiles = tokens.size();
  // One k16 step of channel tile t: A = (a0, a1, a2, a3), B per tile of M.
  auto step = [&](int64_t t, Value a0, Value a1, Value a2, Value a3,
                  function_ref<std::pair<Value, Value>(int64_t)> bOf) {
    for (int64_t mt = 0; mt < mTiles; ++mt) {
      auto [b0, b1] = bOf(mt);
      MutableArrayRef<Value> w =
          MutableArrayRef<Value>(win).slice(4 * (t * mTiles + mt), 4);
      SmallVector<Value> next = mma({a0, a1, a2, a3}, {b0, b1}, w);
      std::copy(next.begin(), next.end(), w.begin());
    }
  };
  // int4: the activations (x1, x5), (x0, x4), ... from the words (x0, x1),
  // (x2, x3), ..., in the order of the pairs int4Pairs makes; shared by the
  // channel tiles. Per tile of M, word and half of the word's k16 steps.
  SmallVector<std::pair<Value, Value>> permuted;
  if (bits == 4 && !s.isTable())
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t wi = 0; wi < numWords; ++wi)
        for (int64_t st = 0; st < 2; ++st) {
          Value lo = xw[mt][4 * wi + st], hi = xw[mt][4 * wi + 2 + st];
          permuted.push_back({prmt(lo, hi, 0x7632), prmt(lo, hi, 0x5410)});
        }
  for (int64_t wi = 0; wi < numWords; ++wi) {
    for (int64_t t = 0; t < c.tiles; ++t) {
      int64_t r0 = 2 * t;
      Value word[2] = {raw[r0 * numWords + wi], raw[(r0 + 1) * numWords + wi]};
      if (bits == 8) {
        // Elements e0..e3 (byte i), as pairs (e0, e1), (e2, e3).
        Value pairs[2][2];
        for (int64_t r = 0; r < 2; ++r)
          for (int64_t p = 0; p < 2; ++p) {
            Value lo = codeValue(word[r], 16 * p, bias[r0 + r]);
            Value hi = codeValue(word[r], 16 * p + 8, bias[r0 + r]);
            Value v = vector::FromElementsOp::create(
                b, loc, VectorType::get({2}, f32), ValueRange{lo, hi});
            pairs[r][p] = asWord(arith::TruncFOp::create(
                b, loc, VectorType::get({2}, actType), v));
          }
        step(t, pairs[0][0], pairs[1][0], pairs[0][1], pairs[1][1],
             [&](int64_t mt) {
               return std::make_pair(xw[mt][2 * wi], xw[mt][2 * wi + 1]);
             });
        continue;
      }
      if (s.isTable()) {
        // Byte i holds the pair (e2i, e2i+1): one lookup.
        Value pairs[2][4];
        for (int64_t r = 0; r < 2; ++r)
          for (int64_t i = 0; i < 4; ++i) {
            Value byte = arith::AndIOp::create(
                b, loc, arith::ShRUIOp::create(b, loc, word[r], i32c(8 * i)),
                i32c(0xFF));
            Value at =
                arith::IndexCastUIOp::create(b, loc, b.getIndexType(), byte);
            pairs[r][i] =
                memref::LoadOp::create(b, loc, pairTable, ValueRange{at});
          }
        for (int64_t st = 0; st < 2; ++st)
          step(t, pairs[0][2 * st], pairs[1][2 * st], pairs[0][2 * st + 1],
               pairs[1][2 * st + 1], [&](int64_t mt) {
                 return std::make_pair(xw[mt][4 * wi + 2 * st],
                                       xw[mt][4 * wi + 2 * st + 1]);
               });
        continue;
      }
      SmallVector<Value> pairs[2];
      for (int64_t r = 0; r < 2; ++r) {
        Value w = word[r];
        if (s.getSymmetric())
          w = arith::XOrIOp::create(b, loc, w, i32c(0x88888888));
        pairs[r] = int4Pairs(w, bias[r0 + r]);
      }
      // Pairs (e1, e5), (e0, e4) then (e3, e7), (e2, e6).
      for (int64_t st = 0; st < 2; ++st)
        step(t, pairs[0][2 * st], pairs[1][2 * st], pairs[0][2 * st + 1],
             pairs[1][2 * st + 1], [&](int64_t mt) {
               return permuted[(mt * numWords + wi) * 2 + st];
             });
    }
  }
  // Per mma, c0 and c1 belong to channel grp of the tile, c2 and c3 to
  // channel grp + 8.
  for (size_t i = 0; i < acc.size(); ++i) {
    int64_t t = i / (4 * mTiles);
    acc[i] = fma(win[i], scale[2 * t + (i % 4) / 2], acc[i]);
  }
}

/// The warps' partial sums meet in shared memory; out = init + their sum
/// for the channels and M rows of the block.
void SkinnyEmitter::reduceAndStore(ArrayRef<Value> acc, Value warp,
                                   Value lane) {
  Value red = extraSharedBuffers.back();
  for (size_t i = 0; i < acc.size(); ++i)
    memref::StoreOp::create(b, loc, acc[i], red,
                            ValueRange{warp, idx(i), lane});
  gpu::BarrierOp::create(b, loc);
  int64_t channels = c.channels();
  int64_t outputs = channels * 8 * c.mTiles();
  Value n0 = arith::MulIOp::create(
      b, loc, gpu::BlockIdOp::create(b, loc, gpu::Dimension::x), idx(channels));
  scf::ForOp::create(
      b, loc, tid, idx(outputs), idx(c.blockThreads()), ValueRange{},
      [&](OpBuilder &nb, Location nl, Value o, ValueRange) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        // Output o: channel r = o % channels of the block (t = r / 16 of
        // tile t), row j = o / channels of M; held by lane (r % 8) * 4 +
        // (j % 8) / 2 as accumulator (t * mTiles + j / 8) * 4 +
        // (r % 16 / 8) * 2 + j % 2.
        Value r = arith::RemUIOp::create(b, loc, o, idx(channels));
        Value j = arith::DivUIOp::create(b, loc, o, idx(channels));
        Value srcLane = arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(
                b, loc, arith::RemUIOp::create(b, loc, r, idx(8)), idx(4)),
            arith::DivUIOp::create(
                b, loc, arith::RemUIOp::create(b, loc, j, idx(8)), idx(2)));
        Value mma = arith::AddIOp::create(
            b, loc,
            arith::MulIOp::create(b, loc,
                                  arith::DivUIOp::create(b, loc, r, idx(16)),
                                  idx(c.mTiles())),
            arith::DivUIOp::create(b, loc, j, idx(8)));
        Value half = arith::DivUIOp::create(
            b, loc, arith::RemUIOp::create(b, loc, r, idx(16)), idx(8));
        Value e = arith::AddIOp::create(
            b, loc, arith::MulIOp::create(b, loc, mma, idx(4)),
            arith::AddIOp::create(b, loc,
                                  arith::MulIOp::create(b, loc, half, idx(2)),
                                  arith::RemUIOp::create(b, loc, j, idx(2))));
        Value sum = f32c(0.0f);
        for (int64_t w = 0; w < c.splitWarps; ++w)
          sum = arith::AddFOp::create(
              b, loc, sum,
              memref::LoadOp::create(b, loc, red,
                                     ValueRange{idx(w), e, srcLane}));
        Value chan = arith::AddIOp::create(b, loc, n0, r);
        addToOut(j, chan, sum);
        scf::YieldOp::create(b, loc);
      });
}

gpu::GPUFuncOp SkinnyEmitter::build(gpu::GPUModuleOp module, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  int64_t numAcc = c.accumulators();
  SmallVector<Type> extra;
  if (s.isTable())
    extra.push_back(sharedType({256}, i32));
  extra.push_back(sharedType({c.splitWarps, numAcc, 32}, f32));
  gpu::GPUFuncOp func = createKernel(module, name, extra);
  prefetchX = c.mTiles() == 1;
  codesPerWindow = 2 * c.tiles * numWords + (prefetchX ? cpc / 2 : 0);
  scalesPerWindow = (zp ? 4 : 2) * c.tiles;

  if (s.isTable()) {
    // The pair table: entry b = (T[b >> 4], T[b & 15]) in the compute type.
    pairTable = extraSharedBuffers.front();
    scf::ForOp::create(
        b, loc, tid, idx(256), idx(c.blockThreads()), ValueRange{},
        [&](OpBuilder &nb, Location nl, Value e, ValueRange) {
          OpBuilder::InsertionGuard g2(b);
          b.setInsertionPointToEnd(nb.getInsertionBlock());
          Value hi = memref::LoadOp::create(
              b, loc, table,
              ValueRange{arith::DivUIOp::create(b, loc, e, idx(16))});
          Value lo = memref::LoadOp::create(
              b, loc, table,
              ValueRange{arith::RemUIOp::create(b, loc, e, idx(16))});
          Value v = vector::FromElementsOp::create(
              b, loc, VectorType::get({2}, f32), ValueRange{hi, lo});
          Value pair = asWord(arith::TruncFOp::create(
              b, loc, VectorType::get({2}, actType), v));
          memref::StoreOp::create(b, loc, pair, pairTable, ValueRange{e});
          scf::YieldOp::create(b, loc);
        });
    gpu::BarrierOp::create(b, loc);
  }

  Value warp = arith::DivUIOp::create(b, loc, tid, idx(32));
  Value lane = arith::RemUIOp::create(b, loc, tid, idx(32));
  Value grp = arith::DivUIOp::create(b, loc, lane, idx(4));
  t4 = arith::RemUIOp::create(b, loc, lane, idx(4));
  Value n0 = arith::MulIOp::create(
      b, loc, gpu::BlockIdOp::create(b, loc, gpu::Dimension::x),
      idx(c.channels()));
  // Channels past N and rows past M read the last valid one; their results
  // are never stored.
  for (int64_t r = 0; r < 2 * c.tiles; ++r)
    rows.push_back(
        minIdx(arith::AddIOp::create(
                   b, loc, n0, arith::AddIOp::create(b, loc, grp, idx(8 * r))),
               n - 1));
  for (int64_t mt = 0; mt < c.mTiles(); ++mt)
    tokens.push_back(minIdx(
        arith::AddIOp::create(b, loc, grp, idx(8 * mt)), m - 1));

  // Warp w takes the groups of `unroll` windows w, w + splitWarps, ...; the
  // codes of its next group are loaded before this one's arithmetic, the
  // scales two groups ahead (ptxas sinks the loads of values a loop carries
  // to the end of its body: one group ahead would expose their latency).
  int64_t groupsOfWindows = k / window / c.unroll;
  auto clampGroup = [&](Value gi, int64_t ahead) {
    return minIdx(arith::AddIOp::create(b, loc, gi, idx(ahead * c.splitWarps)),
                  groupsOfWindows - 1);
  };
  int64_t numCodes = c.unroll * codesPerWindow;
  int64_t numScales = c.unroll * scalesPerWindow;
  SmallVector<Value> inits(numAcc, f32c(0.0f));
  llvm::append_range(inits, loadCodes(clampGroup(warp, 0)));
  llvm::append_range(inits, loadScales(clampGroup(warp, 0)));
  llvm::append_range(inits, loadScales(clampGroup(warp, 1)));
  auto loop = scf::ForOp::create(
      b, loc, warp, idx(groupsOfWindows), idx(c.splitWarps), inits,
      [&](OpBuilder &nb, Location nl, Value gi, ValueRange iterIn) {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        SmallVector<Value> acc(iterIn.take_front(numAcc));
        SmallVector<Value> codesNow(iterIn.slice(numAcc, numCodes));
        SmallVector<Value> scalesNow(
            iterIn.slice(numAcc + numCodes, numScales));
        SmallVector<Value> scalesNext(iterIn.take_back(numScales));
        SmallVector<Value> codesNext = loadCodes(clampGroup(gi, 1));
        SmallVector<Value> scalesAfter = loadScales(clampGroup(gi, 2));
        for (int64_t u = 0; u < c.unroll; ++u)
          accumulateWindow(
              ArrayRef<Value>(codesNow).slice(u * codesPerWindow,
                                              codesPerWindow),
              ArrayRef<Value>(scalesNow).slice(u * scalesPerWindow,
                                               scalesPerWindow),
              windowOf(gi, u), acc);
        llvm::append_range(acc, codesNext);
        llvm::append_range(acc, scalesNext);
        llvm::append_range(acc, scalesAfter);
        scf::YieldOp::create(b, loc, acc);
      });
  reduceAndStore(SmallVector<Value>(loop.getResults().take_front(numAcc)),
                 warp, lane);
  gpu::ReturnOp::create(b, loc);
  return func;
}

} // namespace

gpu::GPUFuncOp qnt::buildSkinnyKernel(OpBuilder &builder, Location loc,
                                      gpu::GPUModuleOp module,
                                      const SkinnyConfig &config,
                                      StringRef name) {
  return SkinnyEmitter(builder, loc, config).build(module, name);
}
