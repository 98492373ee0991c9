//===- CpuKernel.h - Generated CPU matmul kernels ---------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_CONVERSION_QNTTOCPU_CPUKERNEL_H
#define QMLIR_LIB_CONVERSION_QNTTOCPU_CPUKERNEL_H

#include "qmlir/Conversion/QntToCPU/QntToCPU.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"
#include "qmlir/Runtime/CpuDispatch.h"

namespace qmlir::qnt {

/// What a CPU kernel computes: out [M, N] += x [M, K] W^T, all f32.
struct CpuKernelShape {
  SchemeAttr scheme;
  int64_t m = 1, n = 0, k = 0;
};

/// Rows of x up to which the kernel is a GEMV (weights decoded once in
/// registers and used by every row); more rows go through a decoded tile.
inline constexpr int64_t kCpuGemvMaxRows = 8;
/// Activation rows from which a kernel takes tiles; fewer (but more than
/// kCpuGemvMaxRows) run the GEMV on slices of kCpuGemvMaxRows rows: the
/// tiles decode each weight once per call into a k-major buffer (scalar
/// stores), which measured slower up to M ~ 128 (AVX2, 14336 x 4096: M =
/// 16 28.7 ms against ~12.8 ms for two GEMV slices; M = 128 about even).
/// AMX tiles (a single AMX target) start at kCpuGemvMaxRows + 1.
inline constexpr int64_t kCpuTileMinRows = 128;

/// Whether a CPU kernel computes `op` (2-D, static shapes, f32 activations
/// and result, groups of a multiple of 32 or one per row).
bool canUseCpuKernel(MatmulOp op);

/// Whether the kernel of `shape` takes the integer path (AVX2 or AVX-512
/// with `intDot` on, f32 compute type; W8A8 schemes always).
bool cpuKernelUsesIntDot(const CpuKernelShape &shape, CpuIsa isa, bool intDot);

/// Whether the kernel of `shape` sums bf16 pairs with vdpbf16ps (AVX-512
/// BF16, bf16 compute type).
bool cpuKernelUsesBf16Dot(const CpuKernelShape &shape, CpuIsa isa);

/// Whether the kernel of `shape` takes AMX tiles (AMX, more than
/// kCpuGemvMaxRows rows; bf16 compute, or W8A8 per channel).
bool cpuKernelUsesAmxTiles(const CpuKernelShape &shape, CpuIsa isa);

/// Whether `isa`'s kernel of `shape` differs from the one of the level
/// below (AVX-512 VNNI: only on the integer path; BF16: only with bf16
/// dot products).
bool cpuKernelDiffersFromLevelBelow(const CpuKernelShape &shape, CpuIsa isa,
                                    bool intDot);

/// Builds the kernel as a private function at the end of `module`:
/// (x, codes, scales[, zero points][, dq scales, dq offset], out) on
/// identity-layout buffers; `out` holds init on entry. With `intDot`, a GEMV
/// for AVX2/AVX-512 takes the integer path of Numerics/IntDot.h.
mlir::func::FuncOp buildCpuKernel(mlir::OpBuilder &b, mlir::Location loc,
                                  mlir::ModuleOp module,
                                  const CpuKernelShape &shape, CpuIsa isa,
                                  bool intDot, llvm::StringRef name);

/// The runtime level (CpuDispatch.h) at which `isa`'s kernels run.
inline runtime::CpuLevel cpuLevelOf(CpuIsa isa) {
  return static_cast<runtime::CpuLevel>(isa);
}

/// A private function at the end of `module` with the signature of the
/// `variants` (best ISA first, generic last) that calls the best one the
/// runtime's `qnt_cpu_isa` global allows; creates the global (0: generic).
mlir::func::FuncOp buildCpuDispatcher(
    mlir::OpBuilder &b, mlir::Location loc, mlir::ModuleOp module,
    llvm::ArrayRef<std::pair<CpuIsa, mlir::func::FuncOp>> variants,
    llvm::StringRef name);

} // namespace qmlir::qnt

#endif // QMLIR_LIB_CONVERSION_QNTTOCPU_CPUKERNEL_H
