/*===- qnt-capi.c - An MLIR compiler loading qnt through the C API -------===*\
|*                                                                            *|
|* Part of the quant-mlir project.                                            *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

/* What a third-party MLIR compiler does: load only the dialects it uses
 * through their handles (func, arith, tensor, linalg and qnt), register
 * quant-mlir's passes, parse IR that already holds qnt ops next to a float
 * linear layer, and run qnt-quantize-linear from a textual pipeline. */

#include "mlir-c/Dialect/Arith.h"
#include "mlir-c/Dialect/Func.h"
#include "mlir-c/Dialect/Linalg.h"
#include "mlir-c/Dialect/Tensor.h"
#include "mlir-c/IR.h"
#include "mlir-c/Pass.h"
#include "qmlir-c/Qnt.h"

#include <stdio.h>
#include <string.h>

static void printToStdout(MlirStringRef text, void *userData) {
  (void)userData;
  fwrite(text.data, 1, text.length, stdout);
}

static int fail(const char *what) {
  fprintf(stderr, "qnt-capi: %s\n", what);
  return 1;
}

static const char *kModule =
    "func.func @dequant(%codes: tensor<2x4xi8>, %scales: tensor<2x1xf32>)\n"
    "    -> tensor<2x4xf32> {\n"
    "  %w = qnt.dequantize <int8> %codes : tensor<2x4xi8>\n"
    "      scales(%scales : tensor<2x1xf32>) -> tensor<2x4xf32>\n"
    "  return %w : tensor<2x4xf32>\n"
    "}\n"
    "func.func @linear(%x: tensor<1x4xf32>, %init: tensor<1x2xf32>)\n"
    "    -> tensor<1x2xf32> {\n"
    "  %w = arith.constant dense<[[1.0, -2.0], [0.5, 0.25], [4.0, 0.0],\n"
    "                             [-1.0, 8.0]]> : tensor<4x2xf32>\n"
    "  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>)\n"
    "      outs(%init : tensor<1x2xf32>) -> tensor<1x2xf32>\n"
    "  return %y : tensor<1x2xf32>\n"
    "}\n";

int main(void) {
  MlirContext ctx = mlirContextCreate();
  MlirDialectHandle handles[] = {
      mlirGetDialectHandle__func__(), mlirGetDialectHandle__arith__(),
      mlirGetDialectHandle__tensor__(), mlirGetDialectHandle__linalg__(),
      mlirGetDialectHandle__qnt__()};
  for (size_t i = 0; i < sizeof(handles) / sizeof(handles[0]); ++i)
    mlirDialectHandleRegisterDialect(handles[i], ctx);
  MlirDialect qnt = mlirDialectHandleLoadDialect(handles[4], ctx);
  MlirStringRef ns = mlirDialectGetNamespace(qnt);
  printf("loaded dialect: %.*s\n", (int)ns.length, ns.data);

  MlirModule module =
      mlirModuleCreateParse(ctx, mlirStringRefCreateFromCString(kModule));
  if (mlirModuleIsNull(module))
    return fail("the module did not parse");

  qmlirRegisterQntPasses();
  MlirPassManager pm = mlirPassManagerCreate(ctx);
  MlirLogicalResult parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(pm),
      mlirStringRefCreateFromCString(
          "builtin.module(qnt-quantize-linear{scheme=int8})"),
      printToStdout, NULL);
  if (mlirLogicalResultIsFailure(parsed))
    return fail("the pipeline did not parse");
  if (mlirLogicalResultIsFailure(
          mlirPassManagerRunOnOp(pm, mlirModuleGetOperation(module))))
    return fail("the pipeline failed");
  mlirOperationPrint(mlirModuleGetOperation(module), printToStdout, NULL);
  printf("\n");

  /* A pass name that does not exist is reported, not a crash. */
  MlirPassManager bad = mlirPassManagerCreate(ctx);
  parsed = mlirParsePassPipeline(
      mlirPassManagerGetAsOpPassManager(bad),
      mlirStringRefCreateFromCString("builtin.module(qnt-no-such-pass)"),
      printToStdout, NULL);
  printf("\nbad pipeline rejected: %d\n", mlirLogicalResultIsFailure(parsed));

  mlirPassManagerDestroy(bad);
  mlirPassManagerDestroy(pm);
  mlirModuleDestroy(module);
  mlirContextDestroy(ctx);
  return 0;
}
