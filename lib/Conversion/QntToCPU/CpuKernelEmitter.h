//===- CpuKernelEmitter.h - The CPU kernel emitter --------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Conversion/QntToCPU: the emitter of one quantized layer's
// CPU kernel (CpuKernel.cpp says how the kernels work), its constants and
// helpers. Its parts are built in CpuKernel.cpp (shared pieces, the
// kernel's entry), CpuGemv.cpp (the f32 and bf16 GEMV), CpuActivations.cpp
// (activation quantization), CpuIntPath.cpp (the integer GEMV), CpuTiles.cpp
// (tiles) and CpuAmx.cpp (AMX tiles).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CONVERSION_QNTTOCPU_CPUKERNELEMITTER_H
#define QMLIR_LIB_CONVERSION_QNTTOCPU_CPUKERNELEMITTER_H

#include "CpuKernel.h"

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/SymbolTable.h"
#include "qmlir/Numerics/IntDot.h"
#include "qmlir/Numerics/Quantize.h"

namespace qmlir::qnt::cpu {

using namespace mlir;


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


/// The LLVM target features code for `isa` needs (none for generic).
LLVM::TargetFeaturesAttr featuresOf(MLIRContext *ctx, CpuIsa isa);
/// The k of each lane of a 4-bit chunk's weights after a pshufb lookup.
SmallVector<int64_t> nibbleOrder();
/// The k of each lane of a 4-bit chunk's 32 indices: even k, then odd k.
SmallVector<int64_t> evenOddOrder();

} // namespace qmlir::qnt::cpu

#endif // QMLIR_LIB_CONVERSION_QNTTOCPU_CPUKERNELEMITTER_H
