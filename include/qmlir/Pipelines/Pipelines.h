//===- Pipelines.h - qnt pass pipelines -------------------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// C++ builders of the registered pipelines; quant-opt and the AOT driver call
// the same builders, so `quant-opt --qnt-cpu-pipeline` replays any compile.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_PIPELINES_PIPELINES_H
#define QMLIR_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace qmlir {

/// Options of `--qnt-cpu-pipeline`.
struct QntCpuPipelineOptions
    : public mlir::PassPipelineOptions<QntCpuPipelineOptions> {
  PassOptions::Option<bool> openmp{
      *this, "openmp",
      llvm::cl::desc("Run the parallel loops of linalg ops on all cores "
                     "(omp dialect; the code then calls the LLVM OpenMP "
                     "runtime, libomp)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> kernels{
      *this, "kernels",
      llvm::cl::desc("Compute quantized matmuls with generated vector kernels "
                     "(convert-qnt-to-cpu); off: the reference lowering"),
      llvm::cl::init(true)};
  PassOptions::Option<std::string> isa{
      *this, "isa",
      llvm::cl::desc("Instruction set of the kernels: amx, avx512bf16, "
                     "avx512vnni, avx512, avx2, generic, native (the best "
                     "this machine has short of amx), or dispatch (every "
                     "level, chosen at run time)"),
      llvm::cl::init("native")};
  PassOptions::Option<bool> intDot{
      *this, "int-dot",
      llvm::cl::desc("AVX2/AVX-512 kernels multiply 14-bit integer "
                     "activations with integer weights (convert-qnt-to-cpu "
                     "int-dot)"),
      llvm::cl::init(true)};
};

/// Lowers a module with qnt ops, linalg on tensors, arith, math and func to
/// the LLVM dialect, ready for mlir-runner or mlir-translate.
void buildQntCpuPipeline(mlir::OpPassManager &pm,
                         const QntCpuPipelineOptions &options);

/// Options of `--qnt-cuda-pipeline`.
struct QntCudaPipelineOptions
    : public mlir::PassPipelineOptions<QntCudaPipelineOptions> {
  PassOptions::Option<std::string> chip{
      *this, "chip",
      llvm::cl::desc("GPU architecture, e.g. sm_80 or sm_90; sm_90a "
                     "adds the wgmma GEMM"),
      llvm::cl::init("sm_90")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features (PTX ISA version), e.g. +ptx80"),
      llvm::cl::init("+ptx80")};
  PassOptions::Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Embedded GPU binary: fatbin, bin (cubin) or isa (PTX)"),
      llvm::cl::init("fatbin")};
  PassOptions::Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit (ptxas, libdevice); default: $CUDA_ROOT, "
                     "$CUDA_HOME, $CUDA_PATH or the one found at build time"),
      llvm::cl::init("")};
  PassOptions::Option<int> optLevel{
      *this, "opt-level", llvm::cl::desc("Device code optimization level"),
      llvm::cl::init(3)};
  PassOptions::Option<int64_t> gemvRowsPerWarp{
      *this, "gemv-rows-per-warp",
      llvm::cl::desc("GEMV output channels per warp (0: per shape)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> gemvWarpsPerBlock{
      *this, "gemv-warps-per-block",
      llvm::cl::desc("GEMV warps per block (0: per shape)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> gemvUnroll{
      *this, "gemv-unroll",
      llvm::cl::desc("GEMV chunks loaded per row before use (0: per shape)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> skinnyWarps{
      *this, "skinny-warps",
      llvm::cl::desc("Skinny-kernel warps per block (0: per shape)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> skinnyUnroll{
      *this, "skinny-unroll",
      llvm::cl::desc("Skinny-kernel windows loaded at once (0: per shape)"),
      llvm::cl::init(0)};
  PassOptions::Option<int64_t> skinnyTiles{
      *this, "skinny-tiles",
      llvm::cl::desc("Skinny-kernel tiles of 16 channels per block (0: per "
                     "shape)"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> barePointers{
      *this, "bare-pointers",
      llvm::cl::desc("Kernels take bare pointers (static shapes only, the "
                     "ABI of --qnt-dump-gpu-binaries); off: memref "
                     "descriptors, for dynamic shapes and strided views"),
      llvm::cl::init(true)};
};

/// Lowers a module with qnt ops, linalg on tensors, arith, math and func to
/// host LLVM IR that launches GPU kernels, with the kernels embedded as a
/// GPU binary. Host functions take and return device buffers.
void buildQntCudaPipeline(mlir::OpPassManager &pm,
                          const QntCudaPipelineOptions &options);

/// One-shot bufferization as both pipelines use it: function boundaries
/// included, identity layouts at the boundaries.
void addQntBufferization(mlir::OpPassManager &pm);

/// Registers every quant-mlir pipeline with the global registry.
void registerQntPipelines();

} // namespace qmlir

#endif // QMLIR_PIPELINES_PIPELINES_H
