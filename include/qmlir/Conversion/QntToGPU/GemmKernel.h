//===- GemmKernel.h - Generated dequant tensor-core GEMM --------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A dequantize + matrix-multiply kernel on the tensor cores for layers with
// many activation rows (M >= 9) in bf16 or f16: each block computes a T x T
// tile of the output (T = 64 with 4 warps of 32 x 32, or T = 128 with 8
// warps of 64 x 32; mma.sync m16n8k16, f32 accumulators); per 32-wide step
// of K it stages the activations and the weight tile, dequantized to the
// compute type, in shared memory.
// Same parameters as the GEMV kernel (GemvKernel.h).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOGPU_GEMMKERNEL_H
#define QMLIR_CONVERSION_QNTTOGPU_GEMMKERNEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "qmlir/Conversion/QntToGPU/KernelShape.h"

namespace qmlir::qnt {

/// Shape and tiling of one generated GEMM kernel.
struct GemmConfig : KernelShape {
  static constexpr int64_t kTileK = 32;
  /// Output tile T x T per block (64 or 128); 2T threads, so that each
  /// thread stages 16 activations and 16 weights per step of K.
  int64_t tile = 64;

  int64_t blockThreads() const { return 2 * tile; }
  int64_t warpsN() const { return tile == 64 ? 2 : 4; }
  int64_t warpsM() const { return blockThreads() / 32 / warpsN(); }
  int64_t gridX() const { return (n + tile - 1) / tile; }
  int64_t gridY() const { return (m + tile - 1) / tile; }
};

/// The tiling for a layer: 128 x 128 from 128 rows on, else 64 x 64.
GemmConfig chooseGemmConfig(const KernelShape &shape);

/// Blocks below which a GEMM with fewer rows than a tile leaves a large GPU
/// idle (the GEMV is used instead).
constexpr int64_t kMinGemmBlocks = 256;

/// True when the tensor-core kernel applies and pays: M >= 9, bf16 or f16
/// activations in the scheme's compute type, K and the group size multiples
/// of 32, and either a full tile of rows or at least kMinGemmBlocks blocks.
bool canUseGemm(const KernelShape &shape);

/// Builds the kernel `name` into `module` and returns it.
mlir::gpu::GPUFuncOp buildGemmKernel(mlir::OpBuilder &builder,
                                     mlir::Location loc,
                                     mlir::gpu::GPUModuleOp module,
                                     const GemmConfig &config,
                                     llvm::StringRef name);

} // namespace qmlir::qnt

#endif // QMLIR_CONVERSION_QNTTOGPU_GEMMKERNEL_H
