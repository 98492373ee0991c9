//===- GemmKernel.h - Generated dequant tensor-core GEMM --------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A dequantize + matrix-multiply kernel on the tensor cores for layers with
// many activation rows (M >= 9) in bf16 or f16: each block computes a 64 x 64
// tile of the output with 4 warps (32 x 32 each, mma.sync m16n8k16, f32
// accumulators); per 32-wide step of K it stages the activations and the
// weight tile, dequantized to the compute type, in shared memory.
// Same parameters as the GEMV kernel (GemvKernel.h).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOGPU_GEMMKERNEL_H
#define QMLIR_CONVERSION_QNTTOGPU_GEMMKERNEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"

namespace qmlir::qnt {

/// Shape of one generated GEMM kernel (the tiling is fixed).
struct GemmConfig {
  static constexpr int64_t kTileM = 64, kTileN = 64, kTileK = 32, kWarps = 4;
  SchemeAttr scheme;
  int64_t m = 0, n = 0, k = 0;
  mlir::Type actType, outType;

  int64_t blockThreads() const { return 32 * kWarps; }
  int64_t gridX() const { return (n + kTileN - 1) / kTileN; }
  int64_t gridY() const { return (m + kTileM - 1) / kTileM; }
};

/// Blocks below which a GEMM with fewer rows than a tile leaves a large GPU
/// idle (the GEMV is used instead).
constexpr int64_t kMinGemmBlocks = 256;

/// True when the tensor-core kernel applies and pays: M >= 9, bf16 or f16
/// activations in the scheme's compute type, K and the group size multiples
/// of 32, and either a full tile of rows or at least kMinGemmBlocks blocks.
bool canUseGemm(SchemeAttr scheme, int64_t m, int64_t n, int64_t k,
                mlir::Type actType);

/// Builds the kernel `name` into `module` and returns it.
mlir::gpu::GPUFuncOp buildGemmKernel(mlir::OpBuilder &builder,
                                     mlir::Location loc,
                                     mlir::gpu::GPUModuleOp module,
                                     const GemmConfig &config,
                                     llvm::StringRef name);

} // namespace qmlir::qnt

#endif // QMLIR_CONVERSION_QNTTOGPU_GEMMKERNEL_H
