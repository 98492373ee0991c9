//===- WgmmaKernel.h - Generated dequant GEMM on Hopper wgmma ---*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A dequantize + matrix-multiply kernel for sm_90a (Hopper) with the
// warpgroup tensor-core instructions (wgmma.mma_async), for layers with many
// activation rows in bf16 or f16. A block of two warpgroups computes a
// (128 * mTiles) x 128 tile of the output; per 64-wide step of K:
//  - the activations [BM, 64] arrive by cp.async, issued `stages` - 2
//    steps ahead;
//  - each thread dequantizes 32 weights of one output channel (codes loaded
//    two steps ahead into registers) to the compute type and stores them;
//  - both tiles sit in shared memory in the 128-byte swizzled K-major layout
//    that wgmma descriptors read (16-byte chunk c of row r at c ^ (r % 8)),
//    so neither the stores nor the tensor cores meet bank conflicts;
//  - each warpgroup issues 4 x mTiles wgmma m64n128k16 (f32 accumulators in
//    registers) and keeps one step in flight while the next is staged.
// Same parameters as the GEMV kernel (GemvKernel.h); dynamic shared memory
// of smemBytes().
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOGPU_WGMMAKERNEL_H
#define QMLIR_CONVERSION_QNTTOGPU_WGMMAKERNEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "qmlir/Conversion/QntToGPU/KernelShape.h"

namespace qmlir::qnt {

/// Shape and tiling of one generated wgmma GEMM kernel.
struct WgmmaConfig : KernelShape {
  static constexpr int64_t kStepK = 64;    ///< K per pipeline step.
  static constexpr int64_t kTileN = 128;   ///< Output channels per block.
  static constexpr int64_t kThreads = 256; ///< Two warpgroups.
  /// m64 tiles per warpgroup: the block covers 128 * mTiles rows of M.
  int64_t mTiles = 2;
  /// Shared-memory stages of the activation and weight tiles.
  int64_t stages = 4;

  int64_t tileM() const { return 128 * mTiles; }
  /// Blocks: x over M (neighbouring blocks share a weight tile in the L2),
  /// y over N.
  int64_t gridX() const { return (m + tileM() - 1) / tileM(); }
  int64_t gridY() const { return (n + kTileN - 1) / kTileN; }
  /// Bytes of dynamic shared memory: the stages and 1 KiB to align them to
  /// the 1024-byte period of the swizzle.
  int64_t smemBytes() const {
    return stages * (tileM() + kTileN) * kStepK * 2 + 1024;
  }
};

/// True when the wgmma kernel applies: M >= 64, bf16 or f16 activations in
/// the scheme's compute type, K a multiple of 64 and the group size a
/// multiple of 32.
bool canUseWgmma(const KernelShape &shape);

/// The tiling for a layer: 256 rows of M per block from M > 128 on.
WgmmaConfig chooseWgmmaConfig(const KernelShape &shape);

/// Builds the kernel `name` into `module` and returns it.
mlir::gpu::GPUFuncOp buildWgmmaKernel(mlir::OpBuilder &builder,
                                      mlir::Location loc,
                                      mlir::gpu::GPUModuleOp module,
                                      const WgmmaConfig &config,
                                      llvm::StringRef name);

} // namespace qmlir::qnt

#endif // QMLIR_CONVERSION_QNTTOGPU_WGMMAKERNEL_H
