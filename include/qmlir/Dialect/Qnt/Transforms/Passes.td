//===- Passes.td - qnt transformation passes --------------*- tablegen -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DIALECT_QNT_TRANSFORMS_PASSES_TD
#define QMLIR_DIALECT_QNT_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

// Options shared by the passes that choose a scheme for linear layers.
defvar QntSchemeOptions = [
  Option<"scheme", "scheme", "std::string", /*default=*/"\"int8\"",
         "Quantization scheme: int8, int4, nf4 or fp4">,
  Option<"symmetric", "symmetric", "bool", /*default=*/"true",
         "Symmetric (scale only) or asymmetric (scale + zero point); "
         "int schemes only">,
  Option<"groupSize", "group-size", "int64_t", /*default=*/"-1",
         "Elements per group along K; 0 = one group per output channel; "
         "-1 = the scheme's default (int8: 0, int4: 128, nf4/fp4: 64)">,
  Option<"doubleQuant", "double-quant", "bool", /*default=*/"false",
         "Quantize the nf4/fp4 absmax values to 8 bits (bitsandbytes)">,
  Option<"computeType", "compute-type", "std::string", /*default=*/"\"f32\"",
         "Element type the matmul computes in: f32, bf16 or f16">,
  Option<"actInt8", "act-int8", "bool", /*default=*/"false",
         "W8A8 (symmetric int8 only): quantize each activation row to int8 "
         "in the matmul, integer dot products">,
  Option<"outlierThreshold", "outlier-threshold", "double", /*default=*/"0.0",
         "With act-int8: LLM.int8's threshold; activations with |x| >= it "
         "multiply the dequantized weights in f32 (0: none)">,
  Option<"minSize", "min-size", "int64_t", /*default=*/"0",
         "Skip weights with fewer elements than this">,
  Option<"skip", "skip", "std::string", /*default=*/"\"\"",
         "Skip layers whose location (e.g. loc(\"model.lm_head\")) matches "
         "this regular expression">,
  Option<"emitRemarks", "remarks", "bool", /*default=*/"false",
         "Emit a remark for every linear op that is skipped, saying why">
];

def QntQuantizeLinearPass : Pass<"qnt-quantize-linear", "::mlir::ModuleOp"> {
  let summary = "Quantize the constant weights of float linear ops at compile time";
  let description = [{
    Finds float linear ops whose weight is a constant (`arith.constant` with a
    dense or `dense_resource` value, possibly through `linalg.transpose` or
    `linalg.broadcast`): `linalg.matmul` (weight `[K, N]`, or transposed via
    indexing maps), `linalg.batch_matmul` with a broadcast weight, and
    matmul-shaped `linalg.generic`. Each weight is quantized at compile time
    with the numerics library (groups along the reduction dimension K, per
    output channel N, whatever the weight's layout in the IR), stored as
    `dense_resource` blobs, and the op becomes a `qnt.matmul`.

    Before:
    ```mlir
    %w = arith.constant dense<...> : tensor<128x40xf32>
    %y = linalg.matmul ins(%x, %w : tensor<4x128xf32>, tensor<128x40xf32>)
                       outs(%init : tensor<4x40xf32>) -> tensor<4x40xf32>
    ```
    After (`scheme=nf4`):
    ```mlir
    %codes = arith.constant dense_resource<qnt_codes> : tensor<40x64xi8>
    %absmax = arith.constant dense_resource<qnt_scales> : tensor<40x2xf32>
    %y = qnt.matmul #qnt.scheme<nf4, group = 64> %x : tensor<4x128xf32>,
           %codes : tensor<40x64xi8> scales(%absmax : tensor<40x2xf32>)
           outs(%init : tensor<4x40xf32>) -> tensor<4x40xf32>
    ```
  }];
  let options = QntSchemeOptions;
  let dependentDialects = ["::qmlir::qnt::QntDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::tensor::TensorDialect"];
}

def QntReportPass : Pass<"qnt-report", "::mlir::ModuleOp"> {
  let summary = "Print the memory and error table of quantizing each weight";
  let description = [{
    For every linear op `qnt-quantize-linear` would rewrite with the same
    options (and every existing `qnt.matmul`), prints one row per weight:
    parameters, bytes at FP32 / FP16 / quantized (codes + scales + zero points
    + double-quant tables), bits per weight, % of FP32 and of FP16, and the
    quantization error (RMSE, SQNR in dB) measured by quantizing the weight's
    values; then the totals. The IR is left unchanged. Weights whose values
    are not available (elided resources, existing qnt ops) show sizes only.
  }];
  let options = !listconcat(QntSchemeOptions, [
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "Where to write the table (- for stdout)">,
    Option<"format", "format", "std::string", /*default=*/"\"table\"",
           "Output format: table or csv">
  ]);
  let dependentDialects = ["::qmlir::qnt::QntDialect"];
}

def QntInlineAllocaScopesPass
    : Pass<"qnt-inline-alloca-scopes", "::mlir::ModuleOp"> {
  let summary = "Inline memref.alloca_scope ops that hold no stack "
                "allocation";
  let description = [{
    `convert-scf-to-openmp` wraps each loop body in a `memref.alloca_scope`;
    control flow lowering then needs it gone (or single-block). The
    canonicalizer inlines a scope only when no op inside may allocate on the
    stack, and it counts every `llvm.call` as one that may (the op has no
    memory-effect interface) — such as the generated CPU kernels' calls to
    their always-inline intrinsic wrappers. This pass inlines every
    single-block scope that holds no `memref.alloca` or `llvm.alloca` and no
    call to a function with a body that could.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def QntOuterParallelLoopsPass
    : Pass<"qnt-outer-parallel-loops", "::mlir::func::FuncOp"> {
  let summary = "Keep only the outermost dimension of scf.parallel loops "
                "parallel";
  let description = [{
    Rewrites every `scf.parallel` without reductions into an `scf.parallel`
    over its first dimension whose body loops sequentially (`scf.for`) over
    the others. Run before `convert-scf-to-openmp` on the parallel loops of
    linalg ops: each op becomes one worksharing loop over its outermost
    dimension, and the inner loops keep unit-stride induction variables that
    LLVM vectorizes (a collapsed omp loop would rebuild every index with
    divisions).

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%n, %m) step (%c1, %c1) { ... }
    // becomes
    scf.parallel (%i) = (%c0) to (%n) step (%c1) {
      scf.for %j = %c0 to %m step %c1 { ... }
    }
    ```

    A loop of a public function (not a generated kernel, which splits its
    own work) whose iterations, counted through its nested `scf.for` loops,
    are fewer than `min-parallel-work` runs sequentially: the work of a
    decode step's norms, activations and residuals (hundreds to a few
    thousand elements) is smaller than the cost of starting and joining the
    threads. Counts known only at run time choose between the two copies
    when the loop is reached.
  }];
  let options = [
    Option<"minParallelWork", "min-parallel-work", "int64_t",
           /*default=*/"16384",
           "Fewer iterations than this (the loop nest's product) run on one "
           "thread; 0: every loop stays parallel">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // QMLIR_DIALECT_QNT_TRANSFORMS_PASSES_TD
