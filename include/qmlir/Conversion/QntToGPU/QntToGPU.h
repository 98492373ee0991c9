//===- QntToGPU.h - qnt to GPU kernels --------------------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_CONVERSION_QNTTOGPU_QNTTOGPU_H
#define QMLIR_CONVERSION_QNTTOGPU_QNTTOGPU_H

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace qmlir {

#define GEN_PASS_DECL_CONVERTQNTTOGPUPASS
#define GEN_PASS_DECL_QNTGPUHOSTBUFFERSPASS
#define GEN_PASS_DECL_QNTDUMPGPUBINARIESPASS
#define GEN_PASS_DECL_QNTGPUMAPPARALLELLOOPSPASS
#define GEN_PASS_DECL_QNTGPUDISTRIBUTEREDUCTIONSPASS
#include "qmlir/Conversion/Passes.h.inc"

} // namespace qmlir

#endif // QMLIR_CONVERSION_QNTTOGPU_QNTTOGPU_H
