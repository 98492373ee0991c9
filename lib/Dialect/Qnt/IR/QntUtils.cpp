//===- QntUtils.cpp - Constants of quantized weights ----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/IR/QntOps.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

LogicalResult qnt::readFloatConstant(Attribute value, std::vector<float> &out) {
  auto shaped = llvm::dyn_cast_or_null<TypedAttr>(value);
  if (!shaped)
    return failure();
  auto type = llvm::dyn_cast<ShapedType>(shaped.getType());
  if (!type || !type.hasStaticShape() ||
      !llvm::isa<FloatType>(type.getElementType()))
    return failure();
  out.clear();
  out.reserve(type.getNumElements());
  if (auto dense = llvm::dyn_cast<DenseElementsAttr>(value)) {
    if (type.getElementType().isF32()) {
      for (float v : dense.getValues<float>())
        out.push_back(v);
    } else {
      for (const APFloat &v : dense.getValues<APFloat>())
        out.push_back(v.convertToFloat());
    }
    return success();
  }
  auto resource = llvm::dyn_cast<DenseResourceElementsAttr>(value);
  if (!resource || !type.getElementType().isF32())
    return failure();
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return failure(); // Elided (e.g. `dense_resource<__elided__>`).
  ArrayRef<char> data = blob->getData();
  if (data.size() != static_cast<size_t>(type.getNumElements()) * 4)
    return failure();
  out.resize(type.getNumElements());
  std::memcpy(out.data(), data.data(), data.size());
  return success();
}

DenseResourceElementsAttr qnt::makeResource(ShapedType type, StringRef name,
                                            ArrayRef<char> bytes) {
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, 16));
}

WeightTypes qnt::getWeightTypes(SchemeAttr scheme, int64_t n, int64_t k) {
  MLIRContext *ctx = scheme.getContext();
  Type i8 = IntegerType::get(ctx, 8), f32 = Float32Type::get(ctx);
  int64_t groups = scheme.getNumGroups(k);
  int64_t codeCols = scheme.getBitsPerCode() == 8 ? k : (k + 1) / 2;
  WeightTypes t;
  t.codes = RankedTensorType::get({n, codeCols}, i8);
  t.scales = RankedTensorType::get({n, groups}, scheme.getDoubleQuant() ? i8 : f32);
  if (!scheme.getSymmetric())
    t.zeroPoints = RankedTensorType::get({n, groups}, i8);
  if (scheme.getDoubleQuant()) {
    int64_t blocks = (n * groups + numerics::kDoubleQuantBlock - 1) /
                     numerics::kDoubleQuantBlock;
    t.dqScales = RankedTensorType::get({blocks}, f32);
    t.dqOffset = RankedTensorType::get({}, f32);
  }
  return t;
}

template <typename T>
static TypedAttr bytesAttr(RankedTensorType type, StringRef name,
                           const std::vector<T> &values) {
  ArrayRef<char> bytes(reinterpret_cast<const char *>(values.data()),
                       values.size() * sizeof(T));
  return makeResource(type, name, bytes);
}

WeightAttrs qnt::makeWeightAttrs(SchemeAttr scheme,
                                 const numerics::QuantizedWeight &q) {
  WeightTypes types = getWeightTypes(scheme, q.n, q.k);
  WeightAttrs attrs;
  attrs.codes = bytesAttr(types.codes, "qnt_codes", q.codes);
  if (scheme.getDoubleQuant()) {
    attrs.scales = bytesAttr(types.scales, "qnt_absmax_codes", q.dqCodes);
    attrs.dqScales = bytesAttr(types.dqScales, "qnt_dq_scales", q.dqScales);
    attrs.dqOffset = DenseElementsAttr::get(types.dqOffset, q.dqOffset);
  } else {
    attrs.scales = bytesAttr(types.scales, "qnt_scales", q.scales);
  }
  if (types.zeroPoints)
    attrs.zeroPoints = bytesAttr(types.zeroPoints, "qnt_zero_points",
                                 q.zeroPoints);
  return attrs;
}

static std::string typeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

std::string qnt::kernelName(StringRef prefix, SchemeAttr s, Type act, Type out,
                            int64_t m, int64_t n, int64_t k) {
  std::string name = (prefix + "_" + stringifyQuantKind(s.getKind())).str();
  if (!s.getSymmetric())
    name += "_asym";
  if (s.getGroupSize())
    name += "_g" + std::to_string(s.getGroupSize());
  if (s.getDoubleQuant())
    name += "_dq";
  name += "_" + typeName(act) + "_" + typeName(out);
  if (s.getComputeType() != act)
    name += "_c" + typeName(s.getComputeType());
  if (s.getActInt8())
    name += "_a8";
  if (FloatAttr t = s.getOutlierThreshold()) // The bits: exact and short.
    name +=
        "_t" + llvm::utohexstr(t.getValue().bitcastToAPInt().getZExtValue());
  return name + "_m" + std::to_string(m) + "_n" + std::to_string(n) + "_k" +
         std::to_string(k);
}
