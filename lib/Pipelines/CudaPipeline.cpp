//===- CudaPipeline.cpp - --qnt-cuda-pipeline -----------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// qnt.matmul -> generated dequant kernels; the remaining linalg ops -> tiled
// parallel loops mapped to blocks and threads; host buffers on the device;
// then MLIR's NVVM lowering (gpu-module-to-binary with ptxas) and gpu-to-llvm
// against the runtime in lib/Runtime/CUDA.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "qmlir/Conversion/Passes.h"

using namespace mlir;

void qmlir::buildQntCudaPipeline(OpPassManager &pm,
                                 const QntCudaPipelineOptions &options) {
  // Quantized matmuls -> generated kernels; other qnt ops -> linalg.
  ConvertQntToGPUPassOptions gemv;
  gemv.rowsPerWarp = options.gemvRowsPerWarp;
  gemv.warpsPerBlock = options.gemvWarpsPerBlock;
  gemv.unroll = options.gemvUnroll;
  pm.addPass(createConvertQntToGPUPass(gemv));
  pm.addPass(createConvertQntToLinalgPass());
  pm.addPass(createCanonicalizerPass());

  // Tensors -> buffers; every host buffer lives on the device.
  bufferization::OneShotBufferizePassOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
  pm.addPass(createQntGpuHostBuffersPass());

  // The remaining linalg ops: parallel loops collapsed, tiled by 256, the
  // tiles mapped to blocks and their points to threads.
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createQntGpuMapParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  pm.addPass(createCanonicalizerPass());

  // Device code -> NVVM -> binary (ptxas); host code -> LLVM.
  gpu::GPUToNVVMPipelineOptions nvvm;
  nvvm.cubinChip = options.chip;
  nvvm.cubinFeatures = options.features;
  nvvm.cubinFormat = options.format;
  nvvm.optLevel = options.optLevel;
  nvvm.kernelUseBarePtrCallConv = true;
  nvvm.hostUseBarePtrCallConv = true;
  gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
}
