//===- QntOps.cpp - qnt operations ----------------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/IR/QntOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

//===----------------------------------------------------------------------===//
// Shared verification of the weight operands
//===----------------------------------------------------------------------===//

/// Checks that the weight operands (or results) of `op` match what `scheme`
/// requires for an [N, K] weight.
static LogicalResult verifyWeight(Operation *op, SchemeAttr scheme, int64_t n,
                                  int64_t k, Type codes, Type scales,
                                  Type zeroPoints, Type dqScales,
                                  Type dqOffset) {
  if (ShapedType::isDynamic(n) || ShapedType::isDynamic(k))
    return op->emitOpError("needs static N and K");
  int64_t g = scheme.getGroupSize();
  if (g > 0 && k % g != 0)
    return op->emitOpError() << "group size " << g << " does not divide K = "
                             << k;
  WeightTypes want = getWeightTypes(scheme, n, k);
  StringRef kind = stringifyQuantKind(scheme.getKind());
  auto check = [&](StringRef what, Type got, RankedTensorType expected,
                   StringRef shapeDesc) -> LogicalResult {
    if (!expected && got)
      return op->emitOpError() << "unexpected " << what << " for scheme "
                               << scheme;
    if (expected && !got)
      return op->emitOpError() << "scheme " << scheme << " needs " << what;
    if (expected && got != expected)
      return op->emitOpError()
             << "expected " << what << " of type " << expected << " ("
             << shapeDesc << ") for '" << kind << "', got " << got;
    return success();
  };
  return success(
      succeeded(check("codes", codes, want.codes,
                      scheme.getBitsPerCode() == 8 ? "N x K" : "N x ceil(K/2)")) &&
      succeeded(check("scales", scales, want.scales, "N x groups")) &&
      succeeded(check("zero points", zeroPoints, want.zeroPoints,
                      "N x groups")) &&
      succeeded(check("double-quant scales", dqScales, want.dqScales,
                      "ceil(N x groups / 256)")) &&
      succeeded(check("double-quant offset", dqOffset, want.dqOffset,
                      "scalar")));
}

static Type typeOrNull(Value v) { return v ? v.getType() : Type(); }

//===----------------------------------------------------------------------===//
// QuantizeOp
//===----------------------------------------------------------------------===//

void QuantizeOp::build(OpBuilder &builder, OperationState &state,
                       SchemeAttr scheme, Value weight) {
  auto wType = llvm::cast<RankedTensorType>(weight.getType());
  WeightTypes t = getWeightTypes(scheme, wType.getDimSize(0),
                                 wType.getDimSize(1));
  SmallVector<Type> types = {t.codes, t.scales};
  int32_t zp = 0, dq = 0;
  if (t.zeroPoints) {
    types.push_back(t.zeroPoints);
    zp = 1;
  }
  if (t.dqScales) {
    types.push_back(t.dqScales);
    types.push_back(t.dqOffset);
    dq = 1;
  }
  state.addOperands(weight);
  state.addTypes(types);
  state.getOrAddProperties<Properties>().scheme = scheme;
  state.getOrAddProperties<Properties>().resultSegmentSizes = {1, 1, zp, dq,
                                                               dq};
}

LogicalResult QuantizeOp::verify() {
  auto wType = getWeight().getType();
  if (wType.getRank() != 2)
    return emitOpError() << "expected a rank-2 [N, K] weight, got " << wType;
  return verifyWeight(*this, getScheme(), wType.getDimSize(0),
                      wType.getDimSize(1), getCodes().getType(),
                      getScales().getType(), typeOrNull(getZeroPoints()),
                      typeOrNull(getDqScales()), typeOrNull(getDqOffset()));
}

/// `qnt.quantize #scheme %w : tensor<NxKxf32> -> type, type, ...`; which
/// optional results exist follows from the scheme.
ParseResult QuantizeOp::parse(OpAsmParser &parser, OperationState &result) {
  SchemeAttr scheme;
  OpAsmParser::UnresolvedOperand weight;
  Type weightType;
  SmallVector<Type> resultTypes;
  if (parser.parseCustomAttributeWithFallback(scheme) ||
      parser.parseOperand(weight) ||
      parser.parseOptionalAttrDict(result.attributes) ||
      parser.parseColonType(weightType) || parser.parseArrow() ||
      parser.parseTypeList(resultTypes) ||
      parser.resolveOperand(weight, weightType, result.operands))
    return failure();
  int32_t zp = scheme.getSymmetric() ? 0 : 1;
  int32_t dq = scheme.getDoubleQuant() ? 1 : 0;
  if (resultTypes.size() != static_cast<size_t>(2 + zp + 2 * dq))
    return parser.emitError(parser.getNameLoc())
           << "scheme " << scheme << " produces " << (2 + zp + 2 * dq)
           << " results, got " << resultTypes.size() << " result types";
  result.addTypes(resultTypes);
  auto &props = result.getOrAddProperties<Properties>();
  props.scheme = scheme;
  props.resultSegmentSizes = {1, 1, zp, dq, dq};
  return success();
}

void QuantizeOp::print(OpAsmPrinter &p) {
  p << " ";
  p.printStrippedAttrOrType(getScheme());
  p << " " << getWeight();
  p.printOptionalAttrDict((*this)->getAttrs(), {"scheme"});
  p << " : " << getWeight().getType() << " -> ";
  llvm::interleaveComma(getResultTypes(), p);
}

/// The compile-time folder: a constant weight quantizes through the numerics
/// library into constant codes and parameters.
LogicalResult QuantizeOp::fold(FoldAdaptor adaptor,
                               SmallVectorImpl<OpFoldResult> &results) {
  std::vector<float> values;
  if (!adaptor.getWeight() ||
      failed(readFloatConstant(adaptor.getWeight(), values)) ||
      numerics::firstNonFinite(values.data(), values.size()) >= 0)
    return failure();
  auto wType = getWeight().getType();
  numerics::Scheme scheme = getScheme().toNumerics();
  numerics::QuantizedWeight q = numerics::quantize(
      scheme, values.data(), wType.getDimSize(0), wType.getDimSize(1));
  WeightAttrs attrs = makeWeightAttrs(getScheme(), q);
  results.push_back(attrs.codes);
  results.push_back(attrs.scales);
  for (TypedAttr a : {attrs.zeroPoints, attrs.dqScales, attrs.dqOffset})
    if (a)
      results.push_back(a);
  return success();
}

//===----------------------------------------------------------------------===//
// DequantizeOp
//===----------------------------------------------------------------------===//

LogicalResult DequantizeOp::verify() {
  auto type = getResult().getType();
  if (type.getRank() != 2)
    return emitOpError() << "expected a rank-2 [N, K] result, got " << type;
  return verifyWeight(*this, getScheme(), type.getDimSize(0),
                      type.getDimSize(1), getCodes().getType(),
                      getScales().getType(), typeOrNull(getZeroPoints()),
                      typeOrNull(getDqScales()), typeOrNull(getDqOffset()));
}

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::verify() {
  auto in = getInput().getType();
  auto init = getInit().getType();
  if (in.getRank() != 2 && in.getRank() != 3)
    return emitOpError() << "expected input of rank 2 [M, K] or 3 [B, M, K], "
                            "got "
                         << in;
  if (init.getRank() != in.getRank())
    return emitOpError() << "expected init of rank " << in.getRank()
                         << " to match the input, got " << init;
  for (int64_t d = 0; d + 1 < in.getRank(); ++d)
    if (in.getDimSize(d) != init.getDimSize(d))
      return emitOpError() << "input " << in << " and init " << init
                           << " disagree on dimension " << d;
  if (getResult().getType() != init)
    return emitOpError() << "result type " << getResult().getType()
                         << " must match init type " << init;
  return verifyWeight(*this, getScheme(), getN(), getK(), getCodes().getType(),
                      getScales().getType(), typeOrNull(getZeroPoints()),
                      typeOrNull(getDqScales()), typeOrNull(getDqOffset()));
}

#define GET_OP_CLASSES
#include "qmlir/Dialect/Qnt/IR/QntOps.cpp.inc"
