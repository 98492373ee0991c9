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

#include "CpuKernelEmitter.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;
using namespace qmlir::qnt::cpu;

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
LLVM::TargetFeaturesAttr cpu::featuresOf(MLIRContext *ctx, CpuIsa isa) {
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
