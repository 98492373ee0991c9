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
    : public mlir::PassPipelineOptions<QntCpuPipelineOptions> {};

/// Lowers a module with qnt ops, linalg on tensors, arith, math and func to
/// the LLVM dialect, ready for mlir-runner or mlir-translate.
void buildQntCpuPipeline(mlir::OpPassManager &pm,
                         const QntCpuPipelineOptions &options);

/// Registers every quant-mlir pipeline with the global registry.
void registerQntPipelines();

} // namespace qmlir

#endif // QMLIR_PIPELINES_PIPELINES_H
