//===- IntDotTest.cpp - Tests for the W8A8 matmul reference ---------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// numerics::matmulActInt8 on hand-worked cases (codes and sums written out
// here) and, on random data, against the formula evaluated in double.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/IntDot.h"

#include "gtest/gtest.h"

#include <cmath>
#include <random>

using namespace qmlir::numerics;

namespace {

/// A symmetric int8 weight of the given codes and per-(row, group) scales.
QuantizedWeight int8Weight(int64_t n, int64_t k, int64_t group,
                           std::vector<int8_t> codes,
                           std::vector<float> scales) {
  QuantizedWeight w;
  w.scheme.kind = Kind::Int8;
  w.scheme.groupSize = group;
  w.n = n;
  w.k = k;
  for (int8_t c : codes)
    w.codes.push_back(static_cast<uint8_t>(c));
  w.scales = std::move(scales);
  return w;
}

// x = [2, -1, 0.5, 8]: absmax 8 -> codes round(x * 127 / 8) = [32, -16, 8,
// 127], scale 8 / 127; W = [[1, 2, 3, 4]] * 0.5 gives sum 32 - 32 + 24 +
// 508 = 532, y = 532 * (8 / 127) * 0.5. With threshold 4, 8 is an outlier:
// absmax 2, codes [127, -64 (-63.5 to even), 32, 0], sum 127 - 128 + 96 =
// 95, y = 95 * (2 / 127) * 0.5 + 8 * (4 * 0.5).
TEST(IntDot, HandWorkedRow) {
  QuantizedWeight w = int8Weight(1, 4, 0, {1, 2, 3, 4}, {0.5f});
  const float x[4] = {2.0f, -1.0f, 0.5f, 8.0f};
  float out = 1.0f; // Accumulated into.
  matmulActInt8(w, x, 1, 0.0f, &out);
  EXPECT_NEAR(out, 1.0 + 532.0 * (8.0 / 127.0) * 0.5, 1e-5);
  out = 0.0f;
  matmulActInt8(w, x, 1, 4.0f, &out);
  EXPECT_NEAR(out, 95.0 * (2.0 / 127.0) * 0.5 + 8.0 * 2.0, 1e-5);
}

// |x| >= threshold is an outlier (equal counts); a row of only outliers has
// absmax 0 and no integer part; a zero row gives 0.
TEST(IntDot, ThresholdEdges) {
  QuantizedWeight w = int8Weight(2, 2, 0, {1, -1, 2, 3}, {1.0f, 0.25f});
  const float x[6] = {6.0f, -6.0f, 0.0f, 0.0f, 6.0f, 1.0f};
  float out[6] = {};
  matmulActInt8(w, x, 3, 6.0f, out);
  EXPECT_FLOAT_EQ(out[0], 6.0f * 1 + -6.0f * -1); // all outliers
  EXPECT_FLOAT_EQ(out[1], 6.0f * 0.5f + -6.0f * 0.75f);
  EXPECT_EQ(out[2], 0.0f); // zero row
  EXPECT_EQ(out[3], 0.0f);
  // x = [6 (outlier), 1]: absmax 1, code 127 for the 1.
  EXPECT_NEAR(out[4], 6.0f * 1 + 127 * (1.0 / 127) * -1, 1e-6);
  EXPECT_NEAR(out[5], 6.0f * 0.5f + 127 * (1.0 / 127) * 0.75, 1e-6);
}

// Random rows and grouped weights against the formula in double: the same
// codes (bitsandbytes' x * fl(fl(1 / a) * 127), round half to even), exact
// integer sums; only the f32 scaling and summation may differ.
TEST(IntDot, RandomAgainstDouble) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_int_distribution<int> code(-127, 127);
  const int64_t m = 5, n = 7, k = 96, group = 32, groups = k / group;
  std::vector<int8_t> codes(n * k);
  for (int8_t &c : codes)
    c = static_cast<int8_t>(code(rng));
  std::vector<float> scales(n * groups);
  for (float &s : scales)
    s = 0.01f + std::fabs(normal(rng)) * 0.01f;
  QuantizedWeight w = int8Weight(n, k, group, codes, scales);
  std::vector<float> x(m * k);
  for (float &v : x)
    v = normal(rng);
  for (float threshold : {0.0f, 1.5f}) {
    std::vector<float> out(m * n, 0.0f);
    matmulActInt8(w, x.data(), m, threshold, out.data());
    int outliers = 0;
    for (int64_t i = 0; i < m; ++i) {
      const float *xi = x.data() + i * k;
      auto isOut = [&](float v) {
        return threshold > 0.0f && std::fabs(v) >= threshold;
      };
      float a = 0.0f;
      for (int64_t c = 0; c < k; ++c)
        if (!isOut(xi[c]))
          a = std::max(a, std::fabs(xi[c]));
      float inv = (1.0f / a) * 127.0f;
      double sx = static_cast<double>(a / 127.0f);
      for (int64_t r = 0; r < n; ++r) {
        double want = 0.0, mag = 0.0;
        for (int64_t c = 0; c < k; ++c) {
          double wv = double(codes[r * k + c]) * scales[r * groups + c / group];
          double xv = isOut(xi[c]) ? xi[c] : std::nearbyint(xi[c] * inv) * sx;
          want += xv * wv;
          mag += std::fabs(xv * wv);
          outliers += r == 0 && isOut(xi[c]);
        }
        EXPECT_NEAR(out[i * n + r], want, 1e-6 * mag + 1e-30)
            << "row " << i << ", column " << r << ", threshold " << threshold;
      }
    }
    if (threshold > 0.0f)
      EXPECT_GT(outliers, 10); // The threshold case has outliers to test.
  }
}

} // namespace
