//===- QntToCPU.h - qnt to generated CPU kernels ----------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOCPU_QNTTOCPU_H
#define QMLIR_CONVERSION_QNTTOCPU_QNTTOCPU_H

#include "mlir/Dialect/AMX/AMXDialect.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace qmlir {

#define GEN_PASS_DECL_CONVERTQNTTOCPUPASS
#include "qmlir/Conversion/Passes.h.inc"

/// The instruction set the generated CPU kernels are written for; the
/// values are the runtime's dispatch levels (Runtime/CpuDispatch.h).
/// Avx512Vnni differs from Avx512 in the integer path only (vpdpwssd sums
/// the products of 16-bit pairs into the 32-bit accumulators in one
/// instruction where Avx512 takes vpmaddwd and vpaddd); Avx512Bf16 from
/// Avx512Vnni in the kernels of bf16 compute type only (bf16 pairs summed
/// by vdpbf16ps).
enum class CpuIsa {
  Generic = 0,
  Avx2 = 1,
  Avx512 = 2,
  Avx512Vnni = 3,
  Avx512Bf16 = 4,
  Amx = 5
};

/// Parses `generic`, `avx2`, `avx512`, `avx512vnni`, `avx512bf16`, `amx` or
/// `native` (this machine's best short of AMX, which needs the process to
/// request the tile state first).
std::optional<CpuIsa> parseCpuIsa(llvm::StringRef name);
llvm::StringRef stringifyCpuIsa(CpuIsa isa);

} // namespace qmlir

#endif // QMLIR_CONVERSION_QNTTOCPU_QNTTOCPU_H
