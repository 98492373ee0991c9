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
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/OptimizeForNVVM.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "qmlir/Conversion/Passes.h"

#include <cstdlib>

using namespace mlir;

/// Where ptxas and libdevice are: the option, the usual environment
/// variables, or the toolkit CMake found.
static std::string cudaToolkit(const std::string &option) {
  if (!option.empty())
    return option;
  for (const char *name : {"CUDA_ROOT", "CUDA_HOME", "CUDA_PATH"})
    if (const char *path = std::getenv(name); path && *path)
      return path;
  return QMLIR_CUDA_TOOLKIT_DIR;
}

void qmlir::buildQntCudaPipeline(OpPassManager &pm,
                                 const QntCudaPipelineOptions &options) {
  // Quantized matmuls -> generated kernels; other qnt ops -> linalg.
  ConvertQntToGPUPassOptions gemv;
  gemv.rowsPerWarp = options.gemvRowsPerWarp;
  gemv.warpsPerBlock = options.gemvWarpsPerBlock;
  gemv.unroll = options.gemvUnroll;
  gemv.skinnyWarps = options.skinnyWarps;
  gemv.skinnyUnroll = options.skinnyUnroll;
  gemv.skinnyTiles = options.skinnyTiles;
  // The architecture-specific Hopper target has the warpgroup MMA.
  gemv.wgmma = options.chip == "sm_90a";
  pm.addPass(createConvertQntToGPUPass(gemv));
  pm.addPass(createConvertQntToLinalgPass());
  pm.addPass(createCanonicalizerPass());

  // Tensors -> buffers; every host buffer lives on the device.
  addQntBufferization(pm);
  pm.addPass(createQntGpuHostBuffersPass());

  // Reductions over rows: a warp or a block per row. The remaining linalg
  // ops: parallel loops collapsed, tiled by 256, the tiles mapped to blocks
  // and their points to threads.
  pm.addNestedPass<func::FuncOp>(createQntGpuDistributeReductionsPass());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createQntGpuMapParallelLoopsPass());
  pm.addNestedPass<func::FuncOp>(createConvertParallelLoopToGpuPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());
  pm.addPass(createCanonicalizerPass());

  // Host code -> LLVM with 64-bit indices; device code -> NVVM with 32-bit
  // indices (cheaper address arithmetic; device buffers stay under 2^31
  // elements) -> binary through ptxas. MLIR's gpu-lower-to-nvvm-pipeline
  // with the index width split between host and device.
  pm.addPass(createConvertNVGPUToNVVMPass());
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());
  // Host functions only (the builtin module's direct children).
  pm.addNestedPass<LLVM::LLVMFuncOp>(createArithToLLVMConversionPass());
  pm.addNestedPass<LLVM::LLVMFuncOp>(createConvertIndexToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  // Index values the host passes (scalars, and without bare pointers the
  // descriptors' offsets, sizes and strides) are 64-bit; a kernel reads the
  // low 32 bits of each: cuLaunchKernel copies every parameter from its own
  // slot with the kernel's size for it (x86-64 is little-endian, and device
  // buffers stay under 2^31 elements).
  ConvertGpuOpsToNVVMOpsOptions device;
  device.useBarePtrCallConv = options.barePointers;
  device.indexBitwidth = 32;
  pm.addNestedPass<gpu::GPUModuleOp>(createStripDebugInfoPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createConvertGpuOpsToNVVMOps(device));
  pm.addNestedPass<gpu::GPUModuleOp>(LLVM::createNVVMOptimizeForTargetPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCanonicalizerPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createCSEPass());
  pm.addNestedPass<gpu::GPUModuleOp>(createReconcileUnrealizedCastsPass());

  GpuToLLVMConversionPassOptions host;
  // (The host setting overrides the kernel one in gpu-to-llvm.)
  host.hostBarePtrCallConv = options.barePointers;
  host.kernelBarePtrCallConv = options.barePointers;
  pm.addPass(createGpuToLLVMConversionPass(host));
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = cudaToolkit(options.toolkit);
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}
