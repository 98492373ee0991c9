//===- QntAttrs.cpp - qnt attributes --------------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/IR/QntOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

#define GET_ATTRDEF_CLASSES
#include "qmlir/Dialect/Qnt/IR/QntAttrs.cpp.inc"

#include "qmlir/Dialect/Qnt/IR/QntEnums.cpp.inc"

void QntDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "qmlir/Dialect/Qnt/IR/QntAttrs.cpp.inc"
      >();
}

//===----------------------------------------------------------------------===//
// SchemeAttr
//===----------------------------------------------------------------------===//

static numerics::Kind toNumericsKind(QuantKind kind) {
  return static_cast<numerics::Kind>(static_cast<uint32_t>(kind));
}

numerics::Scheme SchemeAttr::toNumerics() const {
  numerics::Scheme s;
  s.kind = toNumericsKind(getKind());
  s.symmetric = getSymmetric();
  s.groupSize = getGroupSize();
  s.doubleQuant = getDoubleQuant();
  if (DenseF32ArrayAttr codebook = getCodebook())
    s.codebook.assign(codebook.asArrayRef().begin(),
                      codebook.asArrayRef().end());
  return s;
}

SchemeAttr SchemeAttr::fromNumerics(MLIRContext *ctx,
                                    const numerics::Scheme &scheme,
                                    Type computeType) {
  return SchemeAttr::get(
      ctx, static_cast<QuantKind>(static_cast<uint32_t>(scheme.kind)),
      scheme.symmetric, scheme.groupSize, scheme.doubleQuant, computeType,
      scheme.codebook.empty() ? DenseF32ArrayAttr()
                              : DenseF32ArrayAttr::get(ctx, scheme.codebook),
      /*actInt8=*/false, FloatAttr());
}

SchemeAttr SchemeAttr::withActInt8(float threshold) const {
  MLIRContext *ctx = getContext();
  FloatAttr t = threshold > 0.0f
                    ? FloatAttr::get(Float32Type::get(ctx), threshold)
                    : FloatAttr();
  return SchemeAttr::get(ctx, getKind(), getSymmetric(), getGroupSize(),
                         getDoubleQuant(), getComputeType(), getCodebook(),
                         /*actInt8=*/true, t);
}

float SchemeAttr::getThreshold() const {
  FloatAttr t = getOutlierThreshold();
  return t ? static_cast<float>(t.getValueAsDouble()) : 0.0f;
}

Type SchemeAttr::parseComputeType(MLIRContext *ctx, StringRef name) {
  return llvm::StringSwitch<Type>(name)
      .Case("f32", Float32Type::get(ctx))
      .Case("bf16", BFloat16Type::get(ctx))
      .Case("f16", Float16Type::get(ctx))
      .Default(Type());
}

bool SchemeAttr::isTable() const {
  return numerics::isTableKind(toNumericsKind(getKind()));
}

unsigned SchemeAttr::getBitsPerCode() const {
  return numerics::bitsPerCode(toNumericsKind(getKind()));
}

SmallVector<float, 16> SchemeAttr::getTable() const {
  assert(isTable() && "only nf4/fp4 have a table");
  numerics::Scheme scheme = toNumerics(); // Owns a custom codebook.
  const float *table = numerics::schemeTable(scheme);
  return SmallVector<float, 16>(table, table + 16);
}

int64_t SchemeAttr::getNumGroups(int64_t k) const {
  return numerics::numGroups(k, getGroupSize());
}

LogicalResult SchemeAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                 QuantKind kind, bool symmetric,
                                 int64_t groupSize, bool doubleQuant,
                                 Type computeType, DenseF32ArrayAttr codebook,
                                 bool actInt8, FloatAttr outlierThreshold) {
  bool table = numerics::isTableKind(toNumericsKind(kind));
  if (groupSize < 0)
    return emitError() << "group size must be >= 0, got " << groupSize;
  if (table && !symmetric)
    return emitError() << "'" << stringifyQuantKind(kind)
                       << "' is symmetric only (no zero points)";
  if (!table && doubleQuant)
    return emitError() << "double quantization needs 'nf4' or 'fp4', got '"
                       << stringifyQuantKind(kind) << "'";
  if (!computeType || !(computeType.isF32() || computeType.isBF16() ||
                        computeType.isF16()))
    return emitError() << "compute type must be f32, bf16 or f16, got "
                       << computeType;
  if (codebook) {
    if (!table)
      return emitError() << "a codebook is only valid for 'nf4' or 'fp4'";
    if (codebook.size() != 16)
      return emitError() << "codebook must have 16 entries, got "
                         << codebook.size();
    for (float v : codebook.asArrayRef())
      if (!std::isfinite(v))
        return emitError() << "codebook entries must be finite";
  }
  if (actInt8 && (kind != QuantKind::int8 || !symmetric))
    return emitError() << "'act = int8' needs symmetric 'int8' weights, got '"
                       << stringifyQuantKind(kind) << "'"
                       << (symmetric ? "" : " asymmetric");
  if (actInt8 && !computeType.isF32())
    return emitError() << "'act = int8' computes in integers; compute type "
                          "must be f32, got "
                       << computeType;
  if (outlierThreshold) {
    if (!actInt8)
      return emitError() << "'outlier_threshold' needs 'act = int8'";
    double t = outlierThreshold.getValueAsDouble();
    if (!std::isfinite(t) || t <= 0.0 || !outlierThreshold.getType().isF32())
      return emitError() << "'outlier_threshold' must be a positive finite "
                            "f32, got "
                         << outlierThreshold.getValue().convertToDouble();
  }
  return success();
}

/// Syntax: `<kind (, asymmetric)? (, group = N)? (, double_quant)?
///          (, compute = type)? (, codebook = [..])? (, act = int8)?
///          (, outlier_threshold = T)?>`.
Attribute SchemeAttr::parse(AsmParser &parser, Type) {
  MLIRContext *ctx = parser.getContext();
  StringRef kindName;
  SMLoc kindLoc = parser.getCurrentLocation();
  if (parser.parseLess() || parser.parseKeyword(&kindName))
    return {};
  std::optional<QuantKind> kind = symbolizeQuantKind(kindName);
  if (!kind) {
    parser.emitError(kindLoc) << "unknown quantization scheme '" << kindName
                              << "' (expected int8, int4, nf4 or fp4)";
    return {};
  }
  bool symmetric = true, doubleQuant = false;
  int64_t groupSize = 0;
  Type computeType = Float32Type::get(ctx);
  DenseF32ArrayAttr codebook;
  bool actInt8 = false;
  FloatAttr outlierThreshold;
  while (succeeded(parser.parseOptionalComma())) {
    StringRef key;
    SMLoc keyLoc = parser.getCurrentLocation();
    if (parser.parseKeyword(&key))
      return {};
    if (key == "asymmetric") {
      symmetric = false;
    } else if (key == "double_quant") {
      doubleQuant = true;
    } else if (key == "group") {
      if (parser.parseEqual() || parser.parseInteger(groupSize))
        return {};
    } else if (key == "compute") {
      if (parser.parseEqual() || parser.parseType(computeType))
        return {};
    } else if (key == "codebook") {
      if (parser.parseEqual())
        return {};
      codebook = llvm::dyn_cast_or_null<DenseF32ArrayAttr>(
          DenseF32ArrayAttr::parse(parser, Type()));
      if (!codebook)
        return {};
    } else if (key == "act") {
      StringRef act;
      SMLoc actLoc = parser.getCurrentLocation();
      if (parser.parseEqual() || parser.parseKeyword(&act))
        return {};
      if (act != "int8") {
        parser.emitError(actLoc)
            << "unknown activation type '" << act << "' (expected int8)";
        return {};
      }
      actInt8 = true;
    } else if (key == "outlier_threshold") {
      double t;
      if (parser.parseEqual() || parser.parseFloat(t))
        return {};
      outlierThreshold = FloatAttr::get(Float32Type::get(ctx), t);
    } else {
      parser.emitError(keyLoc)
          << "unknown scheme parameter '" << key
          << "' (expected asymmetric, group, double_quant, compute, "
             "codebook, act or outlier_threshold)";
      return {};
    }
  }
  if (parser.parseGreater())
    return {};
  return parser.getChecked<SchemeAttr>(ctx, *kind, symmetric, groupSize,
                                       doubleQuant, computeType, codebook,
                                       actInt8, outlierThreshold);
}

void SchemeAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyQuantKind(getKind());
  if (!getSymmetric())
    printer << ", asymmetric";
  if (getGroupSize() != 0)
    printer << ", group = " << getGroupSize();
  if (getDoubleQuant())
    printer << ", double_quant";
  if (!getComputeType().isF32())
    printer << ", compute = " << getComputeType();
  if (getCodebook()) {
    printer << ", codebook = ";
    getCodebook().print(printer);
  }
  if (getActInt8())
    printer << ", act = int8";
  if (getOutlierThreshold()) {
    printer << ", outlier_threshold = ";
    printer.printFloat(getOutlierThreshold().getValue());
  }
  printer << ">";
}
