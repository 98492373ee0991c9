//===- KernelEmitter.h - Pieces shared by the generated kernels -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Conversion/QntToGPU: the kernel signature, the shared
// tables and the dequantization of codes, common to the GEMV and GEMM
// emitters. Everything is built as gpu/arith/memref/vector IR.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CONVERSION_QNTTOGPU_KERNELEMITTER_H
#define QMLIR_LIB_CONVERSION_QNTTOGPU_KERNELEMITTER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "qmlir/Conversion/QntToGPU/KernelShape.h"

namespace qmlir::qnt {

/// `v` combined over the 32 lanes of a warp by `combine` (xor shuffles:
/// every lane gets the result).
inline mlir::Value
warpAllReduce(mlir::OpBuilder &b, mlir::Location loc, mlir::Value v,
              llvm::function_ref<mlir::Value(mlir::Value, mlir::Value)> combine) {
  for (int32_t offset = 16; offset > 0; offset /= 2)
    v = combine(v, mlir::gpu::ShuffleOp::create(b, loc, v, offset, 32,
                                                mlir::gpu::ShuffleMode::XOR)
                       .getShuffleResult());
  return v;
}

/// Builds the common parts of a dequantizing kernel for an [N, K] weight
/// under one scheme. Kernel parameters (bare pointers): x [M, K], codes,
/// scales, [zero points], [dq scales, dq offset], out [M, N] (init on entry).
class KernelEmitter {
public:
  KernelEmitter(mlir::OpBuilder &b, mlir::Location loc,
                const KernelShape &shape, int64_t blockThreads);

protected:
  /// Creates the kernel `name` in `module` with the parameters above and
  /// `extraShared` more workgroup buffers after the tables; binds the
  /// arguments, fills the shared tables and returns the kernel, with the
  /// builder at the end of its entry block.
  mlir::gpu::GPUFuncOp createKernel(mlir::gpu::GPUModuleOp module,
                                    llvm::StringRef name,
                                    llvm::ArrayRef<mlir::Type> extraShared);
  /// The workgroup buffers after the tables (in createKernel's order).
  llvm::SmallVector<mlir::Value> extraSharedBuffers;

  mlir::Value idx(int64_t v) {
    return mlir::arith::ConstantIndexOp::create(b, loc, v);
  }
  mlir::Value i32c(int64_t v) {
    return mlir::arith::ConstantIntOp::create(b, loc, i32, v);
  }
  mlir::Value f32c(float v) {
    return mlir::arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  mlir::Value toF32(mlir::Value v) {
    return v.getType() == f32 ? v : mlir::arith::ExtFOp::create(b, loc, f32, v);
  }
  /// a * x + c, contractible into one fma.
  mlir::Value fma(mlir::Value a, mlir::Value x, mlir::Value c) {
    auto contract = mlir::arith::FastMathFlags::contract;
    mlir::Value p = mlir::arith::MulFOp::create(b, loc, a, x, contract);
    return mlir::arith::AddFOp::create(b, loc, p, c, contract);
  }
  mlir::Value minIdx(mlir::Value a, int64_t bound) {
    return mlir::arith::MinUIOp::create(b, loc, a, idx(bound));
  }
  /// Shared memory of `count` elements of `type`.
  mlir::MemRefType sharedType(llvm::ArrayRef<int64_t> shape, mlir::Type type);

  mlir::Value globalTable(mlir::gpu::GPUModuleOp module, llvm::StringRef name,
                          llvm::ArrayRef<float> values);
  void copyToShared(mlir::Value global, mlir::Value shared, int64_t count,
                    mlir::Value tid);
  mlir::Value decodeScale(mlir::Value row, mlir::Value group) {
    return finishScale(loadScale(row, group), row, group);
  }
  /// decodeScale in two halves, so that the global load can be issued early:
  /// the stored scale (f32, or its i8 code under double quantization), and
  /// the f32 scale from it.
  mlir::Value loadScale(mlir::Value row, mlir::Value group);
  mlir::Value finishScale(mlir::Value stored, mlir::Value row,
                          mlir::Value group);
  /// finishScale in two halves again: the f32 scale of the double-quant
  /// block of (row, group) (null without double quantization), and the
  /// scale from the stored one and that block scale.
  mlir::Value loadBlockScale(mlir::Value row, mlir::Value group);
  mlir::Value scaleFrom(mlir::Value stored, mlir::Value blockScale);
  /// 2^23 + zp (f32) for the code decoding of asymmetric schemes; null
  /// without zero points. zeroPointBiasFrom takes the loaded i8 zero point.
  mlir::Value zeroPointBias(mlir::Value row, mlir::Value group);
  mlir::Value zeroPointBiasFrom(mlir::Value zeroPoint);
  mlir::Value codeValue(mlir::Value word, int64_t shift, mlir::Value zpBias);
  /// out[row, col] += sum (in f32, stored in the output type) when row < M,
  /// col < N and `also` (if given) hold.
  void addToOut(mlir::Value row, mlir::Value col, mlir::Value sum,
                mlir::Value also = {});
  /// Two f32 sums for out[row, col] and out[row, col + 1] (col even).
  struct OutPair {
    mlir::Value row, col, first, second;
  };
  /// out[row, col + e] += pair values for every pair in range: all loads of
  /// `out` first (clamped to valid addresses), then the guarded stores, so
  /// that the loads are in flight together; 32-bit pairs when N is even.
  void addPairsToOut(llvm::ArrayRef<OutPair> pairs);
  /// One mma.sync m16n8k16 (bf16 or f16 operands as packed i32 words: 4 of
  /// A, 2 of B) with f32 accumulators; returns the 4 new accumulators.
  llvm::SmallVector<mlir::Value> mma(llvm::ArrayRef<mlir::Value> a,
                                     llvm::ArrayRef<mlir::Value> bFrag,
                                     llvm::ArrayRef<mlir::Value> acc);

  mlir::OpBuilder &b;
  mlir::Location loc;
  SchemeAttr s;
  int64_t m, n, k;
  mlir::Type actType, outType;
  int64_t blockThreads;
  mlir::Type f32, i32, i8;
  int64_t bits, perWord, perChunk, groupSize, groups, codeCols;
  // Kernel arguments and shared tables.
  mlir::Value x, codes, scales, zp, dqScales, dqOffset, out;
  mlir::Value table, dynMap, tid;
  /// The double-quant offset when a kernel loaded it once up front.
  mlir::Value dqOffsetValue;
};

} // namespace qmlir::qnt

#endif // QMLIR_LIB_CONVERSION_QNTTOGPU_KERNELEMITTER_H
