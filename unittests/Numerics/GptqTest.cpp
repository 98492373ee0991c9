//===- GptqTest.cpp - Tests for GPTQ in the numerics ----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Expected codes are worked out by hand from the GPTQ update (see each
// test); python-bindings/tests/test_gptq.py compares larger cases with an
// independent numpy GPTQ.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Gptq.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace qmlir::numerics;

namespace {

Scheme int4PerChannel() {
  Scheme s;
  s.kind = Kind::Int4;
  return s;
}

// w = [0.7, 2.6, 7.0], int4 symmetric per channel: scale = 7 / 7 = 1.
// H = [[1, .5, 0], [.5, 1, 0], [0, 0, 1]], no damping. U (U^T U = H^-1) has
// U01 / U00 = -0.5 and U02 = U12 = 0, so rounding input 0 (0.7 -> 1, error
// -0.3) moves input 1 by 0.5 * -0.3: 2.6 -> 2.45, which rounds to 2 where
// plain rounding gives 3; input 2 is independent: 7.
TEST(Gptq, CompensatesCorrelatedInput) {
  const float w[3] = {0.7f, 2.6f, 7.0f};
  const double h[9] = {1, 0.5, 0, 0.5, 1, 0, 0, 0, 1};
  QuantizedWeight q;
  std::string error;
  ASSERT_TRUE(
      quantizeGptq(int4PerChannel(), w, 1, 3, h, {0.0, false}, q, error))
      << error;
  ASSERT_EQ(q.codes.size(), 2u);
  EXPECT_EQ(q.codes[0], 0x12); // codes 1, 2
  EXPECT_EQ(q.codes[1], 0x70); // code 7, padding 0
  ASSERT_EQ(q.scales.size(), 1u);
  EXPECT_EQ(q.scales[0], 1.0f);
  // Plain rounding: 1, 3, 7.
  QuantizedWeight plain = quantize(int4PerChannel(), w, 1, 3);
  EXPECT_EQ(plain.codes[0], 0x13);
  // Act-order with equal diagonals keeps the order: the same codes.
  QuantizedWeight ordered;
  ASSERT_TRUE(quantizeGptq(int4PerChannel(), w, 1, 3, h, {0.0, true}, ordered,
                           error));
  EXPECT_EQ(ordered.codes, q.codes);
}

// Input 0 is never non-zero (H[0][0] = 0): its column keeps plain rounding,
// and nothing is propagated from it.
TEST(Gptq, DeadInputKeepsRounding) {
  const float w[2] = {0.7f, 7.0f};
  const double h[4] = {0, 0, 0, 1};
  QuantizedWeight q;
  std::string error;
  ASSERT_TRUE(
      quantizeGptq(int4PerChannel(), w, 1, 2, h, {0.0, true}, q, error));
  EXPECT_EQ(q.codes[0], 0x17);
}

TEST(Gptq, Errors) {
  const float w[2] = {0.7f, 7.0f};
  QuantizedWeight q;
  std::string error;
  const double notPd[4] = {1, 2, 2, 1};
  EXPECT_FALSE(
      quantizeGptq(int4PerChannel(), w, 1, 2, notPd, {0.0, false}, q, error));
  EXPECT_EQ(error, "the Hessian is not positive definite (raise damp)");
  const double nan[4] = {1, 0, 0, std::nan("")};
  EXPECT_FALSE(
      quantizeGptq(int4PerChannel(), w, 1, 2, nan, {0.01, false}, q, error));
  EXPECT_EQ(error, "the Hessian has a non-finite value");
  const double id[4] = {1, 0, 0, 1};
  EXPECT_FALSE(
      quantizeGptq(int4PerChannel(), w, 1, 2, id, {-1.0, false}, q, error));
  EXPECT_NE(error.find("is not a finite value >= 0"), std::string::npos);
  Scheme bad = int4PerChannel();
  bad.groupSize = -1;
  EXPECT_FALSE(quantizeGptq(bad, w, 1, 2, id, {}, q, error));
  EXPECT_EQ(error, "group-size must be >= 0 (got -1)");
}

// searchClip: w = [7, 2.9, 2.9, 2.9], int4 symmetric per channel, inputs
// independent (diagonal H, so GPTQ rounds like plain rounding) with the
// outlier's input nearly unused (H00 = 1e-6). Plain: scale 1, 2.9 -> 3
// (error 0.1 on each heavy input, 0.03 weighted). Clipped to 0.975 of the
// range: scale 0.975, 2.9 / 0.975 = 2.97 -> 3 = 2.925 (error 0.025: 0.0019
// weighted; 0.95 gives 0.0075, 0.925 0.047, 0.75 0.03), the outlier takes
// the edge code 7 = 6.825. So the scale is 0.975, the codes stay 7, 3, 3, 3.
TEST(Gptq, SearchClipShrinksTheRangeWhenThatRoundsBetter) {
  const float w[4] = {7.0f, 2.9f, 2.9f, 2.9f};
  double h[16] = {};
  h[0] = 1e-6;
  h[5] = h[10] = h[15] = 1.0;
  QuantizedWeight plain, clipped;
  std::string error;
  ASSERT_TRUE(quantizeGptq(int4PerChannel(), w, 1, 4, h, {0.0, false, false},
                           plain, error))
      << error;
  ASSERT_TRUE(quantizeGptq(int4PerChannel(), w, 1, 4, h, {0.0, false, true},
                           clipped, error))
      << error;
  EXPECT_FLOAT_EQ(plain.scales[0], 1.0f);
  EXPECT_NEAR(clipped.scales[0], 0.975f, 1e-6f);
  EXPECT_EQ(clipped.codes, plain.codes);
  EXPECT_EQ(clipped.codes, (std::vector<uint8_t>{0x73, 0x33}));
}

} // namespace
