//===- CpuKernel.cpp - Generated CPU matmul kernels -----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Builds, with the vector dialect on buffers, the kernel of one quantized
// layer, out [M, N] += x [M, K] W^T. Weights are decoded 32 at a time (a
// "chunk"): 16 bytes of 4-bit codes or 32 bytes of 8-bit codes become two
// 16-lane f32 vectors. For 4-bit codes the two vectors hold the high
// nibbles (even k) and the low nibbles (odd k) of the chunk; the GEMV
// (up to kCpuGemvMaxRows activation rows; the pass slices 8 < M <
// kCpuTileMinRows into such GEMVs) de-interleaves the activations to match,
// the tiles (from kCpuTileMinRows rows) store the decoded weights by k. A
// 4-bit code is an index into the group's 16-entry table, already
// multiplied by the group's scale, so the
// decoded weight is table[code] * scale exactly as the reference lowering
// computes it.
//
// The integer GEMV (AVX2/AVX-512, Numerics/IntDot.h) instead quantizes the
// activations per block into 16-bit integers first, turns each chunk's
// codes into 16-bit integer weights (two pshufb lookups of the low and high
// bytes of the 16 integer values, interleaved), multiplies and sums pairs
// exactly in 32 bits (vpmaddwd and vpaddd) and converts to f32 once per
// block. On AVX-512 VNNI it works on 512-bit vectors: a chunk's 32 integer
// weights come from one vpermw of the group's 16-bit table and one
// vpdpwssd multiplies and adds them per activation row. From kCpuTileMinRows
// activation rows the integer path takes tiles on AVX-512 VNNI (512-bit
// vpdpwssd) and the f32 tiles below it (faster at M = 512 than the integer
// GEMV run per 8 rows).
//
// W8A8 (`act = int8`) quantizes each activation row to int8 codes instead
// (one scale per row; outliers listed apart, added by the GEMV while the
// weight row is in cache, after the tiles by a sparse pass) and always
// takes the integer path: the 16-bit GEMV on the codes, on AVX-512 VNNI
// tiles of vpdpbusd (four int8 products per lane), on AMX (per channel)
// tdpbssd tiles, below VNNI the GEMV on slices of 8 rows, on the portable
// level pair sums in plain vectors. With AMX the bf16 compute type's tiles
// run tdpbf16ps.
//
// The bf16 GEMV (AVX-512 BF16, bf16 compute type) converts the
// activations to bf16 once, in each chunk's decode order (4-bit: even k,
// then odd k); a 4-bit chunk's 32 codes pick their bf16 weights from the
// group's scaled table with one vpermw, 8-bit ones are scaled in f32 and
// converted; vdpbf16ps multiplies the 32 bf16 pairs (exactly) and adds
// them to 16 f32 sums. The weights and activations are the reference
// lowering's (table[code] * scale and x, each rounded to bf16); only the
// order of the f32 sums differs (and vdpbf16ps flushes denormals). The
// tiles take f32 FMAs with weights and activations rounded to bf16:
// on the AVX-512 BF16 machine measured (bench/results) vdpbf16ps peaks at
// 0.44 x the f32 FMA rate and the f32 tiles were 1.0-1.6x faster.
//
//===----------------------------------------------------------------------===//

#include "CpuKernel.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/SymbolTable.h"
#include "qmlir/Numerics/IntDot.h"
#include "qmlir/Numerics/Quantize.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {

constexpr int64_t kChunk = 32;      ///< Weights decoded at once.
constexpr int64_t kLanes = 16;      ///< f32 lanes of a vector.
constexpr int64_t kF32TileBytes = 16384; ///< f32 tiles: decoded weights.
constexpr int64_t kIntTileK = 512;       ///< Integer tiles: K per tile, about.
constexpr int64_t kIntMicroRows = 12;    ///< Integer tiles: activation rows.
constexpr int64_t kAmxTileChunks = 32;   ///< AMX tiles: chunks per K tile.
/// AMX tiles: activation rows per micro-kernel (two A tiles of 16); the
/// activation buffers' rows are padded to a multiple of it.
constexpr int64_t kAmxRows = 32;
/// Tiles: padding of the activation buffers' rows. The micro-kernels read
/// 12 rows at once, which without it would all map to the same L1 set
/// when K is a multiple of 1024 or 2048.
constexpr int64_t kRowPad = 32;
constexpr const char *kDynamicMapName = "qnt_cpu_dynamic_map";

/// The decode constants of one (weight row, group).
struct GroupParams {
  Value table; ///< 4-bit: the group's 16 values, scaled.
  Value tableBf16; ///< 4-bit, bf16 dot: the same as 32 x i16 (bf16 bits,
                   ///< the 16 values twice), vpermw's table.
  Value scale; ///< 8-bit: the scale, splat.
  Value zp;    ///< 8-bit asymmetric: the zero point, splat i32.
};

/// The integer decode constants of one (weight row, group).
struct IntParams {
  Value tableLo, tableHi; ///< 4-bit: pshufb tables of the integer weights.
  Value table16; ///< 4-bit, 512-bit path: the same as 32 x i16 (vpermw).
  Value zp;      ///< 8-bit asymmetric: the zero point, splat i16.
};

using Body = llvm::function_ref<SmallVector<Value>(Value, ValueRange)>;
/// (tile row, weight row, chunk, chunk in the K tile, group, masked).
using ChunkFn =
    llvm::function_ref<void(Value, Value, Value, Value, Value, bool)>;
/// (tile, first chunk of the K tile, chunks in it).
using TileFn = llvm::function_ref<void(Value, Value, Value)>;
/// The same and (first activation row, rows).
using MicroFn = llvm::function_ref<void(Value, Value, Value, Value, int64_t)>;

class CpuKernelEmitter {
public:
  CpuKernelEmitter(OpBuilder &b, Location loc, const CpuKernelShape &shape,
                   CpuIsa isa, bool intDot)
      : b(b), loc(loc), s(shape.scheme), m(shape.m), n(shape.n), k(shape.k),
        isa(isa) {
    f32 = b.getF32Type();
    i32 = b.getI32Type();
    i16 = b.getI16Type();
    i8 = b.getI8Type();
    bits = s.getBitsPerCode();
    groupSize = numerics::effectiveGroupSize(k, s.getGroupSize());
    groups = s.getNumGroups(k);
    fullChunks = k / kChunk;
    chunks = (k + kChunk - 1) / kChunk;
    chunksPerGroup = groups == 1 ? chunks : groupSize / kChunk;
    // The f32 micro-kernel's accumulators (activation rows x the tile's
    // columns, two vectors), weights and broadcast activation nearly fill
    // the register file: 32 zmm (12 x 2 of 16 lanes + 3) or 16 ymm (6 x 2
    // of 8 lanes + 3).
    bool wide = isa >= CpuIsa::Avx512;
    microLanes = wide ? 16 : 8;
    microRows = wide ? 12 : 6;
    useIntDot = cpuKernelUsesIntDot(shape, isa, intDot);
    actInt8 = s.getActInt8();
    threshold = s.getThreshold();
    useBf16 = cpuKernelUsesBf16Dot(shape, isa);
    wideInt = useIntDot && isa >= CpuIsa::Avx512Vnni;
    amxTiles = cpuKernelUsesAmxTiles(shape, isa);
    if (useIntDot) {
      plan = numerics::planIntDot(s.toNumerics(), k);
      blockChunks = plan.block / kChunk;
      blocks = (chunks + blockChunks - 1) / blockChunks;
    }
  }

  func::FuncOp build(ModuleOp module, StringRef name);

private:
  // Small builders.
  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  VectorType vec(Type t, int64_t lanes = kLanes) {
    return VectorType::get({lanes}, t);
  }
  Value splatInt(Type t, int64_t v, int64_t lanes = kLanes) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec(t, lanes), IntegerAttr::get(t, v)));
  }
  Value f32Scalar(float v) {
    return arith::ConstantFloatOp::create(b, loc, llvm::cast<FloatType>(f32),
                                          APFloat(v));
  }
  Value floatVector(ArrayRef<float> values) {
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec(f32, values.size()), values));
  }
  Value zeroVector(int64_t lanes = kLanes) {
    return floatVector(SmallVector<float>(lanes, 0.0f));
  }
  Value add(Value a, Value c) { return arith::AddIOp::create(b, loc, a, c); }
  Value mul(Value a, int64_t c) {
    return arith::MulIOp::create(b, loc, a, idx(c));
  }
  Value minIdx(Value a, Value c) {
    return arith::MinSIOp::create(b, loc, a, c);
  }
  SmallVector<Value> forLoop(Value lb, Value ub, int64_t step, ValueRange init,
                             Body body);
  Value lookup(Value table, Value index);
  Value x86(StringRef intrinsic, Type result, ValueRange args);

  // The kernel's pieces.
  Value loadScale(Value row, Value group);
  GroupParams groupParams(Value row, Value group);
  Value loadBytes(Value row, Value col, bool masked, int64_t lanes = kLanes);
  Value loadZeroPoint(Value row, Value group);
  std::pair<Value, Value> loadNibbles(Value row, Value chunk, bool masked);
  Value lookupWords(Value table, Value row, Value chunk, bool masked);
  std::pair<Value, Value> decodeChunk(const GroupParams &p, Value row,
                                      Value chunk, bool masked,
                                      bool round = true);
  Value toCompute(Value v);
  Value loadX(Value row, Value col, bool masked, int64_t lanes = kLanes);
  /// K ends in a partial chunk (per-channel K not a multiple of 32).
  bool hasTail() const { return fullChunks < chunks; }
  std::pair<Value, Value> xChunk(Value row, Value chunk, bool masked);
  Value rowInRange(Value at, int64_t step);
  void accumulate(Value row, Value col, Value acc, Value valid);
  void buildGemv();
  void buildGemvRows();
  SmallVector<Value> gemvStep(ArrayRef<Value> rows,
                              ArrayRef<GroupParams> params, Value chunk,
                              ValueRange accs, bool masked);
  SmallVector<Value> floatRows(ArrayRef<Value> rows);
  // Tiles (more activation rows).
  void forEachTileChunk(Value tile, Value firstChunk, Value tileChunks,
                        ChunkFn fn);
  void storeColumn(Value v, Value buf, Value base, Value r,
                   ArrayRef<int64_t> at);
  void addToOut(Value row, Value col, Value acc);
  void tileLoop(int64_t tileChunks, int64_t mr,
                llvm::function_ref<void()> setup, TileFn decode, MicroFn micro);
  Value alloc(int64_t rows, int64_t cols, Type t);
  void buildTiled();
  // The integer path (Numerics/IntDot.h).
  void quantizeActivations();
  void quantizeActivationsInt8();
  Value activationScale(Value row, Value block);
  Value addOutliers(Value i, Value row, Value sum);
  void addOutliersToOut();
  void buildGemvSlices();
  IntParams intParams(Value row, Value group);
  Value intWeights(const IntParams &p, Value row, Value chunk, bool masked);
  SmallVector<int64_t> intOrder() const;
  /// Lanes of the integer GEMV's sums: 16 on the 512-bit path, else 8.
  int64_t intLanes() const { return wideInt ? kLanes : 8; }
  SmallVector<Value> intBlock(ArrayRef<Value> rows, Value block, Value begin,
                              Value end, bool tail, ValueRange accs);
  SmallVector<Value> intRows(ArrayRef<Value> rows);
  Value broadcastLane(Value row, Value k);
  void buildIntTiled();
  void buildAmxTiled();
  // bf16 dot products (AVX-512 BF16).
  Value toBf16(Value low, Value high);
  Value convertActivations(int64_t rows, bool decodeOrder);
  Value decodeBf16(const GroupParams &p, Value row, Value chunk, bool masked);

  OpBuilder &b;
  Location loc;
  SchemeAttr s;
  int64_t m, n, k;
  CpuIsa isa;
  Type f32, i32, i16, i8;
  int64_t bits, groupSize, groups, fullChunks, chunks, chunksPerGroup;
  int64_t microLanes, microRows;
  int64_t tileRows = 0; ///< Tiles: weight rows (output columns) per tile.
  bool useIntDot, useBf16;
  /// W8A8 (`act = int8`): int8 activation codes per row, and its
  /// outlier threshold (0: none).
  bool actInt8;
  float threshold;
  /// Integer path on 512-bit vectors (AVX-512 VNNI, with BW): a chunk's 32
  /// weights through one vpermw, one vpdpwssd per chunk and row.
  bool wideInt = false;
  bool amxTiles = false; ///< More than kCpuGemvMaxRows rows on AMX tiles.
  numerics::IntDotPlan plan;
  int64_t blockChunks = 0, blocks = 0;
  ModuleOp module;
  Value x, codes, scales, zp, dqScales, dqOffset, out, dynMap;
  Value xq, xs; ///< Integer GEMV: the activations [M, chunks * 32] i16 and
                ///< their scales [M, blocks] (W8A8: [M, 1]).
  /// W8A8 with an outlier threshold: per activation row the outliers' k
  /// [M, K] i32 and x [M, K] f32 (the first outCount[i] of row i).
  Value outK, outX, outCount;
  /// W8A8 integer tiles: xq holds int8 codes, xsum [M, blocks] i32 128 x
  /// the sum of each block's codes.
  Value xsum;
  Value xb;     ///< bf16 dot: the activations [M, chunks * 32] bf16, each
                ///< chunk in decodeBf16's order.
};

SmallVector<Value> CpuKernelEmitter::forLoop(Value lb, Value ub, int64_t step,
                                             ValueRange init, Body body) {
  auto loop = scf::ForOp::create(b, loc, lb, ub, idx(step), init);
  OpBuilder::InsertionGuard guard(b);
  if (init.empty()) {
    b.setInsertionPoint(loop.getBody()->getTerminator());
    body(loop.getInductionVar(), {});
  } else {
    b.setInsertionPointToStart(loop.getBody());
    SmallVector<Value> next =
        body(loop.getInductionVar(), loop.getRegionIterArgs());
    scf::YieldOp::create(b, loc, next);
  }
  return SmallVector<Value>(loop.getResults());
}

/// The LLVM target features code for `isa` needs (none for generic).
static LLVM::TargetFeaturesAttr featuresOf(MLIRContext *ctx, CpuIsa isa) {
  switch (isa) {
  case CpuIsa::Amx:
    return LLVM::TargetFeaturesAttr::get(
        ctx,
        {"+avx512f", "+avx512vl", "+avx512bw", "+avx512vnni", "+avx512bf16",
         "+amx-tile", "+amx-bf16", "+amx-int8", "+avx2", "+fma", "+f16c"});
  case CpuIsa::Avx512Bf16:
    return LLVM::TargetFeaturesAttr::get(
        ctx, {"+avx512f", "+avx512vl", "+avx512bw", "+avx512vnni",
              "+avx512bf16", "+avx2", "+fma", "+f16c"});
  case CpuIsa::Avx512Vnni:
    return LLVM::TargetFeaturesAttr::get(ctx, {"+avx512f", "+avx512vl",
                                               "+avx512bw", "+avx512vnni",
                                               "+avx2", "+fma", "+f16c"});
  case CpuIsa::Avx512:
    return LLVM::TargetFeaturesAttr::get(
        ctx, {"+avx512f", "+avx2", "+fma", "+f16c"});
  case CpuIsa::Avx2:
    return LLVM::TargetFeaturesAttr::get(ctx, {"+avx2", "+fma", "+f16c"});
  case CpuIsa::Generic:
    return {};
  }
  llvm_unreachable("unknown ISA");
}

/// `intrinsic` through an always-inline llvm.func: an op of unknown
/// effects (llvm.call_intrinsic) would stop buffer deallocation, which also
/// visits the kernels.
Value CpuKernelEmitter::x86(StringRef intrinsic, Type result, ValueRange args) {
  std::string name = "qnt_cpu_" + intrinsic.drop_front(9).str(); // "llvm.x86."
  std::replace(name.begin(), name.end(), '.', '_');
  auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
  if (!fn) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    fn = LLVM::LLVMFuncOp::create(
        b, loc, name,
        LLVM::LLVMFunctionType::get(result, llvm::to_vector(args.getTypes())),
        LLVM::Linkage::Internal);
    fn.setAlwaysInline(true);
    // Compilable on its own in a library for a generic CPU.
    CpuIsa needs = intrinsic.starts_with("llvm.x86.avx512bf16.")
                       ? CpuIsa::Avx512Bf16
                   : intrinsic.starts_with("llvm.x86.avx512.vpdp") ||
                           intrinsic.starts_with("llvm.x86.avx512.permvar.hi")
                       ? CpuIsa::Avx512Vnni
                   : intrinsic.starts_with("llvm.x86.avx512.") ? CpuIsa::Avx512
                                                               : CpuIsa::Avx2;
    fn.setTargetFeaturesAttr(featuresOf(b.getContext(), needs));
    Block *body = fn.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    Value r = LLVM::CallIntrinsicOp::create(b, loc, result,
                                            b.getStringAttr(intrinsic),
                                            body->getArguments())
                  ->getResult(0);
    LLVM::ReturnOp::create(b, loc, r);
  }
  return LLVM::CallOp::create(b, loc, fn, args).getResult();
}

/// table[index] for 16 lanes: vpermps on AVX-512; on AVX2 two 8-entry
/// vpermps and a blend on index bit 3; otherwise lane by lane.
Value CpuKernelEmitter::lookup(Value table, Value index) {
  VectorType v16 = vec(f32);
  if (isa == CpuIsa::Generic) {
    Value result = table;
    for (int64_t lane = 0; lane < kLanes; ++lane) {
      Value i = vector::ExtractOp::create(b, loc, index, lane);
      Value at = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), i);
      Value v = vector::ExtractOp::create(b, loc, table, OpFoldResult(at));
      result = vector::InsertOp::create(b, loc, v, result, lane);
    }
    return result;
  }
  if (isa >= CpuIsa::Avx512)
    return x86("llvm.x86.avx512.permvar.sf.512", v16, {table, index});
  auto half = [&](Value v, int64_t at) -> Value {
    return vector::ExtractStridedSliceOp::create(b, loc, v, {at}, {8}, {1});
  };
  Value low = half(table, 0), high = half(table, 8),
        eight = splatInt(i32, 8, 8);
  SmallVector<Value, 2> parts;
  for (int64_t h = 0; h < 2; ++h) {
    Value ih = half(index, 8 * h);
    Value upper =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, ih, eight);
    parts.push_back(arith::SelectOp::create(
        b, loc, upper, x86("llvm.x86.avx2.permps", vec(f32, 8), {high, ih}),
        x86("llvm.x86.avx2.permps", vec(f32, 8), {low, ih})));
  }
  return vector::ShuffleOp::create(
      b, loc, parts[0], parts[1],
      llvm::to_vector(llvm::seq<int64_t>(0, kLanes)));
}

/// The f32 scale of (row, group); a double-quantized one is decoded as the
/// reference does: dynamic_map[code] * block_scale + offset.
Value CpuKernelEmitter::loadScale(Value row, Value group) {
  Value stored = memref::LoadOp::create(b, loc, scales, ValueRange{row, group});
  if (!s.getDoubleQuant())
    return stored;
  Value wide = arith::ExtUIOp::create(b, loc, i32, stored);
  Value at = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), wide);
  Value mapped = memref::LoadOp::create(b, loc, dynMap, ValueRange{at});
  Value flat = add(mul(row, groups), group);
  Value block =
      arith::DivUIOp::create(b, loc, flat, idx(numerics::kDoubleQuantBlock));
  Value blockScale =
      memref::LoadOp::create(b, loc, dqScales, ValueRange{block});
  Value offset = memref::LoadOp::create(b, loc, dqOffset, ValueRange{});
  return arith::AddFOp::create(
      b, loc, arith::MulFOp::create(b, loc, mapped, blockScale), offset);
}

GroupParams CpuKernelEmitter::groupParams(Value row, Value group) {
  GroupParams p;
  Value scale =
      vector::BroadcastOp::create(b, loc, vec(f32), loadScale(row, group));
  Value zpSplat;
  if (Value stored = loadZeroPoint(row, group))
    zpSplat = vector::BroadcastOp::create(
        b, loc, vec(i32), arith::ExtUIOp::create(b, loc, i32, stored));
  if (bits == 8) {
    p.scale = scale;
    p.zp = zpSplat;
    return p;
  }
  Value base;
  if (s.isTable()) {
    base = floatVector(s.getTable());
  } else if (zpSplat) { // (code - zero point) for the 16 codes.
    SmallVector<int32_t> codes = llvm::to_vector(llvm::seq<int32_t>(0, 16));
    Value iota = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(vec(i32), ArrayRef<int32_t>(codes)));
    base = arith::SIToFPOp::create(
        b, loc, vec(f32), arith::SubIOp::create(b, loc, iota, zpSplat));
  } else { // Two's complement nibbles.
    SmallVector<float> values;
    for (int c = 0; c < 16; ++c)
      values.push_back(c < 8 ? c : c - 16);
    base = floatVector(values);
  }
  p.table = arith::MulFOp::create(b, loc, base, scale);
  if (useBf16)
    p.tableBf16 = vector::BitCastOp::create(b, loc, vec(i16, kChunk),
                                            toBf16(p.table, p.table));
  return p;
}

Value CpuKernelEmitter::loadBytes(Value row, Value col, bool masked,
                                  int64_t lanes) {
  VectorType type = vec(i8, lanes);
  if (!masked)
    return vector::LoadOp::create(b, loc, type, codes, ValueRange{row, col});
  Value pad = arith::ConstantIntOp::create(b, loc, i8, 0);
  return vector::TransferReadOp::create(
      b, loc, type, codes, ValueRange{row, col}, pad, ArrayRef<bool>{false});
}

/// The zero point stored for (row, group); null without zero points.
Value CpuKernelEmitter::loadZeroPoint(Value row, Value group) {
  if (!zp)
    return {};
  return memref::LoadOp::create(b, loc, zp, ValueRange{row, group});
}

/// The 16 bytes of a 4-bit chunk of `row` split into their high nibbles
/// (even k) and low nibbles (odd k).
std::pair<Value, Value> CpuKernelEmitter::loadNibbles(Value row, Value chunk,
                                                      bool masked) {
  Value bytes = loadBytes(row, mul(chunk, kChunk / 2), masked);
  return {arith::ShRUIOp::create(b, loc, bytes, splatInt(i8, 4)),
          arith::AndIOp::create(b, loc, bytes, splatInt(i8, 15))};
}

/// table[code] for the 32 codes of a 4-bit chunk of `row` (32 x i16, even k
/// then odd k, evenOddOrder): one vpermw of the 16-entry `table` (repeated
/// twice in 32 x i16) with the nibbles zero-extended to words.
Value CpuKernelEmitter::lookupWords(Value table, Value row, Value chunk,
                                    bool masked) {
  auto [high, low] = loadNibbles(row, chunk, masked);
  Value index = vector::ShuffleOp::create(
      b, loc, high, low, llvm::to_vector(llvm::seq<int64_t>(0, kChunk)));
  return x86("llvm.x86.avx512.permvar.hi.512", vec(i16, kChunk),
             {table, arith::ExtUIOp::create(b, loc, vec(i16, kChunk), index)});
}

/// The chunk's 32 weights of `row` as two 16-lane vectors (4-bit: even and
/// odd k; 8-bit: first and second half). Masked reads past the row's end
/// give code 0, finite weights that meet zero activations.
std::pair<Value, Value> CpuKernelEmitter::decodeChunk(const GroupParams &p,
                                                      Value row, Value chunk,
                                                      bool masked, bool round) {
  VectorType wide = vec(i32);
  auto rounded = [&](Value v) { return round ? toCompute(v) : v; };
  if (bits == 4) {
    auto [high, low] = loadNibbles(row, chunk, masked);
    return {
        rounded(lookup(p.table, arith::ExtUIOp::create(b, loc, wide, high))),
        rounded(lookup(p.table, arith::ExtUIOp::create(b, loc, wide, low)))};
  }
  Value halves[2];
  for (int64_t h = 0; h < 2; ++h) {
    Value bytes =
        loadBytes(row, add(mul(chunk, kChunk), idx(kLanes * h)), masked);
    Value q;
    if (p.zp)
      q = arith::SIToFPOp::create(
          b, loc, vec(f32),
          arith::SubIOp::create(
              b, loc, arith::ExtUIOp::create(b, loc, wide, bytes), p.zp));
    else
      q = arith::SIToFPOp::create(b, loc, vec(f32), bytes);
    halves[h] = arith::MulFOp::create(b, loc, q, p.scale);
  }
  return {rounded(halves[0]), rounded(halves[1])};
}

/// `v` rounded to the scheme's compute type and back (the reference
/// lowering rounds activations and dequantized weights so, then multiplies
/// and sums in f32); f32 compute leaves it.
Value CpuKernelEmitter::toCompute(Value v) {
  Type compute = s.getComputeType();
  if (compute == f32)
    return v;
  auto type = llvm::cast<VectorType>(v.getType());
  Value rounded = arith::TruncFOp::create(b, loc, type.clone(compute), v);
  return arith::ExtFOp::create(b, loc, type, rounded);
}

/// Activations [row, col ..) in the compute type's precision.
Value CpuKernelEmitter::loadX(Value row, Value col, bool masked,
                              int64_t lanes) {
  if (!masked)
    return toCompute(vector::LoadOp::create(b, loc, vec(f32, lanes), x,
                                            ValueRange{row, col}));
  return toCompute(vector::TransferReadOp::create(
      b, loc, vec(f32, lanes), x, ValueRange{row, col}, f32Scalar(0.0f),
      ArrayRef<bool>{false}));
}

/// The chunk's 32 activations of `row` in the order of decodeChunk.
std::pair<Value, Value> CpuKernelEmitter::xChunk(Value row, Value chunk,
                                                 bool masked) {
  Value col = mul(chunk, kChunk);
  Value first = loadX(row, col, masked);
  Value second = loadX(row, add(col, idx(kLanes)), masked);
  if (bits == 8)
    return {first, second};
  SmallVector<int64_t> even, odd;
  for (int64_t i = 0; i < kLanes; ++i) {
    even.push_back(2 * i);
    odd.push_back(2 * i + 1);
  }
  return {vector::ShuffleOp::create(b, loc, first, second, even),
          vector::ShuffleOp::create(b, loc, first, second, odd)};
}

/// Whether weight row `at` exists (at < N), for rows taken in blocks of
/// `step` (clamped to N - 1 past the end); null when N is a multiple of
/// `step`, so that every row exists.
Value CpuKernelEmitter::rowInRange(Value at, int64_t step) {
  if (n % step == 0)
    return {};
  return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, at, idx(n));
}

/// out[row, col] += the sum of the lanes of `acc` (W8A8: and row's outliers
/// times weight row col), if `valid` (or always).
void CpuKernelEmitter::accumulate(Value row, Value col, Value acc,
                                  Value valid) {
  OpBuilder::InsertionGuard guard(b);
  if (valid) {
    auto ifOp = scf::IfOp::create(b, loc, valid, /*withElseRegion=*/false);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  }
  Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                          acc, arith::FastMathFlags::reassoc);
  if (outCount) // W8A8's outliers, in the order of matmulActInt8.
    sum = addOutliers(row, col, sum);
  Value old = memref::LoadOp::create(b, loc, out, ValueRange{row, col});
  memref::StoreOp::create(b, loc, arith::AddFOp::create(b, loc, old, sum), out,
                          ValueRange{row, col});
}

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
// Integer GEMV (Numerics/IntDot.h)
//===----------------------------------------------------------------------===//

/// The k of each lane of a 4-bit chunk's weights after a pshufb lookup: in
/// each half of 16, the even k then the odd k.
static SmallVector<int64_t> nibbleOrder() {
  SmallVector<int64_t> order;
  for (int64_t half = 0; half < kChunk; half += kLanes)
    for (int64_t parity = 0; parity < 2; ++parity)
      for (int64_t i = parity; i < kLanes; i += 2)
        order.push_back(half + i);
  return order;
}

/// The k of each lane of a 4-bit chunk's 32 indices (high nibbles, then low
/// nibbles) and of what a vpermw looks up with them: even k, then odd k.
static SmallVector<int64_t> evenOddOrder() {
  SmallVector<int64_t> order;
  for (int64_t parity = 0; parity < 2; ++parity)
    for (int64_t i = parity; i < kChunk; i += 2)
      order.push_back(i);
  return order;
}

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

func::FuncOp CpuKernelEmitter::build(ModuleOp into, StringRef name) {
  module = into;
  WeightTypes wt = getWeightTypes(s, n, k);
  auto buffer = [](RankedTensorType t) {
    return MemRefType::get(t.getShape(), t.getElementType());
  };
  SmallVector<Type> args = {MemRefType::get({m, k}, f32), buffer(wt.codes),
                            buffer(wt.scales)};
  if (wt.zeroPoints)
    args.push_back(buffer(wt.zeroPoints));
  if (wt.dqScales) {
    args.push_back(buffer(wt.dqScales));
    args.push_back(buffer(wt.dqOffset));
  }
  args.push_back(MemRefType::get({m, n}, f32));

  OpBuilder::InsertionGuard guard(b);
  auto dynMapType = MemRefType::get({256}, f32);
  if (s.getDoubleQuant() &&
      !SymbolTable::lookupSymbolIn(module, kDynamicMapName)) {
    b.setInsertionPointToStart(module.getBody());
    const auto &map = numerics::dynamicMap();
    memref::GlobalOp::create(
        b, loc, kDynamicMapName, b.getStringAttr("private"), dynMapType,
        DenseElementsAttr::get(RankedTensorType::get({256}, f32),
                               ArrayRef<float>(map.data(), map.size())),
        /*constant=*/true, b.getI64IntegerAttr(64));
  }
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(args, {}));
  func.setPrivate();
  // Copied onto the llvm.func: the kernel's code may use its ISA even in a
  // library compiled for a generic CPU (runtime dispatch).
  if (LLVM::TargetFeaturesAttr features = featuresOf(b.getContext(), isa))
    func->setAttr("target_features", features);
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  unsigned a = 0;
  x = entry->getArgument(a++);
  codes = entry->getArgument(a++);
  scales = entry->getArgument(a++);
  if (wt.zeroPoints)
    zp = entry->getArgument(a++);
  if (wt.dqScales) {
    dqScales = entry->getArgument(a++);
    dqOffset = entry->getArgument(a++);
    dynMap = memref::GetGlobalOp::create(b, loc, dynMapType, kDynamicMapName);
  }
  out = entry->getArgument(a++);
  if (m <= kCpuGemvMaxRows)
    buildGemv();
  else if (amxTiles)
    buildAmxTiled();
  else if (useIntDot && isa >= CpuIsa::Avx512Vnni)
    buildIntTiled();
  else if (actInt8)
    buildGemvSlices();
  else
    buildTiled();
  if (outCount && m > kCpuGemvMaxRows && wideInt) // The tiles.
    addOutliersToOut();
  func::ReturnOp::create(b, loc);
  return func;
}

} // namespace

bool qnt::canUseCpuKernel(MatmulOp op) {
  SchemeAttr s = op.getScheme();
  auto in = op.getInput().getType(), init = op.getInit().getType();
  Type f32 = Float32Type::get(op.getContext());
  // 2-D, static shapes, f32 activations and result (any compute type).
  if (in.getRank() != 2 || !in.hasStaticShape() || !init.hasStaticShape() ||
      in.getElementType() != f32 || init.getElementType() != f32)
    return false;
  // A chunk of 32 weights must lie in one group.
  int64_t k = op.getK();
  return s.getNumGroups(k) == 1 ||
         numerics::effectiveGroupSize(k, s.getGroupSize()) % kChunk == 0;
}

func::FuncOp
qnt::buildCpuDispatcher(OpBuilder &b, Location loc, ModuleOp module,
                        ArrayRef<std::pair<CpuIsa, func::FuncOp>> variants,
                        StringRef name) {
  OpBuilder::InsertionGuard guard(b);
  auto levelType = MemRefType::get({}, b.getI32Type());
  if (!SymbolTable::lookupSymbolIn(module, runtime::kCpuIsaSymbol)) {
    b.setInsertionPointToStart(module.getBody());
    memref::GlobalOp::create(
        b, loc, runtime::kCpuIsaSymbol, b.getStringAttr("public"), levelType,
        DenseElementsAttr::get(RankedTensorType::get({}, b.getI32Type()),
                               int32_t(runtime::CpuLevel::Generic)),
        /*constant=*/false, IntegerAttr());
  }
  b.setInsertionPointToEnd(module.getBody());
  FunctionType type = func::FuncOp(variants.front().second).getFunctionType();
  auto func = func::FuncOp::create(b, loc, name, type);
  func.setPrivate();
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value level = memref::LoadOp::create(
      b, loc,
      memref::GetGlobalOp::create(b, loc, levelType, runtime::kCpuIsaSymbol),
      ValueRange{});
  // if (level >= variant's level) call it, else try the next.
  for (auto [isa, kernel] : variants) {
    auto call = [&, kernel = kernel] {
      func::CallOp::create(b, loc, kernel, entry->getArguments());
    };
    if (isa == CpuIsa::Generic) {
      call();
      break;
    }
    Value need = arith::ConstantIntOp::create(b, loc, b.getI32Type(),
                                              int32_t(cpuLevelOf(isa)));
    Value ok =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sge, level, need);
    auto ifOp = scf::IfOp::create(b, loc, ok, /*withElseRegion=*/true);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    call();
    b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
  }
  b.setInsertionPointToEnd(entry);
  func::ReturnOp::create(b, loc);
  return func;
}

bool qnt::cpuKernelUsesIntDot(const CpuKernelShape &shape, CpuIsa isa,
                              bool intDot) {
  // W8A8 is integer arithmetic by definition, on every level.
  return shape.scheme.getActInt8() || (intDot && isa != CpuIsa::Generic &&
                                       shape.scheme.getComputeType().isF32());
}

bool qnt::cpuKernelUsesAmxTiles(const CpuKernelShape &shape, CpuIsa isa) {
  SchemeAttr s = shape.scheme;
  return isa >= CpuIsa::Amx && shape.m > kCpuGemvMaxRows &&
         (cpuKernelUsesBf16Dot(shape, isa) ||
          (s.getActInt8() && s.getNumGroups(shape.k) == 1));
}

bool qnt::cpuKernelUsesBf16Dot(const CpuKernelShape &shape, CpuIsa isa) {
  return isa >= CpuIsa::Avx512Bf16 && shape.scheme.getComputeType().isBF16();
}

bool qnt::cpuKernelDiffersFromLevelBelow(const CpuKernelShape &shape,
                                         CpuIsa isa, bool intDot) {
  switch (isa) {
  case CpuIsa::Amx:
    return cpuKernelUsesAmxTiles(shape, isa);
  case CpuIsa::Avx512Bf16:
    return cpuKernelUsesBf16Dot(shape, isa);
  case CpuIsa::Avx512Vnni:
    return cpuKernelUsesIntDot(shape, isa, intDot);
  default:
    return true;
  }
}

func::FuncOp qnt::buildCpuKernel(OpBuilder &b, Location loc, ModuleOp module,
                                 const CpuKernelShape &shape, CpuIsa isa,
                                 bool intDot, StringRef name) {
  return CpuKernelEmitter(b, loc, shape, isa, intDot).build(module, name);
}
