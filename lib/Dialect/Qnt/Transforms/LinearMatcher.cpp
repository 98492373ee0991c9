//===- LinearMatcher.cpp - Find float linear ops with constant weights ----===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Dialect/Qnt/Transforms/LinearMatcher.h"

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace qmlir;
using namespace qmlir::qnt;

namespace {
/// The role of a weight dimension in the contraction.
enum class Role { K, N, Batch };
} // namespace

/// Loop dimension of each result of `map`, or failure if a result is not a
/// plain dimension.
static FailureOr<SmallVector<unsigned>> mapDims(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr e : map.getResults()) {
    auto d = llvm::dyn_cast<AffineDimExpr>(e);
    if (!d)
      return failure();
    dims.push_back(d.getPosition());
  }
  return dims;
}

bool qnt::looksLinear(linalg::LinalgOp op) {
  if (isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op.getOperation()))
    return true;
  return op.getNumDpsInputs() == 2 && op.getNumDpsInits() == 1 &&
         linalg::isaContractionOpInterface(op);
}

FailureOr<LinearMatch> qnt::matchLinear(linalg::LinalgOp op,
                                        std::string &whyNot) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !linalg::isaContractionOpInterface(op)) {
    whyNot = "not a two-operand multiply-accumulate contraction";
    return failure();
  }
  if (!op.hasPureTensorSemantics()) {
    whyNot = "operates on buffers, not tensors";
    return failure();
  }
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->m.size() != 1 || dims->n.size() != 1 ||
      dims->k.size() != 1 || dims->batch.size() > 1) {
    whyNot = "not a single M x N x K contraction (with at most one batch "
             "dimension)";
    return failure();
  }
  unsigned m = dims->m[0], n = dims->n[0], k = dims->k[0];
  std::optional<unsigned> b;
  if (!dims->batch.empty())
    b = dims->batch[0];

  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  auto lhs = mapDims(maps[0]), rhs = mapDims(maps[1]), out = mapDims(maps[2]);
  if (failed(lhs) || failed(rhs) || failed(out)) {
    whyNot = "indexing maps are not plain dimension permutations";
    return failure();
  }
  SmallVector<unsigned> wantLhs = {m, k}, wantOut = {m, n};
  if (b) {
    wantLhs.insert(wantLhs.begin(), *b);
    wantOut.insert(wantOut.begin(), *b);
  }
  if (*lhs != wantLhs || *out != wantOut) {
    whyNot = "activations or result are not in [B,] M x K / M x N layout";
    return failure();
  }

  // Roles of the weight operand's dimensions as the contraction sees them.
  SmallVector<Role> roles;
  for (unsigned d : *rhs) {
    if (d == k)
      roles.push_back(Role::K);
    else if (d == n)
      roles.push_back(Role::N);
    else if (b && d == *b)
      roles.push_back(Role::Batch);
    else {
      whyNot = "weight is indexed by an activation dimension";
      return failure();
    }
  }

  LinearMatch match;
  match.op = op;
  match.input = op.getDpsInputOperand(0)->get();
  match.init = op.getDpsInitOperand(0)->get();

  // Walk from the weight operand back to its constant through transposes
  // and batch broadcasts, tracking which stored dimension is K and which N.
  Value v = op.getDpsInputOperand(1)->get();
  while (true) {
    Operation *def = v.getDefiningOp();
    if (auto c = dyn_cast_or_null<arith::ConstantOp>(def)) {
      match.weight = c;
      break;
    }
    if (auto t = dyn_cast_or_null<linalg::TransposeOp>(def)) {
      ArrayRef<int64_t> perm = t.getPermutation();
      SmallVector<Role> in(roles.size());
      for (auto [i, p] : llvm::enumerate(perm))
        in[p] = roles[i];
      roles = in;
      match.weightChain.push_back(def);
      v = t.getInput();
      continue;
    }
    if (auto bc = dyn_cast_or_null<linalg::BroadcastOp>(def)) {
      SmallVector<Role> in;
      ArrayRef<int64_t> added = bc.getDimensions();
      for (auto [i, r] : llvm::enumerate(roles)) {
        if (llvm::is_contained(added, static_cast<int64_t>(i))) {
          if (r != Role::Batch) {
            whyNot = "weight broadcast along a non-batch dimension";
            return failure();
          }
          continue;
        }
        in.push_back(r);
      }
      roles = in;
      match.weightChain.push_back(def);
      v = bc.getInput();
      continue;
    }
    whyNot = "weight is not a constant";
    return failure();
  }
  if (roles.size() != 2 || llvm::is_contained(roles, Role::Batch)) {
    whyNot = "weight varies along the batch dimension";
    return failure();
  }
  auto type = llvm::dyn_cast<RankedTensorType>(match.weight.getType());
  if (!type || !type.hasStaticShape() ||
      !llvm::isa<FloatType>(type.getElementType())) {
    whyNot = "weight is not a statically shaped float tensor";
    return failure();
  }
  if (!llvm::isa<FloatType>(getElementTypeOrSelf(match.input.getType())) ||
      !llvm::isa<FloatType>(getElementTypeOrSelf(match.init.getType()))) {
    whyNot = "activations are not floating point";
    return failure();
  }
  match.constantIsKN = roles[0] == Role::K;
  match.k = type.getDimSize(match.constantIsKN ? 0 : 1);
  match.n = type.getDimSize(match.constantIsKN ? 1 : 0);
  return match;
}

LogicalResult LinearMatch::readWeightNK(std::vector<float> &out) const {
  std::vector<float> stored;
  arith::ConstantOp constant = weight; // Op accessors are not const.
  if (failed(readFloatConstant(constant.getValue(), stored)))
    return failure();
  if (!constantIsKN) {
    out = std::move(stored);
    return success();
  }
  out.resize(stored.size());
  for (int64_t kk = 0; kk < k; ++kk)
    for (int64_t nn = 0; nn < n; ++nn)
      out[nn * k + kk] = stored[kk * n + nn];
  return success();
}

std::string LinearSelection::rejects(const LinearMatch &match) const {
  int64_t size = match.n * match.k;
  if (size < minSize)
    return "weight has " + std::to_string(size) +
           " elements, fewer than min-size " + std::to_string(minSize);
  if (skip) {
    std::string loc;
    llvm::raw_string_ostream os(loc);
    match.op->getLoc().print(os);
    if (skip->match(loc))
      return "location " + loc + " matches the skip pattern";
  }
  int64_t g = scheme.getGroupSize();
  if (g > 0 && match.k % g != 0)
    return "group size " + std::to_string(g) + " does not divide K = " +
           std::to_string(match.k);
  return "";
}

FailureOr<LinearSelection>
qnt::parseSelection(Operation *diagOp, StringRef scheme, bool symmetric,
                    int64_t groupSize, bool doubleQuant, StringRef computeType,
                    bool actInt8, double outlierThreshold, int64_t minSize,
                    StringRef skip) {
  MLIRContext *ctx = diagOp->getContext();
  numerics::Scheme s;
  if (!numerics::parseKind(scheme.str(), s.kind))
    return diagOp->emitError() << "invalid value '" << scheme
                               << "' for option 'scheme' (expected int8, "
                                  "int4, nf4 or fp4)";
  s.symmetric = symmetric;
  s.doubleQuant = doubleQuant;
  if (groupSize < -1)
    return diagOp->emitError()
           << "invalid value '" << groupSize
           << "' for option 'group-size' (expected -1, 0 or a positive "
              "number)";
  s.groupSize = groupSize >= 0 ? groupSize
                : s.kind == numerics::Kind::Int8 ? 0
                : s.kind == numerics::Kind::Int4 ? 128
                                                 : 64;
  if (numerics::isTableKind(s.kind) && !symmetric)
    return diagOp->emitError() << "invalid value 'false' for option "
                                  "'symmetric': '"
                               << scheme << "' is symmetric only";
  if (!numerics::isTableKind(s.kind) && doubleQuant)
    return diagOp->emitError() << "invalid value 'true' for option "
                                  "'double-quant': it needs scheme nf4 or fp4";
  Type compute = SchemeAttr::parseComputeType(ctx, computeType);
  if (!compute)
    return diagOp->emitError() << "invalid value '" << computeType
                               << "' for option 'compute-type' (expected "
                                  "f32, bf16 or f16)";
  if (minSize < 0)
    return diagOp->emitError() << "invalid value '" << minSize
                               << "' for option 'min-size' (expected >= 0)";
  if (actInt8 && (s.kind != numerics::Kind::Int8 || !symmetric))
    return diagOp->emitError() << "invalid value 'true' for option "
                                  "'act-int8': it needs scheme int8, "
                                  "symmetric";
  if (actInt8 && !compute.isF32())
    return diagOp->emitError() << "invalid value 'true' for option "
                                  "'act-int8': it computes in integers, not "
                               << computeType;
  if (outlierThreshold != 0.0 &&
      !(actInt8 && outlierThreshold > 0.0 && std::isfinite(outlierThreshold)))
    return diagOp->emitError()
           << "invalid value '" << outlierThreshold
           << "' for option 'outlier-threshold' (expected a positive number, "
              "with act-int8)";
  LinearSelection sel;
  sel.scheme = SchemeAttr::fromNumerics(ctx, s, compute);
  if (actInt8)
    sel.scheme = sel.scheme.withActInt8(static_cast<float>(outlierThreshold));
  sel.minSize = minSize;
  if (!skip.empty()) {
    sel.skip = std::make_shared<llvm::Regex>(skip);
    std::string error;
    if (!sel.skip->isValid(error))
      return diagOp->emitError() << "invalid value '" << skip
                                 << "' for option 'skip': " << error;
  }
  return sel;
}
