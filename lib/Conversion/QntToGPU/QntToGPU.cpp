//===- QntToGPU.cpp - qnt.matmul to generated GPU kernels -----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Conversion/QntToGPU/QntToGPU.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"
#include "qmlir/Conversion/QntToGPU/GemvKernel.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"
#include "llvm/ADT/StringMap.h"

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

/// A readable, unique-per-configuration kernel name.
std::string kernelKey(const GemvConfig &c) {
  SchemeAttr s = c.scheme;
  std::string name = "qnt_gemv_" + stringifyQuantKind(s.getKind()).str();
  if (!s.getSymmetric())
    name += "_asym";
  if (s.getGroupSize())
    name += "_g" + std::to_string(s.getGroupSize());
  if (s.getDoubleQuant())
    name += "_dq";
  name += "_" + typeName(c.actType) + "_" + typeName(c.outType);
  if (s.getComputeType() != c.actType)
    name += "_c" + typeName(s.getComputeType());
  name += "_m" + std::to_string(c.m) + "_n" + std::to_string(c.n) + "_k" +
          std::to_string(c.k);
  return name + "_r" + std::to_string(c.rowsPerWarp) + "w" +
         std::to_string(c.warpsPerBlock) + "u" + std::to_string(c.unroll);
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

    GemvTuning tuning{rowsPerWarp, warpsPerBlock, unroll};
    std::string whyNot;
    FailureOr<GemvConfig> chosen =
        chooseGemvConfig(op.getScheme(), m, n, k, in2.getElementType(),
                         init2.getElementType(), tuning, whyNot);
    if (failed(chosen))
      return op.emitOpError() << "cannot generate its GPU kernel: " << whyNot;
    const GemvConfig &config = *chosen;
    std::string key = kernelKey(config);
    if (op.getScheme().getCodebook())
      key += "_cb" + std::to_string(custom++);
    gpu::GPUFuncOp kernel = byKey.lookup(key);
    if (!kernel) {
      kernel = buildGemvKernel(b, loc, kernels, config, key);
      byKey[key] = kernel;
    }

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
        gpu::KernelDim3{dim(config.gridX()), dim(config.gridY()), dim(1)},
        gpu::KernelDim3{dim(config.blockThreads()), dim(1), dim(1)},
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
