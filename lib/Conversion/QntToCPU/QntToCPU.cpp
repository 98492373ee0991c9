//===- QntToCPU.cpp - qnt.matmul to generated CPU kernels -----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToCPU/QntToCPU.h"

#include "CpuKernel.h"

#include "qmlir/Conversion/KernelOperands.h"

#include "llvm/ADT/StringMap.h"

namespace qmlir {
#define GEN_PASS_DEF_CONVERTQNTTOCPUPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

std::optional<CpuIsa> qmlir::parseCpuIsa(StringRef name) {
  std::optional<runtime::CpuLevel> level =
      name == "native" ? runtime::detectCpuLevel()
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
    llvm::StringMap<func::FuncOp> byName;
    unsigned custom = 0;
    for (MatmulOp op : matmuls)
      rewrite(op, module, targets, byName, custom);
  }

  void rewrite(MatmulOp op, ModuleOp module, ArrayRef<CpuIsa> targets,
               llvm::StringMap<func::FuncOp> &byName, unsigned &custom) {
    Location loc = op.getLoc();
    OpBuilder b(op);
    auto initType = op.getInit().getType();
    CpuKernelShape shape{op.getScheme(), initType.getDimSize(0), op.getN(),
                         op.getK()};
    Type f32 = b.getF32Type();
    std::string base = kernelName("qnt_cpu", shape.scheme, f32, f32, shape.m,
                                  shape.n, shape.k);
    std::string codebook; // Its table is part of the kernel.
    if (shape.scheme.getCodebook())
      codebook = "_cb" + std::to_string(custom++);
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
