//===- QntToGPU.cpp - qnt.matmul to generated GPU kernels -----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "qmlir/Conversion/QntToGPU/GemmKernel.h"
#include "qmlir/Conversion/QntToGPU/GemvKernel.h"
#include "qmlir/Conversion/QntToGPU/SkinnyKernel.h"
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

std::string typeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

/// A readable kernel name, unique per scheme, types and shape.
std::string kernelName(StringRef prefix, SchemeAttr s, Type act, Type out,
                       int64_t m, int64_t n, int64_t k) {
  std::string name = (prefix + "_" + stringifyQuantKind(s.getKind())).str();
  if (!s.getSymmetric())
    name += "_asym";
  if (s.getGroupSize())
    name += "_g" + std::to_string(s.getGroupSize());
  if (s.getDoubleQuant())
    name += "_dq";
  name += "_" + typeName(act) + "_" + typeName(out);
  if (s.getComputeType() != act)
    name += "_c" + typeName(s.getComputeType());
  return name + "_m" + std::to_string(m) + "_n" + std::to_string(n) + "_k" +
         std::to_string(k);
}

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
    // kernel, many to the GEMM; the rest to the GEMV. Identical layers share
    // one kernel.
    std::string key;
    int64_t gridX, gridY, threads;
    std::function<gpu::GPUFuncOp(StringRef)> build;
    KernelShape shape{op.getScheme(), m, n, k, in2.getElementType(),
                      init2.getElementType()};
    if (canUseSkinny(shape)) {
      std::string whyNot;
      FailureOr<SkinnyConfig> chosen = chooseSkinnyConfig(
          shape, SkinnyTuning{skinnyWarps, skinnyUnroll}, whyNot);
      if (failed(chosen))
        return op.emitOpError() << "cannot generate its GPU kernel: " << whyNot;
      SkinnyConfig config = *chosen;
      key = kernelName("qnt_skinny", op.getScheme(), config.actType,
                       config.outType, m, n, k) +
            "_c" + std::to_string(config.chunkBytes) + "w" +
            std::to_string(config.splitWarps) + "u" +
            std::to_string(config.unroll);
      gridX = config.gridX();
      gridY = 1;
      threads = config.blockThreads();
      build = [&, config](StringRef name) {
        return buildSkinnyKernel(b, loc, kernels, config, name);
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
    auto buffer = [&](Value tensor, bool readOnly) -> Value {
      auto type = llvm::cast<RankedTensorType>(tensor.getType());
      auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
      return bufferization::ToBufferOp::create(b, loc, memrefType, tensor,
                                               readOnly);
    };
    SmallVector<Value> args = {buffer(input, true), buffer(op.getCodes(), true),
                               buffer(op.getScales(), true)};
    for (Value v : {op.getZeroPoints(), op.getDqScales(), op.getDqOffset()})
      if (v)
        args.push_back(buffer(v, true));
    Value outTensor = bufferization::AllocTensorOp::create(
        b, loc, init2, ValueRange{}, /*copy=*/init);
    Value out = buffer(outTensor, false);
    args.push_back(out);

    auto dim = [&](int64_t v) -> Value {
      return arith::ConstantIndexOp::create(b, loc, v);
    };
    gpu::LaunchFuncOp::create(
        b, loc, kernel,
        gpu::KernelDim3{dim(gridX), dim(gridY), dim(1)},
        gpu::KernelDim3{dim(threads), dim(1), dim(1)},
        /*dynamicSharedMemorySize=*/Value(), args);
    Value result = bufferization::ToTensorOp::create(
        b, loc, init2, out, /*restrict=*/true, /*writable=*/true);
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
