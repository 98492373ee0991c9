//===- QntOps.td - qnt operations -------------------------*- tablegen -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DIALECT_QNT_IR_QNTOPS_TD
#define QMLIR_DIALECT_QNT_IR_QNTOPS_TD

include "qmlir/Dialect/Qnt/IR/QntAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Qnt_Op<string mnemonic, list<Trait> traits = []>
    : Op<Qnt_Dialect, mnemonic, traits>;

// Packed codes: i8 storage, [N, K] for 8-bit kinds, [N, ceil(K/2)] for 4-bit.
defvar Qnt_CodesTensor = RankedTensorOf<[I8]>;
// Scales [N, G] in f32, or i8 dynamic-map codes under double quantization.
defvar Qnt_ScalesTensor = RankedTensorOf<[F32, I8]>;
defvar Qnt_FloatTensor = RankedTensorOf<[F32, BF16, F16]>;

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

def Qnt_QuantizeOp : Qnt_Op<"quantize",
    [Pure, AttrSizedResultSegments]> {
  let summary = "Quantizes an [N, K] float weight";
  let description = [{
    Quantizes `weight` (viewed as `[N, K]`, groups along K) with `scheme` and
    returns the packed codes and their parameters. The results present depend
    on the scheme: `zero_points` for asymmetric int schemes, `dq_scales` and
    `dq_offset` for double quantization (then `scales` holds the i8 codes of
    the absmax values in bitsandbytes' dynamic map).

    A constant weight folds at compile time into constant (`dense_resource`)
    results computed by the numerics library.

    ```mlir
    %codes, %absmax = qnt.quantize #qnt.scheme<nf4, group = 64> %w
        : tensor<40x128xf32> -> tensor<40x64xi8>, tensor<40x2xf32>
    ```
  }];
  let arguments = (ins Qnt_SchemeAttr:$scheme, Qnt_FloatTensor:$weight);
  let results = (outs Qnt_CodesTensor:$codes, Qnt_ScalesTensor:$scales,
                      Optional<RankedTensorOf<[I8]>>:$zero_points,
                      Optional<RankedTensorOf<[F32]>>:$dq_scales,
                      Optional<0DTensorOf<[F32]>>:$dq_offset);
  let hasCustomAssemblyFormat = 1;
  let hasVerifier = 1;
  let hasFolder = 1;
  let builders = [
    OpBuilder<(ins "SchemeAttr":$scheme, "::mlir::Value":$weight)>
  ];
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

def Qnt_DequantizeOp : Qnt_Op<"dequantize",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Expands a quantized weight back to an [N, K] float tensor";
  let description = [{
    The inverse of `qnt.quantize`: `result[n, k]` is the dequantized value of
    element `k` of output channel `n`. A zero scale (an all-zero group)
    dequantizes to exact zeros.

    ```mlir
    %w = qnt.dequantize #qnt.scheme<int4, asymmetric, group = 32>
        %codes : tensor<40x64xi8> scales(%s : tensor<40x4xf32>)
        zero_points(%zp : tensor<40x4xi8>) -> tensor<40x128xf32>
    ```
  }];
  let arguments = (ins Qnt_SchemeAttr:$scheme, Qnt_CodesTensor:$codes,
                       Qnt_ScalesTensor:$scales,
                       Optional<RankedTensorOf<[I8]>>:$zero_points,
                       Optional<RankedTensorOf<[F32]>>:$dq_scales,
                       Optional<0DTensorOf<[F32]>>:$dq_offset);
  let results = (outs Qnt_FloatTensor:$result);
  let assemblyFormat = [{
    $scheme $codes `:` type($codes)
    `scales` `(` $scales `:` type($scales) `)`
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    (`dq` `(` $dq_scales^ `:` type($dq_scales) `,`
              $dq_offset `:` type($dq_offset) `)`)?
    attr-dict `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

def Qnt_MatmulOp : Qnt_Op<"matmul",
    [Pure, AttrSizedOperandSegments]> {
  let summary = "Linear layer with a quantized weight: init + input x W^T";
  let description = [{
    `result[b.., m, n] = init[b.., m, n] + sum_k input[b.., m, k] * W[n, k]`
    where `W` is the `[N, K]` weight described by the packed `codes` and
    their parameters under `scheme`. `input` is `[M, K]` or `[B, M, K]` (the
    weight is shared across the batch). Operands and products are rounded to
    the scheme's compute type; accumulation is f32.

    ```mlir
    %y = qnt.matmul #qnt.scheme<nf4, group = 64, double_quant>
        %x : tensor<4x128xf32>, %codes : tensor<40x64xi8>
        scales(%s : tensor<40x2xi8>)
        dq(%dqs : tensor<1xf32>, %off : tensor<f32>)
        outs(%init : tensor<4x40xf32>) -> tensor<4x40xf32>
    ```
  }];
  let arguments = (ins Qnt_SchemeAttr:$scheme, Qnt_FloatTensor:$input,
                       Qnt_CodesTensor:$codes, Qnt_ScalesTensor:$scales,
                       Optional<RankedTensorOf<[I8]>>:$zero_points,
                       Optional<RankedTensorOf<[F32]>>:$dq_scales,
                       Optional<0DTensorOf<[F32]>>:$dq_offset,
                       Qnt_FloatTensor:$init);
  let results = (outs Qnt_FloatTensor:$result);
  let assemblyFormat = [{
    $scheme $input `:` type($input) `,` $codes `:` type($codes)
    `scales` `(` $scales `:` type($scales) `)`
    (`zero_points` `(` $zero_points^ `:` type($zero_points) `)`)?
    (`dq` `(` $dq_scales^ `:` type($dq_scales) `,`
              $dq_offset `:` type($dq_offset) `)`)?
    `outs` `(` $init `:` type($init) `)` attr-dict `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Number of output channels N (from init).
    int64_t getN() { return getInit().getType().getShape().back(); }
    /// Reduction size K (from input).
    int64_t getK() { return getInput().getType().getShape().back(); }
  }];
}

#endif // QMLIR_DIALECT_QNT_IR_QNTOPS_TD
