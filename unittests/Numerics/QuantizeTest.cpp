//===- QuantizeTest.cpp - Tests for the quantization numerics -------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Expected codes, scales and tables are written out by hand (or, for the
// dynamic map and the FP4 table, copied from torch 2.11's fp32 output), never
// produced by the code under test.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Quantize.h"

#include "gtest/gtest.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>

using namespace qmlir::numerics;

namespace {

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

Scheme makeScheme(Kind kind, bool symmetric, int64_t groupSize,
                  bool doubleQuant = false) {
  Scheme s;
  s.kind = kind;
  s.symmetric = symmetric;
  s.groupSize = groupSize;
  s.doubleQuant = doubleQuant;
  return s;
}

std::vector<float> gaussian(int64_t count, float stddev, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> w(count);
  for (float &x : w)
    x = dist(gen);
  return w;
}

/// Largest gap between adjacent values of a table, sorted.
float maxGap(std::vector<float> values) {
  std::sort(values.begin(), values.end());
  float gap = 0.0f;
  for (size_t i = 0; i + 1 < values.size(); ++i)
    gap = std::max(gap, values[i + 1] - values[i]);
  return gap;
}

/// torch.linspace-based bnb create_dynamic_map(signed=True) as computed by
/// torch 2.11 (CPU, fp32), as raw fp32 bits.
const uint32_t kTorchDynamicMapBits[256] = {
    0xBF7E3333u, 0xBF7A999Au, 0xBF770000u, 0xBF736666u, 0xBF6FCCCDu,
    0xBF6C3333u, 0xBF68999Au, 0xBF650000u, 0xBF616666u, 0xBF5DCCCDu,
    0xBF5A3333u, 0xBF56999Au, 0xBF530000u, 0xBF4F6666u, 0xBF4BCCCDu,
    0xBF483333u, 0xBF44999Au, 0xBF410000u, 0xBF3D6666u, 0xBF39CCCDu,
    0xBF363334u, 0xBF32999Au, 0xBF2F0000u, 0xBF2B6666u, 0xBF27CCCDu,
    0xBF243334u, 0xBF20999Au, 0xBF1D0000u, 0xBF196666u, 0xBF15CCCDu,
    0xBF123334u, 0xBF0E999Au, 0xBF0B0000u, 0xBF076666u, 0xBF03CCCCu,
    0xBF003333u, 0xBEF93332u, 0xBEF20000u, 0xBEEACCCCu, 0xBEE3999Au,
    0xBEDC6666u, 0xBED53333u, 0xBECE0000u, 0xBEC6CCCCu, 0xBEBF999Au,
    0xBEB86666u, 0xBEB13333u, 0xBEAA0000u, 0xBEA2CCCCu, 0xBE9B999Au,
    0xBE946666u, 0xBE8D3334u, 0xBE860000u, 0xBE7D9999u, 0xBE6F3333u,
    0xBE60CCCDu, 0xBE526666u, 0xBE440000u, 0xBE35999Au, 0xBE273333u,
    0xBE18CCCDu, 0xBE0A6666u, 0xBDF80000u, 0xBDDB3334u, 0xBDC9EB85u,
    0xBDC428F7u, 0xBDBE6667u, 0xBDB8A3D7u, 0xBDB2E148u, 0xBDAD1EB8u,
    0xBDA75C2Au, 0xBDA1999Au, 0xBD9BD70Au, 0xBD96147Bu, 0xBD9051EBu,
    0xBD8A8F5Du, 0xBD84CCCDu, 0xBD7E147Bu, 0xBD728F5Du, 0xBD670A3Du,
    0xBD5B851Fu, 0xBD500000u, 0xBD447AE1u, 0xBD38F5C3u, 0xBD2D70A3u,
    0xBD21EB85u, 0xBD166667u, 0xBD0AE148u, 0xBCFEB852u, 0xBCE7AE15u,
    0xBCD0A3D7u, 0xBCB9999Au, 0xBCA28F5Du, 0xBC8B851Fu, 0xBC68F5C3u,
    0xBC3AE148u, 0xBC1F3B64u, 0xBC160418u, 0xBC0CCCCDu, 0xBC039581u,
    0xBBF4BC6Au, 0xBBE24DD3u, 0xBBCFDF3Bu, 0xBBBD70A4u, 0xBBAB020Du,
    0xBB989374u, 0xBB8624DDu, 0xBB676C8Au, 0xBB428F5Cu, 0xBB1DB22Du,
    0xBAF1A9FCu, 0xBAA7EF9Du, 0xBA7765FFu, 0xBA59E83Eu, 0xBA3C6A80u,
    0xBA1EECC1u, 0xBA016F01u, 0xB9C7E283u, 0xB98CE705u, 0xB923D70Bu,
    0xB8BA1F4Bu, 0xB88AEFB3u, 0xB8378034u, 0xB7B24206u, 0xB70205FFu,
    0xB65A1A94u, 0xB513A3B7u, 0x00000000u, 0x3513A3B7u, 0x365A1A94u,
    0x370205FFu, 0x37B24206u, 0x38378034u, 0x388AEFB3u, 0x38BA1F4Bu,
    0x3923D70Bu, 0x398CE705u, 0x39C7E283u, 0x3A016F01u, 0x3A1EECC1u,
    0x3A3C6A80u, 0x3A59E83Eu, 0x3A7765FFu, 0x3AA7EF9Du, 0x3AF1A9FCu,
    0x3B1DB22Du, 0x3B428F5Cu, 0x3B676C8Au, 0x3B8624DDu, 0x3B989374u,
    0x3BAB020Du, 0x3BBD70A4u, 0x3BCFDF3Bu, 0x3BE24DD3u, 0x3BF4BC6Au,
    0x3C039581u, 0x3C0CCCCDu, 0x3C160418u, 0x3C1F3B64u, 0x3C3AE148u,
    0x3C68F5C3u, 0x3C8B851Fu, 0x3CA28F5Du, 0x3CB9999Au, 0x3CD0A3D7u,
    0x3CE7AE15u, 0x3CFEB852u, 0x3D0AE148u, 0x3D166667u, 0x3D21EB85u,
    0x3D2D70A3u, 0x3D38F5C3u, 0x3D447AE1u, 0x3D500000u, 0x3D5B851Fu,
    0x3D670A3Du, 0x3D728F5Du, 0x3D7E147Bu, 0x3D84CCCDu, 0x3D8A8F5Du,
    0x3D9051EBu, 0x3D96147Bu, 0x3D9BD70Au, 0x3DA1999Au, 0x3DA75C2Au,
    0x3DAD1EB8u, 0x3DB2E148u, 0x3DB8A3D7u, 0x3DBE6667u, 0x3DC428F7u,
    0x3DC9EB85u, 0x3DDB3334u, 0x3DF80000u, 0x3E0A6666u, 0x3E18CCCDu,
    0x3E273333u, 0x3E35999Au, 0x3E440000u, 0x3E526666u, 0x3E60CCCDu,
    0x3E6F3333u, 0x3E7D9999u, 0x3E860000u, 0x3E8D3334u, 0x3E946666u,
    0x3E9B999Au, 0x3EA2CCCCu, 0x3EAA0000u, 0x3EB13333u, 0x3EB86666u,
    0x3EBF999Au, 0x3EC6CCCCu, 0x3ECE0000u, 0x3ED53333u, 0x3EDC6666u,
    0x3EE3999Au, 0x3EEACCCCu, 0x3EF20000u, 0x3EF93332u, 0x3F003333u,
    0x3F03CCCCu, 0x3F076666u, 0x3F0B0000u, 0x3F0E999Au, 0x3F123334u,
    0x3F15CCCDu, 0x3F196666u, 0x3F1D0000u, 0x3F20999Au, 0x3F243334u,
    0x3F27CCCDu, 0x3F2B6666u, 0x3F2F0000u, 0x3F32999Au, 0x3F363334u,
    0x3F39CCCDu, 0x3F3D6666u, 0x3F410000u, 0x3F44999Au, 0x3F483333u,
    0x3F4BCCCDu, 0x3F4F6666u, 0x3F530000u, 0x3F56999Au, 0x3F5A3333u,
    0x3F5DCCCDu, 0x3F616666u, 0x3F650000u, 0x3F68999Au, 0x3F6C3333u,
    0x3F6FCCCDu, 0x3F736666u, 0x3F770000u, 0x3F7A999Au, 0x3F7E3333u,
    0x3F800000u,
};

} // namespace

//===----------------------------------------------------------------------===//
// Kinds, rounding, groups
//===----------------------------------------------------------------------===//

TEST(Kinds, NamesParseAndBits) {
  EXPECT_STREQ(kindName(Kind::Int8), "int8");
  EXPECT_STREQ(kindName(Kind::Int4), "int4");
  EXPECT_STREQ(kindName(Kind::NF4), "nf4");
  EXPECT_STREQ(kindName(Kind::FP4), "fp4");
  Kind k = Kind::Int8;
  EXPECT_TRUE(parseKind("fp4", k));
  EXPECT_EQ(k, Kind::FP4);
  EXPECT_TRUE(parseKind("int4", k));
  EXPECT_EQ(k, Kind::Int4);
  EXPECT_FALSE(parseKind("int3", k));
  EXPECT_FALSE(parseKind("NF4", k));
  EXPECT_EQ(k, Kind::Int4); // Untouched on failure.
  EXPECT_EQ(bitsPerCode(Kind::Int8), 8u);
  EXPECT_EQ(bitsPerCode(Kind::Int4), 4u);
  EXPECT_EQ(bitsPerCode(Kind::NF4), 4u);
  EXPECT_EQ(bitsPerCode(Kind::FP4), 4u);
  EXPECT_FALSE(isTableKind(Kind::Int8));
  EXPECT_FALSE(isTableKind(Kind::Int4));
  EXPECT_TRUE(isTableKind(Kind::NF4));
  EXPECT_TRUE(isTableKind(Kind::FP4));
  EXPECT_EQ(tableFor(Kind::NF4).data(), nf4Table().data());
  EXPECT_EQ(tableFor(Kind::FP4).data(), fp4Table().data());
}

TEST(Rounding, HalfToEven) {
  EXPECT_EQ(roundHalfEven(0.5f), 0.0f);
  EXPECT_EQ(roundHalfEven(1.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(2.5f), 2.0f);
  EXPECT_EQ(roundHalfEven(3.5f), 4.0f);
  EXPECT_EQ(roundHalfEven(-0.5f), 0.0f);
  EXPECT_EQ(roundHalfEven(-1.5f), -2.0f);
  EXPECT_EQ(roundHalfEven(-2.5f), -2.0f);
  EXPECT_EQ(roundHalfEven(2.4999998f), 2.0f);
  EXPECT_EQ(roundHalfEven(2.5000002f), 3.0f);
  EXPECT_EQ(roundHalfEven(-126.6f), -127.0f);
  EXPECT_EQ(roundHalfEven(16777216.0f), 16777216.0f);
}

TEST(Groups, CountsAndEffectiveSize) {
  EXPECT_EQ(numGroups(4096, 128), 32);
  EXPECT_EQ(numGroups(4096, 0), 1);
  EXPECT_EQ(numGroups(100, 48), 3); // Trailing partial group counts.
  EXPECT_EQ(numGroups(5, 2), 3);
  EXPECT_EQ(numGroups(64, 128), 1);
  EXPECT_EQ(effectiveGroupSize(100, 0), 100);
  EXPECT_EQ(effectiveGroupSize(100, 48), 48);
}

//===----------------------------------------------------------------------===//
// int8
//===----------------------------------------------------------------------===//

TEST(Int8, SymmetricPerRowHandValues) {
  // Row 0: absmax 2, so 127 / absmax = 63.5 exactly; 1.0 -> 63.5 is a tie
  // that rounds to the even 64. Row 1: absmax 127 makes the factor 1, so the
  // inputs themselves are the ties: 2.5 -> 2, -3.5 -> -4, 1.5 -> 2, 0.5 -> 0.
  const float w[12] = {1.0f,   -2.0f, 0.5f,  0.25f, -1.0f, 0.0f,
                       127.0f, 2.5f,  -3.5f, 0.5f,  1.5f,  -0.5f};
  QuantizedWeight q = quantize(makeScheme(Kind::Int8, true, 0), w, 2, 6);
  const int8_t expected[12] = {64, -127, 32, 16, -64, 0, 127, 2, -4, 0, 2, 0};
  ASSERT_EQ(q.codes.size(), 12u);
  for (int i = 0; i < 12; ++i)
    EXPECT_EQ(static_cast<int8_t>(q.codes[i]), expected[i]) << "element " << i;
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 2.0f / 127.0f);
  EXPECT_EQ(q.scales[1], 1.0f);
  EXPECT_TRUE(q.zeroPoints.empty());
  std::vector<float> d = dequantize(q);
  EXPECT_EQ(d[0], 64.0f * (2.0f / 127.0f));
  EXPECT_EQ(d[1], -127.0f * (2.0f / 127.0f));
  const float row1[6] = {127.0f, 2.0f, -4.0f, 0.0f, 2.0f, 0.0f};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(d[6 + i], row1[i]);
}

TEST(Int8, MultipliesByInverseAbsmaxLikeBitsandbytes) {
  // bitsandbytes computes x * (127.0 / absmax) as x * fl(fl(1 / absmax) *
  // 127) (torch's scalar / tensor is a reciprocal times the scalar).
  // Row 0: absmax 3, fl(1/3) = 0.33333334f, times 127 = 42.333336f, and w
  // times it is -118.50001 -> -119 (fl(127 / 3) = 42.333332f would give
  // exactly -118.5 -> -118). Row 1: absmax 1.3, fl(fl(1/1.3f) * 127) =
  // 97.69231f gives -125.499985 -> -125 (fl(127 / 1.3f) = 97.692314f gives
  // -125.5 -> -126).
  const float w[4] = {3.0f, -0x1.664c9ap+1f, 1.3f, -0x1.48de88p+0f};
  QuantizedWeight q = quantize(makeScheme(Kind::Int8, true, 0), w, 2, 2);
  const int8_t expected[4] = {127, -119, 127, -125};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(static_cast<int8_t>(q.codes[i]), expected[i]) << "element " << i;
}

TEST(Int8, SymmetricGroups) {
  // Groups of 2: {4, -1} has factor 127/4 = 31.75 (-31.75 -> -32); {0.5,
  // 0.25} has factor 254 (0.25 -> 63.5 -> 64).
  const float w[4] = {4.0f, -1.0f, 0.5f, 0.25f};
  QuantizedWeight q = quantize(makeScheme(Kind::Int8, true, 2), w, 1, 4);
  const int8_t expected[4] = {127, -32, 127, 64};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(static_cast<int8_t>(q.codes[i]), expected[i]);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 4.0f / 127.0f);
  EXPECT_EQ(q.scales[1], 0.5f / 127.0f);
}

TEST(Int8, AsymmetricHandValues) {
  // Row 0: range [-51, 204] -> scale 1, zp 51; 2.5 -> 2 (even), -0.5 -> -0.
  // Row 1: all >= 0, the range is widened to [0, 127.5]: scale 0.5, zp 0;
  //        10.25 / 0.5 = 20.5 -> 20, 10.75 / 0.5 = 21.5 -> 22.
  // Row 2: all <= 0, range [-127.5, 0]: scale 0.5, zp 255; -20.5 -> -20.
  // Row 3: range [-1.25, 126.25]: scale 0.5, -min / scale = 2.5 -> zp 2, so
  //        126.25 -> 252.5 -> 252 + 2 = 254 (the max does not reach 255).
  const float w[16] = {-51.0f, 204.0f,  2.5f,    -0.5f,   0.0f,  127.5f,
                       10.25f, 10.75f,  -127.5f, -10.25f, -1.0f, 0.0f,
                       -1.25f, 126.25f, 0.0f,    0.75f};
  QuantizedWeight q = quantize(makeScheme(Kind::Int8, false, 0), w, 4, 4);
  const uint8_t expected[16] = {0, 255, 53,  51,  0, 255, 20, 22,
                                0, 235, 253, 255, 0, 254, 2,  4};
  ASSERT_EQ(q.codes.size(), 16u);
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(q.codes[i], expected[i]) << "element " << i;
  ASSERT_EQ(q.scales.size(), 4u);
  ASSERT_EQ(q.zeroPoints.size(), 4u);
  const float scales[4] = {1.0f, 0.5f, 0.5f, 0.5f};
  const uint8_t zps[4] = {51, 0, 255, 2};
  for (int r = 0; r < 4; ++r) {
    EXPECT_EQ(q.scales[r], scales[r]);
    EXPECT_EQ(q.zeroPoints[r], zps[r]);
  }
  std::vector<float> d = dequantize(q);
  const float deq[16] = {-51.0f, 204.0f, 2.0f,    0.0f,   0.0f,  127.5f,
                         10.0f,  11.0f,  -127.5f, -10.0f, -1.0f, 0.0f,
                         -1.0f,  126.0f, 0.0f,    1.0f};
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(d[i], deq[i]) << "element " << i;
}

//===----------------------------------------------------------------------===//
// int4
//===----------------------------------------------------------------------===//

TEST(Int4, SymmetricGroupsAndPacking) {
  // Group {7, -3.5, 1.5, 0.5}: scale 1, q {7, -4, 2, 0} -> nibbles 7 C 2 0.
  // Group {-14, 1, 3, 5}: scale 2, q {-7, 0, 2, 2} -> nibbles 9 0 2 2.
  const float w[8] = {7.0f, -3.5f, 1.5f, 0.5f, -14.0f, 1.0f, 3.0f, 5.0f};
  QuantizedWeight q = quantize(makeScheme(Kind::Int4, true, 4), w, 1, 8);
  const uint8_t expected[4] = {0x7C, 0x20, 0x90, 0x22};
  ASSERT_EQ(q.codes.size(), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(q.codes[i], expected[i]) << "byte " << i;
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 1.0f);
  EXPECT_EQ(q.scales[1], 2.0f);
  std::vector<float> d = dequantize(q);
  const float deq[8] = {7.0f, -4.0f, 2.0f, 0.0f, -14.0f, 0.0f, 4.0f, 4.0f};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(d[i], deq[i]) << "element " << i;
}

TEST(Int4, AsymmetricGroupsAndPacking) {
  // Group {-3, 4.5, 0.25, 1}: scale 7.5 / 15 = 0.5, zp 6; 0.25 -> 0.5 -> 0.
  // Group {0, 3.75, 1.25, 0.25}: scale 0.25, zp 0.
  const float w[8] = {-3.0f, 4.5f, 0.25f, 1.0f, 0.0f, 3.75f, 1.25f, 0.25f};
  QuantizedWeight q = quantize(makeScheme(Kind::Int4, false, 4), w, 1, 8);
  const uint8_t expected[4] = {0x0F, 0x68, 0x0F, 0x51};
  ASSERT_EQ(q.codes.size(), 4u);
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(q.codes[i], expected[i]) << "byte " << i;
  ASSERT_EQ(q.zeroPoints.size(), 2u);
  EXPECT_EQ(q.zeroPoints[0], 6);
  EXPECT_EQ(q.zeroPoints[1], 0);
  EXPECT_EQ(q.scales[0], 0.5f);
  EXPECT_EQ(q.scales[1], 0.25f);
  std::vector<float> d = dequantize(q);
  const float deq[8] = {-3.0f, 4.5f, 0.0f, 1.0f, 0.0f, 3.75f, 1.25f, 0.25f};
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(d[i], deq[i]) << "element " << i;
}

TEST(Packing, NibbleOrder) {
  const uint8_t codes[5] = {0x1, 0x2, 0x3, 0xF, 0xA};
  uint8_t packed[3] = {0xEE, 0xEE, 0xEE};
  packNibbles(codes, 5, packed);
  EXPECT_EQ(packed[0], 0x12); // Element 0 in the high nibble.
  EXPECT_EQ(packed[1], 0x3F);
  EXPECT_EQ(packed[2], 0xA0); // Odd K: the last low nibble is padding 0.
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(unpackNibble(packed, i), codes[i]);
}

//===----------------------------------------------------------------------===//
// Tables and nearest code
//===----------------------------------------------------------------------===//

TEST(Tables, NF4Values) {
  const float expected[16] = {-1.0f,
                              -0.6961928009986877f,
                              -0.5250730514526367f,
                              -0.39491748809814453f,
                              -0.28444138169288635f,
                              -0.18477343022823334f,
                              -0.09105003625154495f,
                              0.0f,
                              0.07958029955625534f,
                              0.16093020141124725f,
                              0.24611230194568634f,
                              0.33791524171829224f,
                              0.44070982933044434f,
                              0.5626170039176941f,
                              0.7229568362236023f,
                              1.0f};
  const std::array<float, 16> &t = nf4Table();
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(bitsOf(t[i]), bitsOf(expected[i])) << "code " << i;
  for (int i = 0; i < 15; ++i)
    EXPECT_LT(t[i], t[i + 1]);
}

TEST(Tables, FP4Values) {
  // torch: tensor([0, 0.0625, 8, 12, 4, 6, 2, 3, -0, ...]).div_(12). Code 8
  // is +0 because bnb writes the Python int -0.
  const uint32_t torchBits[16] = {
      0x00000000u, 0x3BAAAAABu, 0x3F2AAAABu, 0x3F800000u,
      0x3EAAAAABu, 0x3F000000u, 0x3E2AAAABu, 0x3E800000u,
      0x00000000u, 0xBBAAAAABu, 0xBF2AAAABu, 0xBF800000u,
      0xBEAAAAABu, 0xBF000000u, 0xBE2AAAABu, 0xBE800000u};
  const std::array<float, 16> &t = fp4Table();
  for (int i = 0; i < 16; ++i)
    EXPECT_EQ(bitsOf(t[i]), torchBits[i]) << "code " << i;
  EXPECT_EQ(t[3], 1.0f);
  EXPECT_EQ(t[5], 0.5f);
  EXPECT_EQ(t[7], 0.25f);
  EXPECT_EQ(t[11], -1.0f);
  EXPECT_FALSE(std::signbit(t[8]));
}

TEST(Tables, DynamicMapMatchesTorch) {
  const std::array<float, 256> &m = dynamicMap();
  int mismatches = 0;
  for (int i = 0; i < 256; ++i) {
    if (bitsOf(m[i]) != kTorchDynamicMapBits[i])
      ++mismatches;
    EXPECT_EQ(bitsOf(m[i]), kTorchDynamicMapBits[i]) << "index " << i;
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(Tables, DynamicMapProperties) {
  const std::array<float, 256> &m = dynamicMap();
  for (int i = 0; i < 255; ++i)
    EXPECT_LT(m[i], m[i + 1]) << "index " << i;
  // 127 negatives, 0, 127 positives, then the extra 1.0: the largest
  // fraction mean is (1 + (1 - 0.9 / 64)) / 2 = 0.99296875.
  EXPECT_EQ(m[127], 0.0f);
  EXPECT_EQ(m[255], 1.0f);
  EXPECT_EQ(m[254], 0.99296875f);
  EXPECT_EQ(m[0], -0.99296875f);
  for (int i = 0; i < 255; ++i)
    EXPECT_EQ(m[i], -m[254 - i]) << "index " << i;
  // The smallest magnitude is 1e-6 times the first mean of linspace(0.1, 1,
  // 2), i.e. 0.55e-6.
  EXPECT_NEAR(m[128], 0.55e-6f, 1e-12f);
}

TEST(NearestCode, MidpointTieTakesLowerValue) {
  const float t[4] = {0.0f, 1.0f, 2.0f, 3.0f};
  EXPECT_EQ(nearestCode(t, 4, 0.5f), 0);
  EXPECT_EQ(nearestCode(t, 4, std::nextafter(0.5f, 1.0f)), 1);
  EXPECT_EQ(nearestCode(t, 4, 1.5f), 1);
  EXPECT_EQ(nearestCode(t, 4, 2.5f), 2);
  EXPECT_EQ(nearestCode(t, 4, -7.0f), 0);
  EXPECT_EQ(nearestCode(t, 4, 9.0f), 3);
}

TEST(NearestCode, CodeOrderAndDuplicates) {
  // In code order; sorted it is 0 (code 2), 1 (code 1), 2 (code 3), 3.
  const float t[4] = {3.0f, 1.0f, 0.0f, 2.0f};
  EXPECT_EQ(nearestCode(t, 4, 0.5f), 2);
  EXPECT_EQ(nearestCode(t, 4, 0.6f), 1);
  EXPECT_EQ(nearestCode(t, 4, 2.5f), 3);
  EXPECT_EQ(nearestCode(t, 4, 2.6f), 0);
  // Equal values stay in code order (sorted: 0 (code 0), 0 (code 2), 1);
  // their midpoint is the value itself, so x <= 0 takes the first and
  // 0 < x <= 0.5 the second, as torch.bucketize on bitsandbytes' argsort.
  const float dup[3] = {0.0f, 1.0f, 0.0f};
  EXPECT_EQ(nearestCode(dup, 3, 0.0f), 0);
  EXPECT_EQ(nearestCode(dup, 3, -0.2f), 0);
  EXPECT_EQ(nearestCode(dup, 3, 0.2f), 2);
  EXPECT_EQ(nearestCode(dup, 3, 0.5f), 2);
  EXPECT_EQ(nearestCode(dup, 3, 0.9f), 1);
}

TEST(NearestCode, NF4Midpoints) {
  const float *t = nf4Table().data();
  // Halving is exact, so these are the fp32 midpoints next to 0.
  float upper = 0.07958029955625534f / 2.0f;
  float lower = -0.09105003625154495f / 2.0f;
  EXPECT_EQ(nearestCode(t, 16, upper), 7);
  EXPECT_EQ(nearestCode(t, 16, std::nextafter(upper, 1.0f)), 8);
  EXPECT_EQ(nearestCode(t, 16, lower), 6); // Lower value, not toward 0.
  EXPECT_EQ(nearestCode(t, 16, std::nextafter(lower, 1.0f)), 7);
  EXPECT_EQ(nearestCode(t, 16, 0.0f), 7);
  EXPECT_EQ(nearestCode(t, 16, 1.0f), 15);
  EXPECT_EQ(nearestCode(t, 16, -1.0f), 0);
  EXPECT_EQ(nearestCode(t, 16, 0.5f), 12);
  EXPECT_EQ(nearestCode(t, 16, -0.5f), 2);
}

TEST(NearestCode, FP4Zeros) {
  // +0 (code 0) sorts before -0 (code 8) and their midpoint is 0: zero and
  // tiny negatives take code 0, tiny positives code 8 (bitsandbytes 0.50).
  const float *t = fp4Table().data();
  EXPECT_EQ(nearestCode(t, 16, 0.0f), 0);
  EXPECT_EQ(nearestCode(t, 16, -0.0f), 0);
  EXPECT_EQ(nearestCode(t, 16, 0.001f), 8);
  EXPECT_EQ(nearestCode(t, 16, -0.001f), 0);
  float mid = (0.0625f / 12.0f) / 2.0f;
  EXPECT_EQ(nearestCode(t, 16, mid), 8);
  EXPECT_EQ(nearestCode(t, 16, std::nextafter(mid, 1.0f)), 1);
  EXPECT_EQ(nearestCode(t, 16, -std::nextafter(mid, 1.0f)), 9);
  EXPECT_EQ(nearestCode(t, 16, 1.0f), 3);
  EXPECT_EQ(nearestCode(t, 16, -1.0f), 11);
  EXPECT_EQ(nearestCode(t, 16, 0.5f), 5);
  // Midpoint of 1/4 (code 7) and 1/3 (code 4): ties go to the lower value.
  float tie = (0.25f + fp4Table()[4]) / 2.0f;
  EXPECT_EQ(nearestCode(t, 16, tie), 7);
  EXPECT_EQ(nearestCode(t, 16, std::nextafter(tie, 1.0f)), 4);
}

//===----------------------------------------------------------------------===//
// nf4 / fp4
//===----------------------------------------------------------------------===//

// Row 0: blocks {1, -0.5} (absmax 1), {2, 0} (2), {4} (4).
// Row 1: blocks {-3, 1.5} (3), {0.1, -0.2} (0.2), {0.7} (0.7); the scaled
// values are -1, 0.5 | 0.5, -1 | 1 (fp32 products round to these).
static const float kOddK[10] = {1.0f,  -0.5f, 2.0f, 0.0f,  4.0f,
                                -3.0f, 1.5f,  0.1f, -0.2f, 0.7f};

TEST(TableKinds, NF4OddKTrailingBlock) {
  QuantizedWeight q = quantize(makeScheme(Kind::NF4, true, 2), kOddK, 2, 5);
  // nf4: 1 -> 15, -0.5 -> 2, 0 -> 7, 0.5 -> 12, -1 -> 0; padding nibble 0.
  const uint8_t expected[6] = {0xF2, 0xF7, 0xF0, 0x0C, 0xC0, 0xF0};
  ASSERT_EQ(q.codes.size(), 6u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(q.codes[i], expected[i]) << "byte " << i;
  const float absmax[6] = {1.0f, 2.0f, 4.0f, 3.0f, 0.2f, 0.7f};
  ASSERT_EQ(q.groups(), 3);
  ASSERT_EQ(q.scales.size(), 6u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(q.scales[i], absmax[i]) << "block " << i;
  std::vector<float> d = dequantize(q);
  EXPECT_EQ(d[1], -0.5250730514526367f);
  EXPECT_EQ(d[3], 0.0f);
  EXPECT_EQ(d[4], 4.0f);
  EXPECT_EQ(d[6], 0.44070982933044434f * 3.0f);
  EXPECT_EQ(d[9], 0.7f);
  EXPECT_EQ(q.storageBytes(), 6 + 4 * 6);
}

TEST(TableKinds, FP4OddKTrailingBlock) {
  QuantizedWeight q = quantize(makeScheme(Kind::FP4, true, 2), kOddK, 2, 5);
  // fp4: 1 -> 3, -0.5 -> 13, 0 -> 0, 0.5 -> 5, -1 -> 11; padding nibble 0.
  const uint8_t expected[6] = {0x3D, 0x30, 0x30, 0xB5, 0x5B, 0x30};
  ASSERT_EQ(q.codes.size(), 6u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(q.codes[i], expected[i]) << "byte " << i;
  const float absmax[6] = {1.0f, 2.0f, 4.0f, 3.0f, 0.2f, 0.7f};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(q.scales[i], absmax[i]) << "block " << i;
  std::vector<float> d = dequantize(q);
  const float deq[10] = {1.0f,  -0.5f, 2.0f, 0.0f,  4.0f,
                         -3.0f, 1.5f,  0.1f, -0.2f, 0.7f};
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(d[i], deq[i]) << "element " << i;
}

TEST(TableKinds, ScalesByMultiplyingWithInverseAbsmax) {
  // bitsandbytes computes x * (1 / absmax). With absmax 3 this x gives
  // 0.0397901535 in fp32, just above the 0 | 0.0796 midpoint 0.0397901498, so
  // nf4 code 8; x / 3 would give 0.0397901498, on the midpoint, so code 7.
  const float w[2] = {3.0f, 0x1.e8f0fep-4f};
  QuantizedWeight q = quantize(makeScheme(Kind::NF4, true, 2), w, 1, 2);
  ASSERT_EQ(q.codes.size(), 1u);
  EXPECT_EQ(q.codes[0], 0xF8);
}

TEST(TableKinds, GroupSizeZeroIsWholeRow) {
  const float w[6] = {0.5f, -2.0f, 1.0f, 0.0f, 0.0f, 4.0f};
  QuantizedWeight q = quantize(makeScheme(Kind::FP4, true, 0), w, 2, 3);
  ASSERT_EQ(q.scales.size(), 2u);
  EXPECT_EQ(q.scales[0], 2.0f);
  EXPECT_EQ(q.scales[1], 4.0f);
  // Row 0 scaled: 0.25 -> 7, -1 -> 11, 0.5 -> 5. Row 1: 0, 0, 1 -> 0, 0, 3.
  const uint8_t expected[4] = {0x7B, 0x50, 0x00, 0x30};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(q.codes[i], expected[i]) << "byte " << i;
}

//===----------------------------------------------------------------------===//
// Zero groups
//===----------------------------------------------------------------------===//

TEST(ZeroGroups, DequantizeToExactZero) {
  // Row 0 is all zero; row 1 has one all-zero group (elements 2 and 3).
  const float w[12] = {0.0f, 0.0f,  0.0f, 0.0f, 0.0f, 0.0f,
                       1.0f, -0.5f, 0.0f, 0.0f, 0.3f, 2.0f};
  const Scheme schemes[] = {
      makeScheme(Kind::Int8, true, 0),
      makeScheme(Kind::Int8, false, 0),
      makeScheme(Kind::Int8, true, 2),
      makeScheme(Kind::Int8, false, 2),
      makeScheme(Kind::Int4, true, 2),
      makeScheme(Kind::Int4, false, 2),
      makeScheme(Kind::NF4, true, 2),
      makeScheme(Kind::FP4, true, 2),
      makeScheme(Kind::NF4, true, 2, true),
      makeScheme(Kind::FP4, true, 2, true),
  };
  for (const Scheme &s : schemes) {
    SCOPED_TRACE(std::string(kindName(s.kind)) +
                 (s.symmetric ? " sym" : " asym") + " g" +
                 std::to_string(s.groupSize) + (s.doubleQuant ? " dq" : ""));
    QuantizedWeight q = quantize(s, w, 2, 6);
    std::vector<float> d = dequantize(q);
    ASSERT_EQ(d.size(), 12u);
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(bitsOf(d[i]) & 0x7FFFFFFFu, 0u) << "element " << i;
    }
    EXPECT_EQ(bitsOf(d[8]) & 0x7FFFFFFFu, 0u);
    EXPECT_EQ(bitsOf(d[9]) & 0x7FFFFFFFu, 0u);
    for (float v : d)
      EXPECT_TRUE(std::isfinite(v));
    for (float v : decodeScales(q))
      EXPECT_TRUE(std::isfinite(v));
    // Stored codes of row 0: the code of 0 for each kind.
    if (s.kind == Kind::Int8) {
      for (int i = 0; i < 6; ++i)
        EXPECT_EQ(q.codes[i], 0);
    } else {
      uint8_t zeroByte = s.kind == Kind::NF4 ? 0x77 : 0x00;
      for (int i = 0; i < 3; ++i)
        EXPECT_EQ(q.codes[i], zeroByte);
    }
    if (!s.doubleQuant) {
      EXPECT_EQ(q.scales[0], 0.0f);
      if (s.groupSize == 2) {
        EXPECT_EQ(q.scales[q.groups() + 1], 0.0f); // Row 1, group 1.
      }
    }
    if (!q.zeroPoints.empty()) {
      EXPECT_EQ(q.zeroPoints[0], 0);
    }
  }
}

TEST(ZeroGroups, SubnormalAbsmaxGivesNoNaN) {
  // 1 / 1e-40 overflows to inf, so the zero elements of int8 would compute
  // 0 * inf = NaN; they must still get the code of 0.
  const float w[4] = {1e-40f, 0.0f, -1e-40f, 0.0f};
  for (Kind kind : {Kind::Int8, Kind::NF4, Kind::FP4}) {
    SCOPED_TRACE(kindName(kind));
    QuantizedWeight q = quantize(makeScheme(kind, true, 0), w, 1, 4);
    std::vector<float> d = dequantize(q);
    EXPECT_EQ(d[1], 0.0f);
    EXPECT_EQ(d[3], 0.0f);
    for (float v : d)
      EXPECT_TRUE(std::isfinite(v));
    if (kind == Kind::Int8) {
      const int8_t expected[4] = {127, 0, -127, 0};
      for (int i = 0; i < 4; ++i)
        EXPECT_EQ(static_cast<int8_t>(q.codes[i]), expected[i]);
    } else {
      // bitsandbytes divides by max(absmax, 1e-38): +-1e-40 scale to
      // +-0.01. nf4: 0.01, 0, -0.01 -> 7 (0 is nearest); fp4: 0.01 -> 1
      // (0.0625 / 12, beyond the midpoint 0.0026 of +-0), 0 -> 0, -0.01 -> 9.
      const uint8_t nf4[2] = {0x77, 0x77}, fp4[2] = {0x10, 0x90};
      const uint8_t *expected = kind == Kind::NF4 ? nf4 : fp4;
      EXPECT_EQ(q.codes[0], expected[0]);
      EXPECT_EQ(q.codes[1], expected[1]);
    }
  }
}

//===----------------------------------------------------------------------===//
// Double quantization
//===----------------------------------------------------------------------===//

TEST(DoubleQuant, HandValues) {
  // Block absmax {1, 2, 3, 6}: offset 3, centered {-2, -1, 0, 3}, dq absmax
  // 3, scaled {-0.6667, -0.3333, 0, 1}. In the top decade the map holds
  // +-(0.1 + (j + 0.5) * 0.9 / 64): -0.6667 -> -0.66953125 (j = 40) and
  // -0.3333 -> -0.33203125 (j = 16); 1 is an exact entry. 0 is one too, but
  // bitsandbytes' lookup table snaps it to the grid point 1.5e-5 first,
  // whose nearest entry is 2.125e-5 (index 131): scale 3 + 3 * 2.125e-5.
  const float w[8] = {1.0f, 0.0f, -2.0f, 0.0f, 3.0f, 0.0f, 0.0f, -6.0f};
  QuantizedWeight q = quantize(makeScheme(Kind::NF4, true, 2, true), w, 1, 8);
  EXPECT_TRUE(q.scales.empty());
  ASSERT_EQ(q.dqCodes.size(), 4u);
  ASSERT_EQ(q.dqScales.size(), 1u);
  EXPECT_EQ(q.dqOffset, 3.0f);
  EXPECT_EQ(q.dqScales[0], 3.0f);
  EXPECT_EQ(q.dqCodes[2], 131);
  EXPECT_EQ(q.dqCodes[3], 255);
  std::vector<float> s = decodeScales(q);
  ASSERT_EQ(s.size(), 4u);
  EXPECT_NEAR(s[0], 3.0f - 3.0f * 0.66953125f, 1e-6f);
  EXPECT_NEAR(s[1], 3.0f - 3.0f * 0.33203125f, 1e-6f);
  const float s2 = 3.0f * dynamicMap()[131] + 3.0f;
  EXPECT_NEAR(s2, 3.0000637f, 1e-7f);
  EXPECT_EQ(s[2], s2);
  EXPECT_EQ(s[3], 6.0f);
  // The nf4 codes do not depend on double quantization.
  const uint8_t expected[4] = {0xF7, 0x07, 0xF7, 0x70};
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(q.codes[i], expected[i]) << "byte " << i;
  std::vector<float> d = dequantize(q);
  EXPECT_EQ(d[4], s2); // nf4 code 15 (1.0) times the decoded scale.
  EXPECT_EQ(d[7], -6.0f);
  EXPECT_EQ(q.storageBytes(), 4 + 4 + 4 + 4);
}

TEST(DoubleQuant, GaussianRoundTrip) {
  const int64_t n = 64, k = 1024;
  std::vector<float> w = gaussian(n * k, 0.02f, 7);
  const std::array<float, 256> &map = dynamicMap();
  // The map's widest gap is the top-decade step 0.9 / 64.
  float halfGap = maxGap(std::vector<float>(map.begin(), map.end())) / 2.0f;
  EXPECT_NEAR(halfGap, 0.9f / 128.0f, 1e-6f);
  for (Kind kind : {Kind::NF4, Kind::FP4}) {
    SCOPED_TRACE(kindName(kind));
    QuantizedWeight plain =
        quantize(makeScheme(kind, true, 64), w.data(), n, k);
    QuantizedWeight dq =
        quantize(makeScheme(kind, true, 64, true), w.data(), n, k);
    ASSERT_EQ(plain.scales.size(), 1024u);
    ASSERT_EQ(dq.dqCodes.size(), 1024u);
    ASSERT_EQ(dq.dqScales.size(), 4u);
    EXPECT_EQ(dq.codes, plain.codes);
    double mean = 0.0;
    for (float a : plain.scales)
      mean += a;
    mean /= 1024.0;
    EXPECT_NEAR(dq.dqOffset, mean, 1e-6 * mean);
    std::vector<float> decoded = decodeScales(dq);
    for (int b = 0; b < 4; ++b) {
      float amax = 0.0f;
      for (int i = b * 256; i < (b + 1) * 256; ++i)
        amax = std::max(amax, std::fabs(plain.scales[i] - dq.dqOffset));
      EXPECT_EQ(dq.dqScales[b], amax);
    }
    for (int i = 0; i < 1024; ++i) {
      float bound = dq.dqScales[i / 256] * halfGap * 1.0001f +
                    4.0f * FLT_EPSILON * plain.scales[i];
      EXPECT_LE(std::fabs(decoded[i] - plain.scales[i]), bound)
          << "scale " << i;
      EXPECT_GT(decoded[i], 0.0f);
    }
  }
}

TEST(DoubleQuant, BlockwiseDynamicPartialAndZeroBlocks) {
  // Blocks of 256 over 600 values: [0, 256), [256, 512), [512, 600) (zero).
  std::vector<float> x(600, 0.0f);
  x[10] = -2.0f;
  x[260] = 0.5f;
  x[299] = -0.25f;
  std::vector<uint8_t> codes;
  std::vector<float> absmax;
  quantizeBlockwiseDynamic(x.data(), 600, 256, codes, absmax);
  ASSERT_EQ(codes.size(), 600u);
  ASSERT_EQ(absmax.size(), 3u);
  EXPECT_EQ(absmax[0], 2.0f);
  EXPECT_EQ(absmax[1], 0.5f);
  EXPECT_EQ(absmax[2], 0.0f);
  EXPECT_EQ(codes[10], 0);    // -1 -> the smallest entry, -0.99296875.
  EXPECT_EQ(codes[260], 255); // 1 -> 1.0.
  // -0.5 -> -(0.1 + 28.5 * 0.9 / 64) = -0.50078125, the 36th entry.
  EXPECT_EQ(codes[299], 35);
  // 0 in a non-zero block: the grid point 1.5e-5, nearest 2.125e-5 (131);
  // the all-zero block keeps code 0, as bitsandbytes leaves it.
  for (int i : {0, 11, 255, 256, 298})
    EXPECT_EQ(codes[i], 131) << "element " << i;
  for (int i : {512, 599})
    EXPECT_EQ(codes[i], 0) << "element " << i;
}

//===----------------------------------------------------------------------===//
// Error bounds on Gaussian weights
//===----------------------------------------------------------------------===//

TEST(ErrorBounds, IntSchemesWithinHalfAStep) {
  const int64_t n = 32, k = 512;
  std::vector<float> w = gaussian(n * k, 0.02f, 1);
  const Scheme schemes[] = {
      makeScheme(Kind::Int8, true, 0),    makeScheme(Kind::Int8, false, 0),
      makeScheme(Kind::Int8, true, 128),  makeScheme(Kind::Int4, true, 128),
      makeScheme(Kind::Int4, false, 128), makeScheme(Kind::Int4, true, 32),
  };
  for (const Scheme &s : schemes) {
    SCOPED_TRACE(std::string(kindName(s.kind)) +
                 (s.symmetric ? " sym g" : " asym g") +
                 std::to_string(s.groupSize));
    QuantizedWeight q = quantize(s, w.data(), n, k);
    std::vector<float> d = dequantize(q);
    int64_t g = effectiveGroupSize(k, s.groupSize);
    int failures = 0;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        float scale = q.scales[r * q.groups() + c / g];
        float err = std::fabs(w[r * k + c] - d[r * k + c]);
        if (!(err <= scale * (0.5f + 1e-4f)))
          ++failures;
      }
    EXPECT_EQ(failures, 0);
    ErrorStats e = computeError(w.data(), d.data(), n * k);
    EXPECT_GT(e.sqnrDb, s.kind == Kind::Int8 ? 35.0 : 15.0);
  }
}

TEST(ErrorBounds, TableSchemesPickNearestCode) {
  const int64_t n = 32, k = 512;
  std::vector<float> w = gaussian(n * k, 0.02f, 2);
  for (Kind kind : {Kind::NF4, Kind::FP4}) {
    SCOPED_TRACE(kindName(kind));
    const std::array<float, 16> &t = tableFor(kind);
    float halfGap = maxGap(std::vector<float>(t.begin(), t.end())) / 2.0f;
    QuantizedWeight q = quantize(makeScheme(kind, true, 64), w.data(), n, k);
    std::vector<float> d = dequantize(q);
    int notNearest = 0, tooFar = 0;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        float amax = q.scales[r * q.groups() + c / 64];
        float scaled = std::clamp(w[r * k + c] * (1.0f / amax), -1.0f, 1.0f);
        uint8_t code = unpackNibble(q.codes.data() + r * k / 2, c);
        float best = 2.0f;
        for (float v : t)
          best = std::min(best, std::fabs(scaled - v));
        if (std::fabs(scaled - t[code]) > best + 1e-6f)
          ++notNearest;
        if (std::fabs(w[r * k + c] - d[r * k + c]) >
            amax * halfGap * (1.0f + 1e-5f))
          ++tooFar;
      }
    EXPECT_EQ(notNearest, 0);
    EXPECT_EQ(tooFar, 0);
  }
}

TEST(Dequantize, ElementMatchesWholeArray) {
  // Odd K with a partial trailing group exercises every index computation.
  const int64_t n = 3, k = 37;
  std::vector<float> w = gaussian(n * k, 1.0f, 3);
  const Scheme schemes[] = {
      makeScheme(Kind::Int8, true, 8),      makeScheme(Kind::Int8, false, 8),
      makeScheme(Kind::Int4, true, 8),      makeScheme(Kind::Int4, false, 8),
      makeScheme(Kind::NF4, true, 8),       makeScheme(Kind::FP4, true, 0),
      makeScheme(Kind::NF4, true, 8, true),
  };
  for (const Scheme &s : schemes) {
    QuantizedWeight q = quantize(s, w.data(), n, k);
    ASSERT_EQ(q.n, n);
    std::vector<float> d = dequantize(q);
    std::vector<float> scales = decodeScales(q);
    ASSERT_EQ(static_cast<int64_t>(scales.size()), n * q.groups());
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c)
        ASSERT_EQ(dequantizeElement(q, scales, r, c), d[r * k + c]);
    EXPECT_EQ(q.storageBytes(), storageFor(s, n, k).total());
  }
}

//===----------------------------------------------------------------------===//
// Storage, validation, error statistics
//===----------------------------------------------------------------------===//

TEST(Storage, LlamaShape) {
  // A Llama-2-7B MLP up projection: N = 11008 outputs, K = 4096 inputs.
  const int64_t n = 11008, k = 4096;
  StorageBreakdown int8 = storageFor(makeScheme(Kind::Int8, true, 0), n, k);
  EXPECT_EQ(int8.codeBytes, 45088768);
  EXPECT_EQ(int8.scaleBytes, 44032);
  EXPECT_EQ(int8.zeroPointBytes, 0);
  EXPECT_EQ(int8.total(), 45132800);

  StorageBreakdown int4 = storageFor(makeScheme(Kind::Int4, false, 128), n, k);
  EXPECT_EQ(int4.codeBytes, 22544384);
  EXPECT_EQ(int4.scaleBytes, 1409024); // 32 groups a row.
  EXPECT_EQ(int4.zeroPointBytes, 352256);
  EXPECT_EQ(int4.total(), 24305664);

  StorageBreakdown nf4 = storageFor(makeScheme(Kind::NF4, true, 64), n, k);
  EXPECT_EQ(nf4.scaleBytes, 2818048);
  EXPECT_EQ(nf4.dqBytes, 0);
  EXPECT_EQ(nf4.total(), 25362432);

  // 704512 absmax codes, 2752 blocks of 256, one offset.
  StorageBreakdown dq = storageFor(makeScheme(Kind::NF4, true, 64, true), n, k);
  EXPECT_EQ(dq.codeBytes, 22544384);
  EXPECT_EQ(dq.scaleBytes, 0);
  EXPECT_EQ(dq.dqBytes, 704512 + 4 * 2752 + 4);
  EXPECT_EQ(dq.total(), 23259908);
}

TEST(Storage, PartialBlocksMatchQuantizedWeight) {
  // N * G = 6 absmax values: one partial dq block; K = 65 pads a nibble.
  const Scheme s = makeScheme(Kind::FP4, true, 64, true);
  StorageBreakdown b = storageFor(s, 3, 65);
  EXPECT_EQ(b.codeBytes, 3 * 33);
  EXPECT_EQ(b.dqBytes, 6 + 4 + 4);
  EXPECT_EQ(b.total(), 113);
  std::vector<float> w = gaussian(3 * 65, 1.0f, 4);
  QuantizedWeight q = quantize(s, w.data(), 3, 65);
  EXPECT_EQ(q.storageBytes(), 113);
  EXPECT_EQ(storageFor(makeScheme(Kind::Int8, false, 0), 2, 3).total(),
            6 + 8 + 2);
}

TEST(Validate, Messages) {
  EXPECT_EQ(validate(makeScheme(Kind::Int8, true, 0), 100), "");
  EXPECT_EQ(validate(makeScheme(Kind::Int4, true, 48), 100),
            "group-size 48 does not divide K = 100");
  EXPECT_EQ(validate(makeScheme(Kind::Int4, true, 48), 100, true), "");
  EXPECT_EQ(validate(makeScheme(Kind::Int4, false, 128), 64),
            "group-size 128 does not divide K = 64");
  EXPECT_EQ(validate(makeScheme(Kind::Int8, true, 0, true), 64),
            "double quantization needs nf4 or fp4");
  EXPECT_EQ(validate(makeScheme(Kind::NF4, false, 64), 64),
            "nf4 and fp4 are symmetric only");
  EXPECT_EQ(validate(makeScheme(Kind::FP4, false, 64), 64),
            "nf4 and fp4 are symmetric only");
  EXPECT_EQ(validate(makeScheme(Kind::Int8, true, -3), 64),
            "group-size must be >= 0 (got -3)");
  EXPECT_EQ(validate(makeScheme(Kind::NF4, true, 0), 0), "K must be positive");
  EXPECT_EQ(validate(makeScheme(Kind::NF4, true, 64), -5),
            "K must be positive");
  EXPECT_EQ(validate(makeScheme(Kind::NF4, true, 0, true), 100), "");
  EXPECT_EQ(validate(makeScheme(Kind::FP4, true, 64, true), 4096), "");
}

TEST(Validate, InvalidSchemeQuantizesToEmpty) {
  const float w[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  QuantizedWeight q = quantize(makeScheme(Kind::NF4, false, 0), w, 1, 4);
  EXPECT_EQ(q.n, 0);
  EXPECT_EQ(q.k, 0);
  EXPECT_TRUE(q.codes.empty());
  EXPECT_TRUE(dequantize(q).empty());
}

TEST(ComputeError, HandValues) {
  const float w[3] = {1.0f, 2.0f, -2.0f};
  const float d[3] = {1.0f, 1.0f, -2.0f};
  ErrorStats e = computeError(w, d, 3);
  EXPECT_DOUBLE_EQ(e.rmse, std::sqrt(1.0 / 3.0));
  EXPECT_NEAR(e.sqnrDb, 9.542425094393248, 1e-12); // 10 log10(9 / 1)
  EXPECT_EQ(e.maxAbs, 1.0);
  ErrorStats exact = computeError(w, w, 3);
  EXPECT_EQ(exact.rmse, 0.0);
  EXPECT_EQ(exact.maxAbs, 0.0);
  EXPECT_TRUE(std::isinf(exact.sqnrDb) && exact.sqnrDb > 0);
}

// bf16 conversion: round to nearest even on the 16 dropped bits, exact back.
TEST(BF16, RoundsToNearestEven) {
  using qmlir::numerics::bf16BitsToFloat;
  using qmlir::numerics::floatToBF16Bits;
  EXPECT_EQ(floatToBF16Bits(1.0f), 0x3F80);
  EXPECT_EQ(bf16BitsToFloat(0x3F80), 1.0f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to the even (1.0).
  EXPECT_EQ(floatToBF16Bits(1.0f + 0x1p-8f), 0x3F80);
  // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 and 1 + 2^-6: ties to even.
  EXPECT_EQ(floatToBF16Bits(1.0f + 3 * 0x1p-8f), 0x3F82);
  // Just above halfway rounds up.
  EXPECT_EQ(floatToBF16Bits(1.0f + 0x1p-8f + 0x1p-20f), 0x3F81);
  EXPECT_EQ(floatToBF16Bits(-2.5f), 0xC020);
  EXPECT_TRUE(std::isnan(bf16BitsToFloat(floatToBF16Bits(NAN))));
}
