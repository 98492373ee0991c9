//===- CpuPipeline.cpp - --qnt-cpu-pipeline -------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Pipelines/Pipelines.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "qmlir/Conversion/Passes.h"
#include "qmlir/Dialect/Qnt/Transforms/Passes.h"

using namespace mlir;

void qmlir::addQntBufferization(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferization;
  bufferization.bufferizeFunctionBoundaries = true;
  bufferization.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  // Whole models carry their hidden state through a loop over the layers.
  bufferization.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferization));
}

void qmlir::buildQntCpuPipeline(OpPassManager &pm,
                                const QntCpuPipelineOptions &options) {
  // qnt.matmul -> calls of generated kernels where they apply; the rest of
  // qnt -> linalg on tensors.
  if (options.kernels) {
    ConvertQntToCPUPassOptions kernels;
    kernels.isa = options.isa;
    kernels.intDot = options.intDot;
    pm.addPass(createConvertQntToCPUPass(kernels));
  }
  pm.addPass(createConvertQntToLinalgPass());
  pm.addPass(createCanonicalizerPass());

  // Tensors -> buffers, with deallocation.
  addQntBufferization(pm);
  bufferization::buildBufferDeallocationPipeline(pm);
  // Clones of returned buffers become alloc + copy.
  pm.addPass(createConvertBufferizationToMemRefPass());

  // Buffers -> loops -> LLVM. With openmp, the parallel dimensions of every
  // linalg op become one omp worksharing loop (collapsed); reductions stay
  // sequential inside.
  if (options.openmp) {
    pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
    pm.addNestedPass<func::FuncOp>(qnt::createQntOuterParallelLoopsPass());
    pm.addPass(createConvertSCFToOpenMPPass());
    // Inlines the per-iteration memref.alloca_scope of the loop bodies (they
    // hold no allocas); control flow lowering needs single-block scopes.
    pm.addPass(qnt::createQntInlineAllocaScopesPass());
    pm.addPass(createCanonicalizerPass());
  } else {
    pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  }
  // Masked (tail) transfers become masked loads.
  pm.addNestedPass<func::FuncOp>(createConvertVectorToSCFPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true; // bf16 casts as integer ops: no libcalls needed.
  pm.addPass(arith::createArithExpandOpsPass(expand));
  ConvertVectorToLLVMPassOptions vectorToLLVM;
  vectorToLLVM.amx = true; // The AMX tiles' amx dialect ops.
  pm.addPass(createConvertVectorToLLVMPass(vectorToLLVM));
  pm.addPass(createConvertMathToLLVMPass());
  // What has no LLVM intrinsic (math.erf, math.tanh, ...) calls libm.
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  if (options.openmp)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}

void qmlir::registerQntPipelines() {
  PassPipelineRegistration<QntCpuPipelineOptions>(
      "qnt-cpu-pipeline",
      "Lower qnt, linalg on tensors, arith, math and func to the LLVM "
      "dialect for the CPU",
      buildQntCpuPipeline);
  PassPipelineRegistration<QntCudaPipelineOptions>(
      "qnt-cuda-pipeline",
      "Lower qnt, linalg on tensors, arith, math and func to host LLVM IR "
      "launching generated kernels, with the GPU binary embedded",
      buildQntCudaPipeline);
}
