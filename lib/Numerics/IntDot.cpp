//===- IntDot.cpp - Integer dot products of quantized weights -------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/IntDot.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <vector>

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

void qmlir::numerics::matmulActInt8(const QuantizedWeight &w, const float *x,
                                    int64_t m, float threshold, float *out) {
  assert(w.scheme.kind == Kind::Int8 && w.scheme.symmetric &&
         "W8A8 takes symmetric int8 weights");
  int64_t n = w.n, k = w.k, groups = w.groups();
  int64_t groupSize = effectiveGroupSize(k, w.scheme.groupSize);
  for (int64_t i = 0; i < m; ++i) {
    const float *xi = x + i * k;
    std::vector<int64_t> outliers;
    QuantizedWeight xq =
        quantizeInt8WithOutliers(xi, 1, k, threshold, outliers);
    float xs = xq.scales[0];
    for (int64_t r = 0; r < n; ++r) {
      const uint8_t *wr = w.codes.data() + r * k;
      const float *ws = w.scales.data() + r * groups;
      float acc = 0.0f;
      for (int64_t g = 0; g < groups; ++g) {
        int32_t sum = 0;
        for (int64_t c = g * groupSize; c < std::min(k, (g + 1) * groupSize);
             ++c)
          sum += int32_t(int8_t(xq.codes[c])) * int32_t(int8_t(wr[c]));
        acc += static_cast<float>(sum) * (xs * ws[g]);
      }
      for (int64_t c : outliers)
        acc += xi[c] * (static_cast<float>(int8_t(wr[c])) * ws[c / groupSize]);
      out[i * n + r] += acc;
    }
  }
}
