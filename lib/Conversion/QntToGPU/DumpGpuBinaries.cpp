//===- DumpGpuBinaries.cpp - --qnt-dump-gpu-binaries ----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

namespace qmlir {
#define GEN_PASS_DEF_QNTDUMPGPUBINARIESPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;

namespace {
struct QntDumpGpuBinariesPass
    : public qmlir::impl::QntDumpGpuBinariesPassBase<QntDumpGpuBinariesPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool ok = true;
    module.walk([&](gpu::BinaryOp binary) {
      for (Attribute a : binary.getObjects()) {
        auto object = llvm::cast<gpu::ObjectAttr>(a);
        std::string chip = "target";
        if (auto nvvm = llvm::dyn_cast<NVVM::NVVMTargetAttr>(object.getTarget()))
          chip = nvvm.getChip().str();
        StringRef ext = llvm::StringSwitch<StringRef>(
                            gpu::stringifyCompilationTarget(object.getFormat()))
                            .Case("fatbin", "fatbin")
                            .Case("bin", "cubin")
                            .Case("assembly", "ptx")
                            .Default("llvm");
        ok &= write(binary, (binary.getName() + "." + chip + "." + ext).str(),
                    object.getObject().getValue());
      }
    });
    std::string launches;
    module.walk([&](gpu::LaunchFuncOp launch) {
      SmallVector<Value> dims = {launch.getGridSizeX(),  launch.getGridSizeY(),
                                 launch.getGridSizeZ(),  launch.getBlockSizeX(),
                                 launch.getBlockSizeY(), launch.getBlockSizeZ()};
      if (Value smem = launch.getDynamicSharedMemorySize())
        dims.push_back(smem);
      std::string line = launch->getParentOfType<FunctionOpInterface>()
                             .getName()
                             .str() +
                         " " + launch.getKernelModuleName().str() + " " +
                         launch.getKernelName().str();
      for (Value d : dims) {
        APInt v;
        if (!matchPattern(d, m_ConstantInt(&v))) {
          line.clear();
          break;
        }
        line += " " + std::to_string(v.getZExtValue());
      }
      if (!line.empty() && !launch.getDynamicSharedMemorySize())
        line += " 0";
      if (!line.empty())
        launches += line + "\n";
    });
    ok &= write(module, "launches.txt", launches);
    if (!ok)
      signalPassFailure();
    markAllAnalysesPreserved();
  }

  bool write(Operation *op, const std::string &name, StringRef data) {
    SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    std::string error;
    auto file = openOutputFile(path, &error);
    if (!file) {
      op->emitError() << "cannot write '" << path << "': " << error;
      return false;
    }
    file->os() << data;
    file->keep();
    return true;
  }
};
} // namespace
