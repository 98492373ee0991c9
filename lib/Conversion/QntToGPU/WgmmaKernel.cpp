//===- WgmmaKernel.cpp - Generated dequant GEMM on Hopper wgmma -----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/WgmmaKernel.h"

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

bool qnt::canUseWgmma(const KernelShape &shape) {
  auto [scheme, m, n, k, actType, outType] = shape;
  if (m < 64 || !(actType.isBF16() || actType.isF16()) ||
      scheme.getComputeType() != actType || k % WgmmaConfig::kStepK != 0)
    return false;
  return numerics::effectiveGroupSize(k, scheme.getGroupSize()) % 32 == 0;
}

WgmmaConfig qnt::chooseWgmmaConfig(const KernelShape &shape) {
  WgmmaConfig c{shape};
  // Two m64 tiles per warpgroup halve the dequantization per multiply-add;
  // up to 128 rows one is enough.
  c.mTiles = shape.m > 128 ? 2 : 1;
  return c;
}

namespace {

/// Emits one wgmma GEMM kernel.
class WgmmaEmitter : public KernelEmitter {
public:
  WgmmaEmitter(OpBuilder &b, Location loc, const WgmmaConfig &c)
      : KernelEmitter(b, loc, c, WgmmaConfig::kThreads), c(c) {}

  gpu::GPUFuncOp build(gpu::GPUModuleOp module, StringRef name);

private:
  static constexpr int64_t kRowBytes = 128; // 64 values of K per tile row.

  Value i32Of(Value index) {
    return arith::IndexCastUIOp::create(b, loc, i32, index);
  }
  /// a + v (index or i32).
  Value add(Value a, Value v) { return arith::AddIOp::create(b, loc, a, v); }
  Value mul(Value a, int64_t v) {
    return arith::MulIOp::create(b, loc, a, idx(v));
  }
  /// Byte offset of 16-byte chunk `chunk` of tile row `row` in the 128-byte
  /// swizzle: chunk ^ (row % 8).
  Value swizzled(Value row, Value chunk) {
    Value phys = arith::XOrIOp::create(
        b, loc, chunk, arith::RemUIOp::create(b, loc, row, idx(8)));
    return add(mul(row, kRowBytes), mul(phys, 16));
  }

  SmallVector<Value> loadWeights(Value kStep);
  void storeWeights(ArrayRef<Value> raw, Value stage);
  void loadActivations(Value kStep, Value stage);
  Value descriptor(Value byteAddr);

  const WgmmaConfig &c;
  int64_t numRaw = 0;
  // Per-thread constants.
  Value wRow, wHalf, nRow, mBlock;
  // Dynamic shared memory: its 32-bit shared address, the offset of the
  // first 1024-byte boundary in it, and a view as i32 words.
  Value dynAddr, smemBase, smemWords;
  // The activations as a global pointer (cp.async source).
  Value xGlobal;
  Type sharedPtr, globalPtr;
};

/// The global reads of one step's weights for this thread: 32 codes of
/// output channel nRow (one 16-byte load for 4-bit codes, two for 8-bit),
/// their stored scale, the double-quant block scale and the zero point.
SmallVector<Value> WgmmaEmitter::loadWeights(Value kStep) {
  SmallVector<Value> raw;
  Value kStart = add(mul(kStep, WgmmaConfig::kStepK), mul(wHalf, 32));
  Value byteCol =
      bits == 8 ? kStart
                : arith::DivUIOp::create(b, loc, kStart, idx(2)).getResult();
  auto bytesType = VectorType::get({16}, i8);
  for (int64_t part = 0; part < bits / 4; ++part)
    raw.push_back(
        vector::LoadOp::create(b, loc, bytesType, codes,
                               ValueRange{nRow, add(byteCol, idx(16 * part))},
                               /*nontemporal=*/false, llvm::MaybeAlign(16)));
  Value g = arith::DivUIOp::create(b, loc, kStart, idx(groupSize));
  raw.push_back(loadScale(nRow, g));
  if (Value block = loadBlockScale(nRow, g))
    raw.push_back(block);
  if (zp)
    raw.push_back(memref::LoadOp::create(b, loc, zp, ValueRange{nRow, g}));
  return raw;
}

/// Dequantizes one step's weights (loadWeights' values) to the compute type
/// and stores them as four 16-byte chunks of this thread's tile row.
void WgmmaEmitter::storeWeights(ArrayRef<Value> raw, Value stage) {
  unsigned next = bits / 4;
  Value stored = raw[next++];
  Value blockScale = s.getDoubleQuant() ? raw[next++] : Value();
  Value scale = scaleFrom(stored, blockScale);
  Value zpBias = zp ? zeroPointBiasFrom(raw[next++]) : Value();
  auto wordsType = VectorType::get({4}, i32);
  SmallVector<Value> values;
  for (int64_t part = 0; part < bits / 4; ++part) {
    Value words = vector::BitCastOp::create(b, loc, wordsType, raw[part]);
    for (int64_t w = 0; w < 4; ++w) {
      Value word = vector::ExtractOp::create(b, loc, words, w);
      for (int64_t j = 0; j < perWord; ++j) {
        // 4-bit element 2i is the high nibble of byte i.
        int64_t shift = bits == 8 ? 8 * j : 8 * (j / 2) + (j % 2 ? 0 : 4);
        Value q = codeValue(word, shift, zpBias);
        Value wv = arith::MulFOp::create(b, loc, q, scale);
        values.push_back(arith::TruncFOp::create(b, loc, actType, wv));
      }
    }
  }
  // Weight tiles follow the activation tiles of all stages.
  Value tileBase = add(idx(c.stages * c.tileM() * kRowBytes),
                       mul(stage, c.kTileN * kRowBytes));
  auto chunkType = VectorType::get({8}, actType);
  for (int64_t chunk = 0; chunk < 4; ++chunk) {
    Value v = vector::BitCastOp::create(
        b, loc, wordsType,
        vector::FromElementsOp::create(
            b, loc, chunkType, ArrayRef<Value>(values).slice(8 * chunk, 8)));
    Value off = add(add(smemBase, tileBase),
                    swizzled(wRow, add(mul(wHalf, 4), idx(chunk))));
    Value wordIdx = arith::DivUIOp::create(b, loc, off, idx(4));
    vector::StoreOp::create(b, loc, v, smemWords, ValueRange{wordIdx},
                            /*nontemporal=*/false, llvm::MaybeAlign(16));
  }
}

/// cp.async of one step's activations [tileM, 64] into a stage: 16-byte
/// chunk q of the tile (row q / 8, chunk q % 8) by thread q % 256. Rows past
/// M read the last row (their results are not stored).
void WgmmaEmitter::loadActivations(Value kStep, Value stage) {
  Value tileBase = add(smemBase, mul(stage, c.tileM() * kRowBytes));
  Value kBase = mul(kStep, WgmmaConfig::kStepK);
  Value chunk = arith::RemUIOp::create(b, loc, tid, idx(8));
  Value row0 = arith::DivUIOp::create(b, loc, tid, idx(8));
  int64_t rowsPerPass = WgmmaConfig::kThreads / 8;
  for (int64_t pass = 0; pass < c.tileM() / rowsPerPass; ++pass) {
    Value row = add(row0, idx(pass * rowsPerPass));
    Value mRow = minIdx(add(mBlock, row), m - 1);
    Value off = add(tileBase, swizzled(row, chunk));
    Value dst =
        LLVM::IntToPtrOp::create(b, loc, sharedPtr, add(dynAddr, i32Of(off)));
    Value elem = add(mul(mRow, k), add(kBase, mul(chunk, 8)));
    Value src = LLVM::GEPOp::create(b, loc, globalPtr, actType, xGlobal,
                                    ArrayRef<LLVM::GEPArg>{i32Of(elem)});
    NVVM::CpAsyncOp::create(
        b, loc, dst, src, b.getI32IntegerAttr(16),
        NVVM::LoadCacheModifierKindAttr::get(b.getContext(),
                                             NVVM::LoadCacheModifierKind::CG),
        /*cpSize=*/Value());
  }
  NVVM::CpAsyncCommitGroupOp::create(b, loc);
}

/// The wgmma shared-memory descriptor of a K-major tile at byte address
/// `byteAddr` (i32) in the 128-byte swizzle: start address >> 4, leading
/// byte offset 16 (unused by this layout), stride byte offset 1024 (8 rows
/// of 128 bytes), layout type 1 (128B swizzle) in bits 62-63.
Value WgmmaEmitter::descriptor(Value byteAddr) {
  Type i64 = b.getI64Type();
  auto c64 = [&](uint64_t v) {
    return arith::ConstantIntOp::create(b, loc, i64, v).getResult();
  };
  Value addr = arith::ExtUIOp::create(b, loc, i64, byteAddr);
  Value start = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, addr, c64(4)), c64(0x3FFF));
  uint64_t fixed =
      (uint64_t(1) << 16) | (uint64_t(1024 >> 4) << 32) | (uint64_t(1) << 62);
  return arith::OrIOp::create(b, loc, start, c64(fixed));
}

gpu::GPUFuncOp WgmmaEmitter::build(gpu::GPUModuleOp module, StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  MLIRContext *ctx = b.getContext();
  gpu::GPUFuncOp func = createKernel(module, name, {});
  if (s.getDoubleQuant())
    dqOffsetValue = memref::LoadOp::create(b, loc, dqOffset, ValueRange{});

  Value bx = gpu::BlockIdOp::create(b, loc, gpu::Dimension::x);
  Value by = gpu::BlockIdOp::create(b, loc, gpu::Dimension::y);
  mBlock = mul(bx, c.tileM());
  Value nBlock = mul(by, WgmmaConfig::kTileN);
  wRow = arith::DivUIOp::create(b, loc, tid, idx(2));
  wHalf = arith::RemUIOp::create(b, loc, tid, idx(2));
  nRow = minIdx(add(nBlock, wRow), n - 1);

  // Dynamic shared memory, aligned up to 1024 bytes.
  auto wg = gpu::AddressSpaceAttr::get(
      ctx, gpu::GPUDialect::getWorkgroupAddressSpace());
  auto dynType = MemRefType::get({ShapedType::kDynamic}, i8, AffineMap(), wg);
  Value dyn = gpu::DynamicSharedMemoryOp::create(b, loc, dynType);
  Value rawAddr = memref::ExtractAlignedPointerAsIndexOp::create(b, loc, dyn);
  smemBase = arith::RemUIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, idx(1024),
                            arith::RemUIOp::create(b, loc, rawAddr, idx(1024))),
      idx(1024));
  dynAddr = i32Of(rawAddr);
  int64_t total = c.smemBytes();
  auto view = [&](Type elem, int64_t bytesPer) -> Value {
    return memref::ViewOp::create(
        b, loc, MemRefType::get({total / bytesPer}, elem, AffineMap(), wg), dyn,
        idx(0), ValueRange{});
  };
  smemWords = view(i32, 4);

  // The activations' address: the aligned pointer of their memref
  // descriptor as the device lowering builds it (32-bit index fields), also
  // from bare-pointer arguments; the cast folds away in that lowering.
  sharedPtr = LLVM::LLVMPointerType::get(
      ctx, static_cast<unsigned>(NVVM::NVVMMemorySpace::Shared));
  globalPtr = LLVM::LLVMPointerType::get(
      ctx, static_cast<unsigned>(NVVM::NVVMMemorySpace::Global));
  Type genericPtr = LLVM::LLVMPointerType::get(ctx);
  auto dims = LLVM::LLVMArrayType::get(i32, 2);
  auto descType = LLVM::LLVMStructType::getLiteral(
      ctx, {genericPtr, genericPtr, i32, dims, dims});
  Value desc =
      UnrealizedConversionCastOp::create(b, loc, descType, x).getResult(0);
  Value xPtr = LLVM::ExtractValueOp::create(b, loc, desc, 1);
  xGlobal = LLVM::AddrSpaceCastOp::create(b, loc, globalPtr, xPtr);

  int64_t steps = k / WgmmaConfig::kStepK;
  auto clampStep = [&](Value step) { return minIdx(step, steps - 1); };
  auto stageOf = [&](Value step) {
    return arith::RemUIOp::create(b, loc, step, idx(c.stages)).getResult();
  };

  // Prologue: activations of steps 0 .. stages - 3 in flight, weights of
  // steps 0 and 1 in registers.
  int64_t ahead = c.stages - 2;
  for (int64_t st = 0; st < ahead; ++st)
    loadActivations(clampStep(idx(st)), idx(st));
  auto accType = LLVM::LLVMStructType::getLiteral(
      ctx, SmallVector<Type>(WgmmaConfig::kTileN / 2, f32));
  SmallVector<Value> inits;
  for (int64_t i = 0; i < c.mTiles; ++i)
    inits.push_back(LLVM::ZeroOp::create(b, loc, accType));
  SmallVector<Value> w0 = loadWeights(idx(0));
  numRaw = w0.size();
  llvm::append_range(inits, w0);
  llvm::append_range(inits, loadWeights(clampStep(idx(1))));

  Value warp = arith::DivUIOp::create(b, loc, tid, idx(32));
  Value wgIdx = arith::DivUIOp::create(b, loc, warp, idx(4));
  auto wgmmaType =
      actType.isBF16() ? NVVM::WGMMATypes::bf16 : NVVM::WGMMATypes::f16;
  // One step of K: updates `acc` with `now` (the step's weights from
  // loadWeights) and returns the weights of the step two further on.
  auto runStep = [&](Value step, SmallVector<Value> &acc,
                     ArrayRef<Value> now) -> SmallVector<Value> {
    Value stage = stageOf(step);
    // The weights two steps on first: the compiler sinks loads towards
    // their use, but not past the barrier below.
    SmallVector<Value> later = loadWeights(clampStep(add(step, idx(2))));
    // Stage this step: its weights (registers -> shared), its activations
    // (cp.async issued `ahead` steps ago); then make the ordinary and
    // cp.async writes visible to the tensor cores.
    storeWeights(now, stage);
    NVVM::CpAsyncWaitGroupOp::create(b, loc, ahead - 1);
    NVVM::FenceProxyOp::create(
        b, loc, NVVM::ProxyKind::async_shared,
        NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
    gpu::BarrierOp::create(b, loc);

    // 4 x mTiles wgmma m64n128k16 per warpgroup.
    Value aStage = add(smemBase, mul(stage, c.tileM() * kRowBytes));
    Value bStage = add(add(smemBase, idx(c.stages * c.tileM() * kRowBytes)),
                       mul(stage, WgmmaConfig::kTileN * kRowBytes));
    auto address = [&](Value byteOff) { return add(dynAddr, i32Of(byteOff)); };
    NVVM::WgmmaFenceAlignedOp::create(b, loc);
    for (int64_t ks = 0; ks < WgmmaConfig::kStepK / 16; ++ks) {
      Value descB = descriptor(address(add(bStage, idx(32 * ks))));
      for (int64_t i = 0; i < c.mTiles; ++i) {
        Value rows = mul(add(mul(wgIdx, c.mTiles), idx(i)), 64);
        Value descA = descriptor(
            address(add(add(aStage, mul(rows, kRowBytes)), idx(32 * ks))));
        acc[i] = NVVM::WgmmaMmaAsyncOp::create(
            b, loc, accType, acc[i], descA, descB,
            NVVM::MMAShapeAttr::get(ctx, 64, WgmmaConfig::kTileN, 16),
            wgmmaType, wgmmaType, NVVM::WGMMATypes::f32,
            NVVM::WGMMAScaleOut::one, NVVM::WGMMAScaleIn::one,
            NVVM::WGMMAScaleIn::one, NVVM::MMALayout::row, NVVM::MMALayout::col,
            /*satfinite=*/nullptr);
      }
    }
    NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);

    // While the tensor cores work: the activations `ahead` steps on (their
    // stage was last read by step - 2, finished by every warpgroup before
    // this step's barrier); then wait for the previous step's wgmma.
    Value far = add(step, idx(ahead));
    loadActivations(clampStep(far), stageOf(far));
    NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
    return later;
  };

  // Two steps per iteration, each with its own set of weight registers:
  // the loads of step s + 2 land in the registers step s used, with no
  // copy between iterations (a copy would wait for the load).
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(steps - steps % 2), idx(2), inits,
      [&](OpBuilder &nb, Location nl, Value step, ValueRange iterIn) {
        OpBuilder::InsertionGuard g2(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        SmallVector<Value> acc(iterIn.take_front(c.mTiles));
        SmallVector<Value> yield;
        SmallVector<Value> laterA = runStep(
            step, acc, SmallVector<Value>(iterIn.slice(c.mTiles, numRaw)));
        SmallVector<Value> laterB = runStep(
            add(step, idx(1)), acc,
            SmallVector<Value>(iterIn.slice(c.mTiles + numRaw, numRaw)));
        llvm::append_range(yield, acc);
        llvm::append_range(yield, laterA);
        llvm::append_range(yield, laterB);
        scf::YieldOp::create(b, loc, yield);
      });
  SmallVector<Value> accOut(loop.getResults().take_front(c.mTiles));
  if (steps % 2)
    runStep(idx(steps - 1), accOut,
            SmallVector<Value>(loop.getResults().slice(c.mTiles, numRaw)));
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);

  // Epilogue: accumulator 4 j + e of m-tile i holds row 16 * (warp % 4) +
  // grp (+ 8 for e >= 2), column 8 j + 2 * t4 + e % 2 of the warpgroup's
  // 64 x 128 tile.
  Value lane = arith::RemUIOp::create(b, loc, tid, idx(32));
  Value grp = arith::DivUIOp::create(b, loc, lane, idx(4));
  Value t4 = arith::RemUIOp::create(b, loc, lane, idx(4));
  Value warpRow =
      add(mul(arith::RemUIOp::create(b, loc, warp, idx(4)), 16), grp);
  // Eight column blocks (32 sums) at a time: their loads of `out` in
  // flight together.
  for (int64_t i = 0; i < c.mTiles; ++i) {
    Value rowBase =
        add(add(mBlock, mul(add(mul(wgIdx, c.mTiles), idx(i)), 64)), warpRow);
    Value acc = accOut[i];
    for (int64_t j0 = 0; j0 < WgmmaConfig::kTileN / 8; j0 += 8) {
      SmallVector<OutPair> pairs;
      for (int64_t j = j0; j < j0 + 8; ++j)
        for (int64_t half = 0; half < 2; ++half) {
          int64_t e = 4 * j + 2 * half;
          pairs.push_back({add(rowBase, idx(8 * half)),
                           add(nBlock, add(mul(t4, 2), idx(8 * j))),
                           LLVM::ExtractValueOp::create(b, loc, acc, e),
                           LLVM::ExtractValueOp::create(b, loc, acc, e + 1)});
        }
      addPairsToOut(pairs);
    }
  }
  gpu::ReturnOp::create(b, loc);
  return func;
}

} // namespace

gpu::GPUFuncOp qnt::buildWgmmaKernel(OpBuilder &builder, Location loc,
                                     gpu::GPUModuleOp module,
                                     const WgmmaConfig &config,
                                     StringRef name) {
  return WgmmaEmitter(builder, loc, config).build(module, name);
}
