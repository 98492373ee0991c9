//===- IntDot.cpp - Integer dot products of quantized weights -------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/IntDot.h"

#include <algorithm>
#include <cassert>
#include <cmath>

using namespace qmlir::numerics;

namespace {
/// K per int32 sum, at most: tables are limited further, so that T, and
/// with it their resolution, stays high.
constexpr int64_t kMaxBlock = 256;
constexpr int64_t kMaxTableBlock = 64;
constexpr int64_t kInt32Max = 2147483647;
} // namespace

IntDotPlan qmlir::numerics::planIntDot(const Scheme &scheme, int64_t k) {
  IntDotPlan plan;
  bool table = isTableKind(scheme.kind);
  int64_t limit = table ? kMaxTableBlock : kMaxBlock;
  if (numGroups(k, scheme.groupSize) == 1) {
    plan.block = limit;
  } else { // The largest multiple of 32 dividing the group, up to the limit.
    int64_t group = effectiveGroupSize(k, scheme.groupSize);
    assert(group % 32 == 0 && "groups of a multiple of 32");
    for (int64_t b = 32; b <= std::min(group, limit); b += 32)
      if (group % b == 0)
        plan.block = b;
  }
  int64_t sumLimit = kInt32Max / (plan.block * kActivationMax);
  if (table) {
    const float *t = schemeTable(scheme);
    float tmax = 0.0f;
    for (int c = 0; c < 16; ++c)
      tmax = std::max(tmax, std::fabs(t[c]));
    plan.tableMax = static_cast<int32_t>(std::min<int64_t>(sumLimit, 16383));
    plan.tableStep = tmax > 0.0f ? tmax / plan.tableMax : 0.0f;
    for (int c = 0; c < 16; ++c)
      plan.table[c] = static_cast<int16_t>(
          tmax > 0.0f ? roundHalfEven(t[c] * (plan.tableMax / tmax)) : 0.0f);
    return plan;
  }
  // |integer weight| <= 255 (an int8 code minus its zero point).
  assert(255 <= sumLimit && "int32 sums stay exact");
  if (scheme.kind == Kind::Int4)
    for (int c = 0; c < 16; ++c)
      plan.table[c] =
          static_cast<int16_t>(scheme.symmetric && c >= 8 ? c - 16 : c);
  return plan;
}
