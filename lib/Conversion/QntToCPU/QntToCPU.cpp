//===- QntToCPU.cpp - qnt.matmul to generated CPU kernels -----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToCPU/QntToCPU.h"

#include "CpuKernel.h"

#include "qmlir/Conversion/KernelOperands.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/StringMap.h"

namespace qmlir {
#define GEN_PASS_DEF_CONVERTQNTTOCPUPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

std::optional<CpuIsa> qmlir::parseCpuIsa(StringRef name) {
  // native: this machine's best level short of AMX, whose tile state a
  // process must request first (the quant-mlir runtime does; a plain
  // mlir-runner does not): AMX is named.
  std::optional<runtime::CpuLevel> level =
      name == "native" ? std::min(runtime::detectCpuLevel(),
                                  runtime::CpuLevel::Avx512Bf16)
                       : runtime::parseCpuLevel(name.str());
  if (!level)
    return std::nullopt;
  return static_cast<CpuIsa>(*level);
}

StringRef qmlir::stringifyCpuIsa(CpuIsa isa) {
  return runtime::cpuLevelName(cpuLevelOf(isa));
}

namespace {

struct ConvertQntToCPUPass
    : public qmlir::impl::ConvertQntToCPUPassBase<ConvertQntToCPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // The ISAs to build kernels for, best first; several: dispatch.
    SmallVector<CpuIsa> targets;
    if (isa == "dispatch") {
      for (runtime::CpuLevel level : llvm::reverse(runtime::kCpuLevels))
        targets.push_back(static_cast<CpuIsa>(level));
    } else if (std::optional<CpuIsa> parsed = parseCpuIsa(isa)) {
      targets = {*parsed};
    } else {
      module.emitError() << "convert-qnt-to-cpu: unknown isa '" << isa
                         << "' (expected " << runtime::cpuLevelNames()
                         << ", native or dispatch)";
      return signalPassFailure();
    }
    SmallVector<MatmulOp> matmuls;
    module.walk([&](MatmulOp op) {
      if (canUseCpuKernel(op))
        matmuls.push_back(op);
    });
    SmallVector<MatmulOp> kernels;
    for (MatmulOp op : matmuls)
      kernels.append(sliceRows(op, targets));
    llvm::StringMap<func::FuncOp> byName;
    llvm::DenseMap<Attribute, unsigned> codebooks;
    for (MatmulOp op : kernels)
      rewrite(op, module, targets, byName, codebooks);
  }

  /// `op` with kCpuGemvMaxRows < M < kCpuTileMinRows as matmuls of slices
  /// of up to kCpuGemvMaxRows rows (GEMV kernels), inserted into the result;
  /// returns them, or `op` itself for other M, and when the one target's
  /// kernel takes AMX tiles (fast from a few rows on; with several targets
  /// the level is chosen at run time, after this decision).
  SmallVector<MatmulOp> sliceRows(MatmulOp op, ArrayRef<CpuIsa> targets) {
    int64_t m = op.getInit().getType().getDimSize(0);
    if (m <= kCpuGemvMaxRows || m >= kCpuTileMinRows)
      return {op};
    CpuKernelShape shape{op.getScheme(), m, op.getN(), op.getK()};
    if (targets.size() == 1 && cpuKernelUsesAmxTiles(shape, targets.front()))
      return {op};
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value result = op.getInit();
    SmallVector<MatmulOp> parts;
    SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
    for (int64_t first = 0; first < m; first += kCpuGemvMaxRows) {
      int64_t rows = std::min(kCpuGemvMaxRows, m - first);
      SmallVector<OpFoldResult> offsets = {b.getIndexAttr(first),
                                           b.getIndexAttr(0)};
      auto sizes = [&](Value v) -> SmallVector<OpFoldResult> {
        int64_t cols = llvm::cast<RankedTensorType>(v.getType()).getDimSize(1);
        return {b.getIndexAttr(rows), b.getIndexAttr(cols)};
      };
      auto slice = [&](Value v) -> Value {
        return tensor::ExtractSliceOp::create(b, loc, v, offsets, sizes(v),
                                              strides);
      };
      Value init = slice(op.getInit());
      auto part = MatmulOp::create(b, loc, init.getType(), op.getScheme(),
                                   slice(op.getInput()), op.getCodes(),
                                   op.getScales(), op.getZeroPoints(),
                                   op.getDqScales(), op.getDqOffset(), init);
      result = tensor::InsertSliceOp::create(b, loc, part.getResult(), result,
                                             offsets, sizes(init), strides);
      parts.push_back(part);
    }
    op.replaceAllUsesWith(result);
    op.erase();
    return parts;
  }

  void rewrite(MatmulOp op, ModuleOp module, ArrayRef<CpuIsa> targets,
               llvm::StringMap<func::FuncOp> &byName,
               llvm::DenseMap<Attribute, unsigned> &codebooks) {
    Location loc = op.getLoc();
    OpBuilder b(op);
    auto initType = op.getInit().getType();
    CpuKernelShape shape{op.getScheme(), initType.getDimSize(0), op.getN(),
                         op.getK()};
    Type f32 = b.getF32Type();
    std::string base = kernelName("qnt_cpu", shape.scheme, f32, f32, shape.m,
                                  shape.n, shape.k);
    std::string codebook; // Its table is part of the kernel.
    if (Attribute table = shape.scheme.getCodebook())
      codebook =
          "_cb" +
          std::to_string(
              codebooks.try_emplace(table, codebooks.size()).first->second);
    OpBuilder kb(module.getContext());
    auto kernelFor = [&](CpuIsa isa) {
      std::string name =
          base + "_" + stringifyCpuIsa(isa).str() +
          (cpuKernelUsesIntDot(shape, isa, intDot) ? "_i16" : "") + codebook;
      func::FuncOp &kernel = byName[name];
      if (!kernel)
        kernel = buildCpuKernel(kb, loc, module, shape, isa, intDot, name);
      return kernel;
    };
    func::FuncOp callee;
    if (targets.size() == 1) {
      callee = kernelFor(targets.front());
    } else {
      func::FuncOp &dispatcher = byName[base + "_dispatch" + codebook];
      if (!dispatcher) {
        SmallVector<std::pair<CpuIsa, func::FuncOp>> variants;
        for (CpuIsa isa : targets)
          // No copies: a level that changes nothing in this kernel (VNNI
          // without the integer path, BF16 without bf16 compute) is left
          // to the one below.
          if (cpuKernelDiffersFromLevelBelow(shape, isa, intDot))
            variants.push_back({isa, kernelFor(isa)});
        dispatcher = buildCpuDispatcher(kb, loc, module, variants,
                                        base + "_dispatch" + codebook);
      }
      callee = dispatcher;
    }

    // Operands as buffers; the result accumulates into a copy of init.
    KernelOperands operands(b, loc, op, op.getInput(), op.getInit());
    func::CallOp::create(b, loc, callee, operands.args);
    Value result = operands.result(b, loc);
    op.replaceAllUsesWith(result);
    op.erase();
  }
};

} // namespace
