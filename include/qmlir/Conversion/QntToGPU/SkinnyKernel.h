//===- SkinnyKernel.h - Generated tensor-core dequant GEMV ------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A dequantize + matrix-multiply kernel for few activation rows (M <= 16) in
// bf16 or f16 that streams the packed weights once and does the arithmetic
// on the tensor cores: the weights are the A operand of mma.sync m16n8k16
// (16 output channels by 16 values of K), the activations the B operand (8
// rows of M; rows past M are masked), so that a weight costs about one
// instruction of dequantization and no multiply.
//
// Each block computes `tiles` x 16 output channels; its warps split K. A
// lane of a quad (4 lanes) loads one chunk of contiguous codes of each of
// its two channels per tile with one 16-byte (8-, 4-byte) load, so the quad
// covers a window of 4 chunks of K. The tiles of a warp share the
// activations of the window (the B operand), which are loaded once per
// window: more tiles, fewer activation loads per weight. mma sums over the 16
// values of K of a step in any order, so a lane's values only have to meet the
// activations of the same K: the lane builds its B fragment from the
// activations of its own chunk, in the order its dequantization produces pairs
// of weights (int4: the nibbles at 0x000F000F of the shifted word, or'ed into
// the mantissa of 128.0 bf16 or 1024.0 f16 and offset with one packed
// subtraction; int8: through f32; nf4/fp4/codebooks: a 256-entry table of value
// pairs per code byte). Windows lie inside one scale group, so every window
// accumulates from zero and is scaled once in f32; the warps' sums meet in
// shared memory. Same parameters as the GEMV kernel (GemvKernel.h).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOGPU_SKINNYKERNEL_H
#define QMLIR_CONVERSION_QNTTOGPU_SKINNYKERNEL_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "qmlir/Conversion/QntToGPU/KernelShape.h"

namespace qmlir::qnt {

/// Shape and tiling of one generated skinny kernel.
struct SkinnyConfig : KernelShape {
  static constexpr int64_t kMaxRows = 16;
  /// Bytes of codes a lane loads per channel and window (16, 8 or 4).
  int64_t chunkBytes = 16;
  /// Warps per block, each taking every splitWarps-th group of windows.
  int64_t splitWarps = 8;
  /// Windows a warp loads at once (and one group ahead).
  int64_t unroll = 1;
  /// Tiles of 16 output channels per block (each warp computes all of them
  /// over its part of K).
  int64_t tiles = 1;

  int64_t codesPerChunk(int64_t bits) const { return chunkBytes * 8 / bits; }
  int64_t window(int64_t bits) const { return 4 * codesPerChunk(bits); }
  int64_t mTiles() const { return (m + 7) / 8; }
  int64_t accumulators() const { return 4 * mTiles() * tiles; }
  int64_t blockThreads() const { return 32 * splitWarps; }
  int64_t channels() const { return 16 * tiles; }
  int64_t gridX() const { return (n + channels() - 1) / channels(); }
};

/// True when the skinny kernel applies and pays: 1 <= M <= 16 (2 <= M for
/// the table kinds), bf16 or f16 activations in the scheme's compute type,
/// and a window of 4 chunks of 16, 8 or 4 bytes that divides both K and the
/// group size.
bool canUseSkinny(const KernelShape &shape);

/// Overrides of the chosen parameters (0 = keep the choice).
struct SkinnyTuning {
  int64_t warps = 0, unroll = 0, tiles = 0;
};

/// The largest chunk that fits, and enough warps per block to fill an
/// H100-sized GPU; fails with a reason when a tuning override is invalid.
mlir::FailureOr<SkinnyConfig> chooseSkinnyConfig(const KernelShape &shape,
                                                 const SkinnyTuning &tuning,
                                                 std::string &whyNot);

/// Builds the kernel `name` into `module` and returns it.
mlir::gpu::GPUFuncOp buildSkinnyKernel(mlir::OpBuilder &builder,
                                       mlir::Location loc,
                                       mlir::gpu::GPUModuleOp module,
                                       const SkinnyConfig &config,
                                       llvm::StringRef name);

} // namespace qmlir::qnt

#endif // QMLIR_CONVERSION_QNTTOGPU_SKINNYKERNEL_H
