//===- QntToGPU.cpp - qnt.matmul to generated GPU kernels -----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "qmlir/Conversion/KernelOperands.h"
#include "qmlir/Conversion/QntToGPU/GemmKernel.h"
#include "qmlir/Conversion/QntToGPU/GemvKernel.h"
#include "qmlir/Conversion/QntToGPU/SkinnyKernel.h"
#include "qmlir/Conversion/QntToGPU/WgmmaKernel.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"
#include "llvm/ADT/StringMap.h"

#include <functional>

namespace qmlir {
#define GEN_PASS_DEF_CONVERTQNTTOGPUPASS
#include "qmlir/Conversion/Passes.h.inc"
} // namespace qmlir

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {

struct ConvertQntToGPUPass
    : public qmlir::impl::ConvertQntToGPUPassBase<ConvertQntToGPUPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<MatmulOp> matmuls;
    module.walk([&](MatmulOp op) { matmuls.push_back(op); });
    if (matmuls.empty())
      return;
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                    UnitAttr::get(&getContext()));
    OpBuilder b(&getContext());
    b.setInsertionPointToEnd(module.getBody());
    auto kernels = gpu::GPUModuleOp::create(b, module.getLoc(), "qnt_kernels");
    llvm::StringMap<gpu::GPUFuncOp> byKey;
    unsigned custom = 0;
    for (MatmulOp op : matmuls) {
      if (failed(rewrite(op, kernels, byKey, custom)))
        return signalPassFailure();
    }
  }

  LogicalResult rewrite(MatmulOp op, gpu::GPUModuleOp kernels,
                        llvm::StringMap<gpu::GPUFuncOp> &byKey,
                        unsigned &custom) {
    Location loc = op.getLoc();
    OpBuilder b(op);
    auto inType = op.getInput().getType();
    auto initType = op.getInit().getType();
    if (!inType.hasStaticShape() || !initType.hasStaticShape())
      return op.emitOpError("needs static shapes for the GPU lowering");
    if (op.getScheme().getActInt8())
      return op.emitOpError("with 'act = int8' (W8A8) has no GPU kernel; "
                            "compile it for the cpu target");

    // [B, M, K] activations are [B*M, K] rows for the kernel.
    Value input = op.getInput(), init = op.getInit();
    bool batched = inType.getRank() == 3;
    if (batched) {
      SmallVector<ReassociationIndices> collapse = {{0, 1}, {2}};
      input = tensor::CollapseShapeOp::create(b, loc, input, collapse);
      init = tensor::CollapseShapeOp::create(b, loc, init, collapse);
    }
    auto in2 = llvm::cast<RankedTensorType>(input.getType());
    auto init2 = llvm::cast<RankedTensorType>(init.getType());
    int64_t m = in2.getDimSize(0), k = op.getK(), n = op.getN();

    // bf16/f16 activations go to the tensor cores: few rows to the skinny
    // kernel, many to the GEMM (on sm_90a the wgmma one); the rest to the
    // GEMV. Identical layers share one kernel.
    std::string key;
    int64_t gridX, gridY, threads, smem = 0;
    std::function<gpu::GPUFuncOp(StringRef)> build;
    KernelShape shape{op.getScheme(), m, n, k, in2.getElementType(),
                      init2.getElementType()};
    if (canUseSkinny(shape)) {
      std::string whyNot;
      FailureOr<SkinnyConfig> chosen = chooseSkinnyConfig(
          shape, SkinnyTuning{skinnyWarps, skinnyUnroll, skinnyTiles}, whyNot);
      if (failed(chosen))
        return op.emitOpError() << "cannot generate its GPU kernel: " << whyNot;
      SkinnyConfig config = *chosen;
      key = kernelName("qnt_skinny", op.getScheme(), config.actType,
                       config.outType, m, n, k) +
            "_c" + std::to_string(config.chunkBytes) + "w" +
            std::to_string(config.splitWarps) + "u" +
            std::to_string(config.unroll) +
            (config.tiles > 1 ? "t" + std::to_string(config.tiles) : "");
      gridX = config.gridX();
      gridY = 1;
      threads = config.blockThreads();
      build = [&, config](StringRef name) {
        return buildSkinnyKernel(b, loc, kernels, config, name);
      };
    } else if (wgmma && canUseWgmma(shape)) {
      WgmmaConfig config = chooseWgmmaConfig(shape);
      key = kernelName("qnt_wgmma", op.getScheme(), config.actType,
                       config.outType, m, n, k) +
            "_t" + std::to_string(config.tileM());
      gridX = config.gridX();
      gridY = config.gridY();
      threads = WgmmaConfig::kThreads;
      smem = config.smemBytes();
      build = [&, config](StringRef name) {
        return buildWgmmaKernel(b, loc, kernels, config, name);
      };
    } else if (canUseGemm(shape)) {
      GemmConfig config = chooseGemmConfig(shape);
      key = kernelName("qnt_gemm", op.getScheme(), config.actType,
                       config.outType, m, n, k) +
            "_t" + std::to_string(config.tile);
      gridX = config.gridX();
      gridY = config.gridY();
      threads = config.blockThreads();
      build = [&, config](StringRef name) {
        return buildGemmKernel(b, loc, kernels, config, name);
      };
    } else {
      GemvTuning tuning{rowsPerWarp, warpsPerBlock, unroll};
      std::string whyNot;
      FailureOr<GemvConfig> chosen = chooseGemvConfig(shape, tuning, whyNot);
      if (failed(chosen))
        return op.emitOpError() << "cannot generate its GPU kernel: " << whyNot;
      GemvConfig config = *chosen;
      key = kernelName("qnt_gemv", op.getScheme(), config.actType,
                       config.outType, m, n, k) +
            "_r" + std::to_string(config.rowsPerWarp) + "w" +
            std::to_string(config.warpsPerBlock) + "u" +
            std::to_string(config.unroll);
      gridX = config.gridX();
      gridY = config.gridY();
      threads = config.blockThreads();
      build = [&, config](StringRef name) {
        return buildGemvKernel(b, loc, kernels, config, name);
      };
    }
    if (op.getScheme().getCodebook()) // Its table is part of the kernel.
      key += "_cb" + std::to_string(custom++);
    gpu::GPUFuncOp &kernel = byKey[key];
    if (!kernel)
      kernel = build(key);

    // Operands as buffers; the result accumulates into a copy of init.
    KernelOperands operands(b, loc, op, input, init);

    auto dim = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    gpu::LaunchFuncOp::create(
        b, loc, kernel, gpu::KernelDim3{dim(gridX), dim(gridY), dim(1)},
        gpu::KernelDim3{dim(threads), dim(1), dim(1)},
        smem ? arith::ConstantIntOp::create(b, loc, b.getI32Type(), smem)
                   .getResult()
             : Value(),
        operands.args);
    Value result = operands.result(b, loc);
    if (batched)
      result = tensor::ExpandShapeOp::create(
          b, loc, initType, result,
          SmallVector<ReassociationIndices>{{0, 1}, {2}});
    op.replaceAllUsesWith(result);
    op.erase();
    return success();
  }
};

} // namespace
