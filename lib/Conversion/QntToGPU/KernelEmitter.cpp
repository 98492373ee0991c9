//===- KernelEmitter.cpp - Pieces shared by the generated kernels ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "KernelEmitter.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

KernelEmitter::KernelEmitter(OpBuilder &b, Location loc,
                             const KernelShape &shape, int64_t blockThreads)
    : b(b), loc(loc), s(shape.scheme), m(shape.m), n(shape.n), k(shape.k),
      actType(shape.actType), outType(shape.outType),
      blockThreads(blockThreads) {
  f32 = b.getF32Type();
  i32 = b.getI32Type();
  i8 = b.getI8Type();
  bits = s.getBitsPerCode();
  perWord = 32 / bits;
  perChunk = 4 * perWord;
  groupSize = numerics::effectiveGroupSize(k, s.getGroupSize());
  groups = s.getNumGroups(k);
  codeCols = bits == 8 ? k : (k + 1) / 2;
}

MemRefType KernelEmitter::sharedType(ArrayRef<int64_t> shape, Type type) {
  return MemRefType::get(
      shape, type, AffineMap(),
      gpu::AddressSpaceAttr::get(b.getContext(),
                                 gpu::GPUDialect::getWorkgroupAddressSpace()));
}

gpu::GPUFuncOp KernelEmitter::createKernel(gpu::GPUModuleOp module,
                                           StringRef name,
                                           ArrayRef<Type> extraShared) {
  auto memref = [](ArrayRef<int64_t> shape, Type t) {
    return MemRefType::get(shape, t);
  };
  WeightTypes wt = getWeightTypes(s, n, k);
  SmallVector<Type> args = {memref({m, k}, actType), memref({n, codeCols}, i8),
                            memref(wt.scales.getShape(),
                                   wt.scales.getElementType())};
  if (wt.zeroPoints)
    args.push_back(memref(wt.zeroPoints.getShape(), i8));
  if (wt.dqScales) {
    args.push_back(memref(wt.dqScales.getShape(), f32));
    args.push_back(memref({}, f32));
  }
  args.push_back(memref({m, n}, outType)); // init on entry, result

  SmallVector<Type> workgroup;
  if (s.isTable())
    workgroup.push_back(sharedType({16}, f32));
  if (s.getDoubleQuant())
    workgroup.push_back(sharedType({256}, f32));
  workgroup.append(extraShared.begin(), extraShared.end());

  b.setInsertionPointToEnd(module.getBody());
  auto func = gpu::GPUFuncOp::create(b, loc, name,
                                     b.getFunctionType(args, {}), workgroup);
  func->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  func.setKnownBlockSize(ArrayRef<int32_t>{int32_t(blockThreads), 1, 1});
  Block &entry = func.getBody().front();
  b.setInsertionPointToStart(&entry);

  unsigned a = 0;
  x = entry.getArgument(a++);
  codes = entry.getArgument(a++);
  scales = entry.getArgument(a++);
  if (wt.zeroPoints)
    zp = entry.getArgument(a++);
  if (wt.dqScales) {
    dqScales = entry.getArgument(a++);
    dqOffset = entry.getArgument(a++);
  }
  out = entry.getArgument(a++);

  tid = gpu::ThreadIdOp::create(b, loc, gpu::Dimension::x);
  unsigned wg = 0;
  if (s.isTable()) {
    table = func.getWorkgroupAttributions()[wg++];
    SmallVector<float, 16> values = s.getTable();
    std::string tableName =
        (name + "_table").str(); // Custom codebooks differ per kernel.
    copyToShared(globalTable(module, tableName, values), table, 16, tid);
  }
  if (s.getDoubleQuant()) {
    dynMap = func.getWorkgroupAttributions()[wg++];
    const auto &map = numerics::dynamicMap();
    copyToShared(globalTable(module, "qnt_dynamic_map",
                             ArrayRef<float>(map.data(), map.size())),
                 dynMap, 256, tid);
  }
  for (; wg < func.getWorkgroupAttributions().size(); ++wg)
    extraSharedBuffers.push_back(func.getWorkgroupAttributions()[wg]);
  if (table || dynMap)
    gpu::BarrierOp::create(b, loc);
  return func;
}

Value KernelEmitter::globalTable(gpu::GPUModuleOp module, StringRef name,
                               ArrayRef<float> values) {
  auto type = MemRefType::get({int64_t(values.size())}, f32);
  SymbolTable symbols(module);
  if (!symbols.lookup(name)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto tensorType = RankedTensorType::get({int64_t(values.size())}, f32);
    memref::GlobalOp::create(b, loc, name, b.getStringAttr("private"), type,
                             DenseElementsAttr::get(tensorType, values),
                             /*constant=*/true, /*alignment=*/nullptr);
  }
  return memref::GetGlobalOp::create(b, loc, type, name);
}

/// Threads of the block copy `count` floats from global to shared memory.
void KernelEmitter::copyToShared(Value global, Value shared, int64_t count,
                               Value tid) {
  scf::ForOp::create(
      b, loc, tid, idx(count), idx(blockThreads), ValueRange{},
      [&](OpBuilder &nb, Location nl, Value i, ValueRange) {
        Value v = memref::LoadOp::create(nb, nl, global, ValueRange{i});
        memref::StoreOp::create(nb, nl, v, shared, ValueRange{i});
        scf::YieldOp::create(nb, nl);
      });
}

/// The stored scale of (row, group).
Value KernelEmitter::loadScale(Value row, Value group) {
  return memref::LoadOp::create(b, loc, scales, ValueRange{row, group});
}

/// The f32 scale (absmax for the table kinds) from its stored form, decoding
/// double quantization: dynmap[code] * dq_scales[(row*groups+g)/256] + offset.
Value KernelEmitter::finishScale(Value sc, Value row, Value group) {
  return scaleFrom(sc, loadBlockScale(row, group));
}

Value KernelEmitter::loadBlockScale(Value row, Value group) {
  if (!s.getDoubleQuant())
    return Value();
  Value flat = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, row, idx(groups)), group);
  Value block = arith::DivUIOp::create(b, loc, flat,
                                       idx(numerics::kDoubleQuantBlock));
  return memref::LoadOp::create(b, loc, dqScales, ValueRange{block});
}

Value KernelEmitter::scaleFrom(Value sc, Value blockScale) {
  if (!s.getDoubleQuant())
    return sc;
  Value code = arith::IndexCastUIOp::create(
      b, loc, b.getIndexType(), arith::ExtUIOp::create(b, loc, i32, sc));
  Value mapped = memref::LoadOp::create(b, loc, dynMap, ValueRange{code});
  Value offset =
      dqOffsetValue
          ? dqOffsetValue
          : memref::LoadOp::create(b, loc, dqOffset, ValueRange{}).getResult();
  Value scaled = arith::MulFOp::create(b, loc, mapped, blockScale);
  return arith::AddFOp::create(b, loc, scaled, offset);
}

/// 2^23 + zp as f32: the bias that turns a magic-number float back into
/// (q - zp) with one subtraction (see codeValue).
Value KernelEmitter::zeroPointBias(Value row, Value group) {
  if (!zp)
    return Value();
  return zeroPointBiasFrom(
      memref::LoadOp::create(b, loc, zp, ValueRange{row, group}));
}

Value KernelEmitter::zeroPointBiasFrom(Value z) {
  Value zf = arith::UIToFPOp::create(b, loc, f32, z);
  return arith::AddFOp::create(b, loc, zf, f32c(8388608.0f));
}

/// The unscaled value of the code at bit `shift` of a 32-bit word. Integer
/// codes become floats without an int-to-float conversion (a slow
/// instruction): the unsigned field u, or'ed into the mantissa of 2^23, is
/// the float 2^23 + u, and one subtraction removes 2^23 and the offset
/// (8 or 128 for the two's-complement codes, made unsigned by flipping their
/// sign bit; the zero point for asymmetric ones).
Value KernelEmitter::codeValue(Value word, int64_t shift, Value zpBias) {
  int64_t mask = (1 << bits) - 1;
  Value field = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, word, i32c(shift)), i32c(mask));
  if (s.isTable()) {
    // The 16 values sit in 16 distinct banks: no conflicts, whatever the
    // codes of the warp's lanes.
    Value i = arith::IndexCastUIOp::create(b, loc, b.getIndexType(), field);
    return memref::LoadOp::create(b, loc, table, ValueRange{i});
  }
  Value bias = zpBias;
  if (s.getSymmetric()) {
    int64_t offset = 1 << (bits - 1);
    field = arith::XOrIOp::create(b, loc, field, i32c(offset));
    bias = f32c(8388608.0f + float(offset));
  }
  Value magic = arith::OrIOp::create(b, loc, field, i32c(0x4B000000));
  return arith::SubFOp::create(
      b, loc, arith::BitcastOp::create(b, loc, f32, magic), bias);
}


void KernelEmitter::addToOut(Value row, Value col, Value sum, Value also) {
  Value inRange = arith::AndIOp::create(
      b, loc,
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, idx(m)),
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, col, idx(n)));
  if (also)
    inRange = arith::AndIOp::create(b, loc, inRange, also);
  scf::IfOp::create(b, loc, inRange, [&](OpBuilder &nb, Location) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToEnd(nb.getInsertionBlock());
    Value prev =
        toF32(memref::LoadOp::create(b, loc, out, ValueRange{row, col}));
    Value v = arith::AddFOp::create(b, loc, prev, sum);
    if (outType != f32)
      v = arith::TruncFOp::create(b, loc, outType, v);
    memref::StoreOp::create(b, loc, v, out, ValueRange{row, col});
    scf::YieldOp::create(b, loc);
  });
}

void KernelEmitter::addPairsToOut(ArrayRef<OutPair> pairs) {
  // With N even a pair is in range when its first column is.
  int64_t width = n % 2 == 0 ? 2 : 1;
  auto vecType = VectorType::get({width}, outType);
  struct Piece {
    Value row, col, prev;
    SmallVector<Value, 2> sums;
  };
  SmallVector<Piece> pieces;
  for (const OutPair &p : pairs) {
    if (width == 2) {
      pieces.push_back({p.row, p.col, {}, {p.first, p.second}});
      continue;
    }
    pieces.push_back({p.row, p.col, {}, {p.first}});
    pieces.push_back(
        {p.row, arith::AddIOp::create(b, loc, p.col, idx(1)), {}, {p.second}});
  }
  // Pairs start at even columns of rows of even length: aligned to their
  // size.
  llvm::MaybeAlign align(width * outType.getIntOrFloatBitWidth() / 8);
  for (Piece &pc : pieces)
    pc.prev = vector::LoadOp::create(
        b, loc, vecType, out,
        ValueRange{minIdx(pc.row, m - 1), minIdx(pc.col, n - width)},
        /*nontemporal=*/false, align);
  for (Piece &pc : pieces) {
    SmallVector<Value, 2> values;
    for (int64_t e = 0; e < width; ++e) {
      Value prev = toF32(vector::ExtractOp::create(b, loc, pc.prev, e));
      Value v = arith::AddFOp::create(b, loc, prev, pc.sums[e]);
      values.push_back(
          outType == f32
              ? v
              : arith::TruncFOp::create(b, loc, outType, v).getResult());
    }
    Value result = vector::FromElementsOp::create(b, loc, vecType, values);
    Value inRange = arith::AndIOp::create(
        b, loc,
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, pc.row,
                              idx(m)),
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, pc.col,
                              idx(n)));
    scf::IfOp::create(b, loc, inRange, [&](OpBuilder &nb, Location) {
      vector::StoreOp::create(nb, loc, result, out, ValueRange{pc.row, pc.col},
                              /*nontemporal=*/false, align);
      scf::YieldOp::create(nb, loc);
    });
  }
}

SmallVector<Value> KernelEmitter::mma(ArrayRef<Value> a, ArrayRef<Value> bFrag,
                                      ArrayRef<Value> acc) {
  MLIRContext *ctx = b.getContext();
  bool isBF16 = actType.isBF16();
  // f16 operands are passed as vector<2xf16>, bf16 ones as packed i32.
  auto operand = [&](Value word) -> Value {
    if (isBF16)
      return word;
    Value v = vector::FromElementsOp::create(
        b, loc, VectorType::get({1}, i32), ValueRange{word});
    return vector::BitCastOp::create(b, loc,
                                     VectorType::get({2}, b.getF16Type()), v);
  };
  SmallVector<Value> av, bv;
  for (Value v : a)
    av.push_back(operand(v));
  for (Value v : bFrag)
    bv.push_back(operand(v));
  auto resType = LLVM::LLVMStructType::getLiteral(ctx, {f32, f32, f32, f32});
  NVVM::MMATypes type = isBF16 ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
  Value d = NVVM::MmaOp::create(
      b, loc, resType, av, bv, acc, ArrayRef<int64_t>{16, 8, 16}, std::nullopt,
      std::nullopt, std::array<NVVM::MMATypes, 2>{type, type},
      std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                     NVVM::MMALayout::col});
  SmallVector<Value> result;
  for (int64_t i = 0; i < 4; ++i)
    result.push_back(LLVM::ExtractValueOp::create(b, loc, d, i));
  return result;
}
