//===- GemvKernel.h - Generated dequant-GEMV kernels ------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Builds, as gpu/vector/arith/memref IR, a fused dequantize + matrix-vector
// kernel for a quantized linear layer with few rows of activations (M small):
// one warp per R output channels, 16-byte coalesced loads of packed codes,
// dequantization in registers (tables in shared memory, double-quantized
// scales decoded on the fly), f32 accumulation and warp-shuffle reductions.
//
// Kernel parameters, in order (memrefs, passed as bare pointers):
//   x [M, K] (activations), codes, scales, [zero points], [dq scales,
//   dq offset], out [M, N], which holds init on entry: out += x W^T.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOGPU_GEMVKERNEL_H
#define QMLIR_CONVERSION_QNTTOGPU_GEMVKERNEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "qmlir/Conversion/QntToGPU/KernelShape.h"

namespace qmlir::qnt {

/// Shape and tuning parameters of one generated GEMV kernel.
struct GemvConfig : KernelShape {
  /// Output channels per warp and warps per block.
  int64_t rowsPerWarp = 2, warpsPerBlock = 4;
  /// Activation rows per block (grid.y covers the rest of M).
  int64_t mTile = 1;
  /// 16-byte code loads (K a multiple of 32 for 4-bit / 16 for 8-bit codes
  /// and groups a multiple of 8); otherwise one code at a time.
  bool vectorized = true;
  /// Chunks of 16 bytes per row whose loads are issued before use (divides
  /// the chunks per lane).
  int64_t unroll = 1;

  int64_t blockThreads() const { return 32 * warpsPerBlock; }
  int64_t gridX() const {
    int64_t perBlock = rowsPerWarp * warpsPerBlock;
    return (n + perBlock - 1) / perBlock;
  }
  int64_t gridY() const { return (m + mTile - 1) / mTile; }
};

/// Overrides of the chosen parameters (0 = keep the choice).
struct GemvTuning {
  int64_t rowsPerWarp = 0, warpsPerBlock = 0, unroll = 0;
};

/// Picks the kernel parameters for a layer; fails with a reason when a
/// tuning override is invalid for it.
mlir::FailureOr<GemvConfig> chooseGemvConfig(const KernelShape &shape,
                                             const GemvTuning &tuning,
                                             std::string &whyNot);

/// Builds the kernel `name` into `module` (creating the tables it needs as
/// constant globals there) and returns it.
mlir::gpu::GPUFuncOp buildGemvKernel(mlir::OpBuilder &builder,
                                     mlir::Location loc,
                                     mlir::gpu::GPUModuleOp module,
                                     const GemvConfig &config,
                                     llvm::StringRef name);

} // namespace qmlir::qnt

#endif // QMLIR_CONVERSION_QNTTOGPU_GEMVKERNEL_H
