/*===-- qmlir-c/Qnt.h - C API of the qnt dialect and its passes ---*- C -*-===*\
|*                                                                            *|
|* Part of the quant-mlir project.                                            *|
|*                                                                            *|
|*===----------------------------------------------------------------------===*|
|*                                                                            *|
|* For MLIR-based compilers that want quant-mlir's dialect and passes, in the *|
|* style of upstream's mlir-c headers: a dialect handle (load it into any     *|
|* MlirContext, or insert it into a registry) and registration functions for  *|
|* the passes and pipelines, after which they parse in textual pipelines      *|
|* ("builtin.module(qnt-quantize-linear{scheme=nf4 double-quant=true})").     *|
|* Link libQMLIRCAPI.so; it carries upstream's IR and pass C API as well.     *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef QMLIR_C_QNT_H
#define QMLIR_C_QNT_H

#include "mlir-c/IR.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mlirGetDialectHandle__qnt__(): the qnt dialect. */
MLIR_DECLARE_CAPI_DIALECT_REGISTRATION(Qnt, qnt);

/* Registers quant-mlir's passes and pipelines (qnt-quantize-linear,
 * qnt-report, convert-qnt-to-linalg, convert-qnt-to-gpu, qnt-cpu-pipeline,
 * qnt-cuda-pipeline, ...) in the global pass registry. Idempotent. */
MLIR_CAPI_EXPORTED void qmlirRegisterQntPasses(void);

/* Inserts every dialect and extension quant-opt loads (all of upstream's and
 * qnt) into `registry`. */
MLIR_CAPI_EXPORTED void qmlirRegisterAllDialects(MlirDialectRegistry registry);

/* Registers all of upstream's passes and quant-mlir's (as quant-opt). */
MLIR_CAPI_EXPORTED void qmlirRegisterAllPasses(void);

#ifdef __cplusplus
}
#endif

#endif /* QMLIR_C_QNT_H */
