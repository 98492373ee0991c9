//===- QntAttrs.td - qnt attributes -----------------------*- tablegen -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DIALECT_QNT_IR_QNTATTRS_TD
#define QMLIR_DIALECT_QNT_IR_QNTATTRS_TD

include "qmlir/Dialect/Qnt/IR/QntDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/EnumAttr.td"

def Qnt_KindInt8 : I32EnumAttrCase<"int8", 0>;
def Qnt_KindInt4 : I32EnumAttrCase<"int4", 1>;
def Qnt_KindNF4 : I32EnumAttrCase<"nf4", 2>;
def Qnt_KindFP4 : I32EnumAttrCase<"fp4", 3>;

def Qnt_QuantKind : I32EnumAttr<"QuantKind", "quantization family",
    [Qnt_KindInt8, Qnt_KindInt4, Qnt_KindNF4, Qnt_KindFP4]> {
  let cppNamespace = "::qmlir::qnt";
  let genSpecializedAttr = 0;
}

class Qnt_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Qnt_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

def Qnt_SchemeAttr : Qnt_Attr<"Scheme", "scheme"> {
  let summary = "How a weight is quantized and how its matmul computes";
  let description = [{
    Describes a weight quantization scheme:

    - `kind`: `int8`, `int4` (scale and optional zero point) or the table
      schemes `nf4` and `fp4` (bitsandbytes-compatible, absmax scaling).
    - `asymmetric`: int kinds only; adds a uint8 zero point per group.
    - `group`: elements per group along K; 0 (the default, not printed) means
      one group per output channel.
    - `double_quant`: nf4/fp4 only; the per-group absmax values are
      themselves quantized to 8 bits as bitsandbytes does.
    - `compute`: the element type the matmul runs in (f32, bf16 or f16);
      accumulation is always f32.
    - `codebook`: table kinds only, 16 values in code order; absent means the
      standard NF4 / FP4 table.
    - `act = int8`: symmetric int8 weights only (W8A8, the LLM.int8
      family): the matmul quantizes each activation row (token) to int8
      (absmax / 127, as bitsandbytes' int8_vectorwise_quant), sums
      integer products exactly per group and scales by both scales.
    - `outlier_threshold = T`: with `act = int8`, LLM.int8's mixed
      decomposition per token: activations with |x| >= T are left out of
      their row's absmax and int8 codes and multiply the dequantized weights
      in f32 instead. (bitsandbytes takes whole columns that hold an outlier
      in any row of the batch; per token, a row's result does not depend on
      the other rows it is batched with. The two agree for one row.)

    Examples:

    ```mlir
    #qnt.scheme<int8>
    #qnt.scheme<int4, asymmetric, group = 128, compute = bf16>
    #qnt.scheme<nf4, group = 64, double_quant>
    #qnt.scheme<int8, act = int8, outlier_threshold = 6.0>
    ```
  }];
  let parameters = (ins "::qmlir::qnt::QuantKind":$kind,
                        "bool":$symmetric,
                        "int64_t":$groupSize,
                        "bool":$doubleQuant,
                        "::mlir::Type":$computeType,
                        OptionalParameter<"::mlir::DenseF32ArrayAttr">:$codebook,
                        "bool":$actInt8,
                        OptionalParameter<"::mlir::FloatAttr">:$outlierThreshold);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The scheme as the numerics library sees it.
    ::qmlir::numerics::Scheme toNumerics() const;
    /// Builds a scheme from the numerics description.
    static SchemeAttr fromNumerics(::mlir::MLIRContext *ctx,
                                   const ::qmlir::numerics::Scheme &scheme,
                                   ::mlir::Type computeType);
    /// The compute type a name spells ("f32", "bf16" or "f16"); null for
    /// any other name.
    static ::mlir::Type parseComputeType(::mlir::MLIRContext *ctx,
                                         ::llvm::StringRef name);
    /// The same scheme with int8 activations (W8A8) and, when `threshold`
    /// > 0, LLM.int8's outlier threshold.
    SchemeAttr withActInt8(float threshold) const;
    /// The outlier threshold, 0 when there is none.
    float getThreshold() const;
    /// True for nf4 and fp4.
    bool isTable() const;
    /// Bits per stored code (8 or 4).
    unsigned getBitsPerCode() const;
    /// The 16 table values in code order (the custom codebook or the
    /// standard table); table kinds only.
    ::llvm::SmallVector<float, 16> getTable() const;
    /// Number of groups along K.
    int64_t getNumGroups(int64_t k) const;
  }];
}

#endif // QMLIR_DIALECT_QNT_IR_QNTATTRS_TD
