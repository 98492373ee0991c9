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
// de-interleaves the activations to match, the tiled path interleaves the
// decoded weights back into k order. A 4-bit code is an index into the
// group's 16-entry table, already multiplied by the group's scale, so the
// decoded weight is table[code] * scale exactly as the reference lowering
// computes it.
//
//===----------------------------------------------------------------------===//

#include "CpuKernel.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/SymbolTable.h"
#include "qmlir/Numerics/Quantize.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {

constexpr int64_t kChunk = 32;      ///< Weights decoded at once.
constexpr int64_t kLanes = 16;      ///< f32 lanes of a vector.
constexpr int64_t kTileRows = 16;   ///< Tiled path: weight rows per tile.
constexpr int64_t kMaxTileK = 1024; ///< Tiled path: K per tile, at most.
constexpr int64_t kMicroCols = 4;   ///< Micro-kernel: weight rows.
constexpr const char *kDynamicMapName = "qnt_cpu_dynamic_map";

/// The decode constants of one (weight row, group).
struct GroupParams {
  Value table; ///< 4-bit: the group's 16 values, scaled.
  Value scale; ///< 8-bit: the scale, splat.
  Value zp;    ///< 8-bit asymmetric: the zero point, splat i32.
};

using Body = llvm::function_ref<SmallVector<Value>(Value, ValueRange)>;

class CpuKernelEmitter {
public:
  CpuKernelEmitter(OpBuilder &b, Location loc, const CpuKernelShape &shape,
                   CpuIsa isa)
      : b(b), loc(loc), s(shape.scheme), m(shape.m), n(shape.n), k(shape.k),
        isa(isa) {
    f32 = b.getF32Type();
    i32 = b.getI32Type();
    i8 = b.getI8Type();
    bits = s.getBitsPerCode();
    groupSize = numerics::effectiveGroupSize(k, s.getGroupSize());
    groups = s.getNumGroups(k);
    fullChunks = k / kChunk;
    chunks = (k + kChunk - 1) / kChunk;
    chunksPerGroup = groups == 1 ? chunks : groupSize / kChunk;
    // The micro-kernel's accumulators, activations and one weight vector
    // fill the register file: 32 zmm (4 x 4 of 16 lanes) or 16 ymm (3 x 4
    // of 8 lanes).
    bool wide = isa == CpuIsa::Avx512;
    microLanes = wide ? 16 : 8;
    microRows = wide ? 4 : 3;
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

  // The kernel's pieces.
  Value loadScale(Value row, Value group);
  GroupParams groupParams(Value row, Value group);
  Value loadBytes(Value row, Value col, bool masked);
  std::pair<Value, Value> decodeChunk(const GroupParams &p, Value row,
                                      Value chunk, bool masked);
  Value loadX(Value row, Value col, bool masked, int64_t lanes = kLanes);
  /// K ends in a partial chunk (per-channel K not a multiple of 32).
  bool hasTail() const { return fullChunks < chunks; }
  std::pair<Value, Value> xChunk(Value row, Value chunk, bool masked);
  void accumulate(Value row, Value col, Value acc, Value valid);
  void buildGemv();
  SmallVector<Value> gemvStep(ArrayRef<Value> rows,
                              ArrayRef<GroupParams> params, Value chunk,
                              ValueRange accs, bool masked);
  void buildTiled();
  void decodeTile(Value ws, Value tile, Value firstChunk, Value tileChunks);
  void microKernel(Value ws, Value tile, Value kBase, Value kLen, Value mBase,
                   int64_t rows);

  OpBuilder &b;
  Location loc;
  SchemeAttr s;
  int64_t m, n, k;
  CpuIsa isa;
  Type f32, i32, i8;
  int64_t bits, groupSize, groups, fullChunks, chunks, chunksPerGroup;
  int64_t microLanes, microRows;
  ModuleOp module;
  Value x, codes, scales, zp, dqScales, dqOffset, out, dynMap;
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

/// table[index] for 16 lanes: vpermps on AVX-512; on AVX2 two 8-entry
/// vpermps and a blend on index bit 3; otherwise lane by lane. The x86
/// intrinsics sit in an always-inline llvm.func (an op of unknown effects
/// would stop buffer deallocation, which also visits the kernels).
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
  std::string name = ("qnt_cpu_lookup16_" + stringifyCpuIsa(isa)).str();
  auto fn = module.lookupSymbol<LLVM::LLVMFuncOp>(name);
  if (!fn) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    fn = LLVM::LLVMFuncOp::create(
        b, loc, name, LLVM::LLVMFunctionType::get(v16, {v16, vec(i32)}),
        LLVM::Linkage::Internal);
    fn.setAlwaysInline(true);
    Block *body = fn.addEntryBlock(b);
    b.setInsertionPointToStart(body);
    Value t = body->getArgument(0), i = body->getArgument(1), r;
    auto intrinsic = [&](StringRef intr, Type type, ValueRange args) {
      return LLVM::CallIntrinsicOp::create(b, loc, type, b.getStringAttr(intr),
                                           args)
          ->getResult(0);
    };
    if (isa == CpuIsa::Avx512) {
      r = intrinsic("llvm.x86.avx512.permvar.sf.512", v16, {t, i});
    } else {
      auto half = [&](Value v, int64_t at) -> Value {
        return vector::ExtractStridedSliceOp::create(b, loc, v, {at}, {8}, {1});
      };
      Value low = half(t, 0), high = half(t, 8), eight = splatInt(i32, 8, 8);
      SmallVector<Value, 2> parts;
      for (int64_t h = 0; h < 2; ++h) {
        Value ih = half(i, 8 * h);
        Value upper =
            arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, ih, eight);
        parts.push_back(arith::SelectOp::create(
            b, loc, upper,
            intrinsic("llvm.x86.avx2.permps", vec(f32, 8), {high, ih}),
            intrinsic("llvm.x86.avx2.permps", vec(f32, 8), {low, ih})));
      }
      r = vector::ShuffleOp::create(
          b, loc, parts[0], parts[1],
          llvm::to_vector(llvm::seq<int64_t>(0, kLanes)));
    }
    LLVM::ReturnOp::create(b, loc, r);
  }
  return LLVM::CallOp::create(b, loc, fn, ValueRange{table, index}).getResult();
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
  if (!s.getSymmetric() && !s.isTable()) {
    Value stored = memref::LoadOp::create(b, loc, zp, ValueRange{row, group});
    zpSplat = vector::BroadcastOp::create(
        b, loc, vec(i32), arith::ExtUIOp::create(b, loc, i32, stored));
  }
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
  return p;
}

Value CpuKernelEmitter::loadBytes(Value row, Value col, bool masked) {
  VectorType type = vec(i8);
  if (!masked)
    return vector::LoadOp::create(b, loc, type, codes, ValueRange{row, col});
  Value pad = arith::ConstantIntOp::create(b, loc, i8, 0);
  return vector::TransferReadOp::create(
      b, loc, type, codes, ValueRange{row, col}, pad, ArrayRef<bool>{false});
}

/// The chunk's 32 weights of `row` as two 16-lane vectors (4-bit: even and
/// odd k; 8-bit: first and second half). Masked reads past the row's end
/// give code 0, finite weights that meet zero activations.
std::pair<Value, Value> CpuKernelEmitter::decodeChunk(const GroupParams &p,
                                                      Value row, Value chunk,
                                                      bool masked) {
  VectorType wide = vec(i32);
  if (bits == 4) {
    Value bytes = loadBytes(row, mul(chunk, kChunk / 2), masked);
    Value high = arith::ShRUIOp::create(b, loc, bytes, splatInt(i8, 4));
    Value low = arith::AndIOp::create(b, loc, bytes, splatInt(i8, 15));
    return {lookup(p.table, arith::ExtUIOp::create(b, loc, wide, high)),
            lookup(p.table, arith::ExtUIOp::create(b, loc, wide, low))};
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
  return {halves[0], halves[1]};
}

Value CpuKernelEmitter::loadX(Value row, Value col, bool masked,
                              int64_t lanes) {
  if (!masked)
    return vector::LoadOp::create(b, loc, vec(f32, lanes), x,
                                  ValueRange{row, col});
  Value pad = arith::ConstantFloatOp::create(b, loc, llvm::cast<FloatType>(f32),
                                             APFloat(0.0f));
  return vector::TransferReadOp::create(b, loc, vec(f32, lanes), x,
                                        ValueRange{row, col}, pad,
                                        ArrayRef<bool>{false});
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

/// out[row, col] += the sum of the lanes of `acc`, if `valid` (or always).
void CpuKernelEmitter::accumulate(Value row, Value col, Value acc,
                                  Value valid) {
  OpBuilder::InsertionGuard guard(b);
  if (valid) {
    auto ifOp = scf::IfOp::create(b, loc, valid, /*withElseRegion=*/false);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  }
  Value sum = vector::ReductionOp::create(b, loc, vector::CombiningKind::ADD,
                                          acc, arith::FastMathFlags::reassoc);
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
  SmallVector<std::pair<Value, Value>> xs;
  for (int64_t i = 0; i < m; ++i)
    xs.push_back(xChunk(idx(i), chunk, masked));
  SmallVector<Value> next(accs.begin(), accs.end());
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

void CpuKernelEmitter::buildGemv() {
  // Weight rows per iteration: enough independent accumulators to hide the
  // FMA latency, few enough to stay in registers with the activations.
  int64_t nr = m <= 2 ? 4 : m <= 4 ? 2 : 1;
  int64_t iters = (n + nr - 1) / nr;
  scf::ParallelOp::create(
      b, loc, ValueRange{idx(0)}, ValueRange{idx(iters)}, ValueRange{idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value first = mul(ivs[0], nr);
        SmallVector<Value> rows; // Clamped: the last block repeats row N-1.
        for (int64_t r = 0; r < nr; ++r)
          rows.push_back(minIdx(add(first, idx(r)), idx(n - 1)));
        SmallVector<Value> accs(m * nr, zeroVector());
        auto paramsOf = [&](Value group) {
          SmallVector<GroupParams> params;
          for (Value row : rows)
            params.push_back(groupParams(row, group));
          return params;
        };
        accs =
            forLoop(idx(0), idx(groups), 1, accs, [&](Value g, ValueRange in) {
              SmallVector<GroupParams> params = paramsOf(g);
              Value begin = mul(g, chunksPerGroup);
              Value end =
                  minIdx(add(begin, idx(chunksPerGroup)), idx(fullChunks));
              return forLoop(begin, end, 1, in, [&](Value c, ValueRange acc) {
                return gemvStep(rows, params, c, acc, /*masked=*/false);
              });
            });
        if (hasTail())
          accs = gemvStep(rows, paramsOf(idx(groups - 1)), idx(fullChunks),
                          accs, /*masked=*/true);
        for (int64_t r = 0; r < nr; ++r) {
          Value valid;
          if (r > 0 && n % nr != 0)
            valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                          add(first, idx(r)), idx(n));
          for (int64_t i = 0; i < m; ++i)
            accumulate(idx(i), rows[r], accs[i * nr + r], valid);
        }
      });
}

//===----------------------------------------------------------------------===//
// Tiled: more activation rows
//===----------------------------------------------------------------------===//

/// Decodes chunks [firstChunk, firstChunk + tileChunks) of the tile's rows
/// into ws [kTileRows, tileK] in k order.
void CpuKernelEmitter::decodeTile(Value ws, Value tile, Value firstChunk,
                                  Value tileChunks) {
  SmallVector<int64_t> low, high;
  for (int64_t i = 0; i < kLanes / 2; ++i) {
    low.append({i, i + kLanes});
    high.append({i + kLanes / 2, i + kLanes / 2 + kLanes});
  }
  forLoop(idx(0), idx(kTileRows), 1, {}, [&](Value r, ValueRange) {
    Value row = minIdx(add(mul(tile, kTileRows), r), idx(n - 1));
    forLoop(idx(0), tileChunks, 1, {}, [&](Value cc, ValueRange) {
      Value c = add(firstChunk, cc);
      Value group =
          groups == 1
              ? idx(0)
              : Value(arith::DivUIOp::create(b, loc, c, idx(chunksPerGroup)));
      GroupParams p = groupParams(row, group);
      auto store = [&](bool masked) {
        auto [w0, w1] = decodeChunk(p, row, c, masked);
        if (bits == 4) { // Even/odd k back to k order.
          Value v0 = vector::ShuffleOp::create(b, loc, w0, w1, low);
          Value v1 = vector::ShuffleOp::create(b, loc, w0, w1, high);
          w0 = v0;
          w1 = v1;
        }
        Value col = mul(cc, kChunk);
        vector::StoreOp::create(b, loc, w0, ws, ValueRange{r, col});
        vector::StoreOp::create(b, loc, w1, ws,
                                ValueRange{r, add(col, idx(kLanes))});
      };
      if (!hasTail()) {
        store(false);
        return SmallVector<Value>();
      }
      Value full = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, c,
                                         idx(fullChunks));
      auto ifOp = scf::IfOp::create(b, loc, full, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
      store(false);
      b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
      store(true);
      return SmallVector<Value>();
    });
    return SmallVector<Value>();
  });
}

/// out[mBase .. mBase+rows, tile] += x[.., kBase .. kBase+kLen] ws^T with
/// rows x kMicroCols accumulators per step of kMicroCols weight rows.
void CpuKernelEmitter::microKernel(Value ws, Value tile, Value kBase,
                                   Value kLen, Value mBase, int64_t rows) {
  forLoop(idx(0), idx(kTileRows), kMicroCols, {}, [&](Value nb, ValueRange) {
    SmallVector<Value> accs(rows * kMicroCols, zeroVector(microLanes));
    accs =
        forLoop(idx(0), kLen, microLanes, accs, [&](Value kk, ValueRange in) {
          SmallVector<Value> xs, wsv, next(in.begin(), in.end());
          for (int64_t i = 0; i < rows; ++i)
            xs.push_back(loadX(add(mBase, idx(i)), add(kBase, kk), hasTail(),
                               microLanes));
          for (int64_t j = 0; j < kMicroCols; ++j)
            wsv.push_back(
                vector::LoadOp::create(b, loc, vec(f32, microLanes), ws,
                                       ValueRange{add(nb, idx(j)), kk}));
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < kMicroCols; ++j) {
              Value &acc = next[i * kMicroCols + j];
              acc = vector::FMAOp::create(b, loc, xs[i], wsv[j], acc);
            }
          return next;
        });
    for (int64_t j = 0; j < kMicroCols; ++j) {
      Value col = add(add(mul(tile, kTileRows), nb), idx(j));
      Value valid;
      if (n % kTileRows != 0)
        valid = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, col,
                                      idx(n));
      for (int64_t i = 0; i < rows; ++i)
        accumulate(add(mBase, idx(i)), col, accs[i * kMicroCols + j], valid);
    }
    return SmallVector<Value>();
  });
}

void CpuKernelEmitter::buildTiled() {
  int64_t tileK = std::min(chunks * kChunk, kMaxTileK);
  int64_t tileChunks = tileK / kChunk;
  int64_t kBlocks = (chunks + tileChunks - 1) / tileChunks;
  int64_t tiles = (n + kTileRows - 1) / kTileRows;
  scf::ParallelOp::create(
      b, loc, ValueRange{idx(0)}, ValueRange{idx(tiles)}, ValueRange{idx(1)},
      [&](OpBuilder &, Location, ValueRange ivs) {
        Value tile = ivs[0];
        // On the heap: a stack buffer in the loop body would need an alloca
        // scope, which cannot hold the lowered loops of the tile.
        Value ws = memref::AllocOp::create(
            b, loc, MemRefType::get({kTileRows, tileK}, f32),
            b.getI64IntegerAttr(64));
        forLoop(idx(0), idx(kBlocks), 1, {}, [&](Value kb, ValueRange) {
          Value first = mul(kb, tileChunks);
          Value count =
              minIdx(idx(tileChunks),
                     arith::SubIOp::create(b, loc, idx(chunks), first));
          decodeTile(ws, tile, first, count);
          Value kBase = mul(kb, tileK), kLen = mul(count, kChunk);
          int64_t whole = m / microRows * microRows;
          forLoop(idx(0), idx(whole), microRows, {}, [&](Value mb, ValueRange) {
            microKernel(ws, tile, kBase, kLen, mb, microRows);
            return SmallVector<Value>();
          });
          if (m > whole)
            microKernel(ws, tile, kBase, kLen, idx(whole), m - whole);
          return SmallVector<Value>();
        });
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
  else
    buildTiled();
  func::ReturnOp::create(b, loc);
  return func;
}

} // namespace

bool qnt::canUseCpuKernel(MatmulOp op) {
  SchemeAttr s = op.getScheme();
  auto in = op.getInput().getType(), init = op.getInit().getType();
  Type f32 = Float32Type::get(op.getContext());
  // 2-D, static shapes, f32 throughout.
  if (in.getRank() != 2 || !in.hasStaticShape() || !init.hasStaticShape() ||
      in.getElementType() != f32 || init.getElementType() != f32 ||
      s.getComputeType() != f32)
    return false;
  // A chunk of 32 weights must lie in one group.
  int64_t k = op.getK();
  return s.getNumGroups(k) == 1 ||
         numerics::effectiveGroupSize(k, s.getGroupSize()) % kChunk == 0;
}

func::FuncOp qnt::buildCpuKernel(OpBuilder &b, Location loc, ModuleOp module,
                                 const CpuKernelShape &shape, CpuIsa isa,
                                 StringRef name) {
  return CpuKernelEmitter(b, loc, shape, isa).build(module, name);
}
