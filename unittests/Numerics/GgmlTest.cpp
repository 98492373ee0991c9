//===- GgmlTest.cpp - Tests for GGML types and block dequantization -------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Expected values are written out by hand from the block layouts in Ggml.h,
// or computed here with an independent formula (ldexp for f16), never by the
// code under test.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Ggml.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstring>
#include <vector>

using namespace qmlir::numerics::ggml;

namespace {

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

void put16(uint8_t *p, uint16_t v) {
  p[0] = v & 0xFF;
  p[1] = v >> 8;
}

/// f16 -> f32 from the definition: (-1)^s * m * 2^(e - 25) with the implicit
/// bit, or m * 2^-24 for subnormals. Finite inputs only.
float referenceHalf(uint16_t bits) {
  int exponent = (bits >> 10) & 0x1F;
  int mantissa = bits & 0x3FF;
  double magnitude = exponent == 0 ? std::ldexp(mantissa, -24)
                                   : std::ldexp(1024 + mantissa, exponent - 25);
  return static_cast<float>((bits & 0x8000) ? -magnitude : magnitude);
}

TEST(GgmlTest, TypeTraits) {
  // ggml's GGML_TYPE ids, block sizes and bytes per block.
  EXPECT_EQ(static_cast<uint32_t>(Type::F32), 0u);
  EXPECT_EQ(static_cast<uint32_t>(Type::F16), 1u);
  EXPECT_EQ(static_cast<uint32_t>(Type::Q4_0), 2u);
  EXPECT_EQ(static_cast<uint32_t>(Type::Q4_1), 3u);
  EXPECT_EQ(static_cast<uint32_t>(Type::Q8_0), 8u);
  EXPECT_EQ(static_cast<uint32_t>(Type::BF16), 30u);

  EXPECT_EQ(blockSize(Type::F32), 1u);
  EXPECT_EQ(blockBytes(Type::F32), 4u);
  EXPECT_EQ(blockBytes(Type::F16), 2u);
  EXPECT_EQ(blockBytes(Type::BF16), 2u);
  EXPECT_EQ(blockSize(Type::Q8_0), 32u);
  EXPECT_EQ(blockBytes(Type::Q8_0), 34u);
  EXPECT_EQ(blockSize(Type::Q4_0), 32u);
  EXPECT_EQ(blockBytes(Type::Q4_0), 18u);
  EXPECT_EQ(blockBytes(Type::Q4_1), 20u);
  EXPECT_EQ(blockSize(Type::Q6_K), 256u);
  EXPECT_EQ(blockBytes(Type::Q6_K), 210u);
  EXPECT_EQ(blockBytes(Type::Q4_K), 144u);
  EXPECT_EQ(blockBytes(Type::IQ4_XS), 136u);

  EXPECT_STREQ(typeName(Type::Q4_1), "q4_1");
  EXPECT_STREQ(typeName(Type::Q6_K), "q6_K");
  EXPECT_STREQ(typeName(Type::BF16), "bf16");

  // Removed ids (Q4_2, Q4_3, the Q4_0_x_y repacks) and ids past the end.
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 42u, 1000u})
    EXPECT_FALSE(isKnownType(id)) << id;
  for (uint32_t id : {0u, 1u, 2u, 3u, 8u, 14u, 30u, 39u})
    EXPECT_TRUE(isKnownType(id)) << id;
  EXPECT_EQ(blockSize(static_cast<Type>(4)), 0u);
  EXPECT_STREQ(typeName(static_cast<Type>(4)), "unknown");

  EXPECT_TRUE(canDequantize(Type::Q4_1));
  EXPECT_TRUE(canDequantize(Type::BF16));
  EXPECT_FALSE(canDequantize(Type::Q4_K));
  EXPECT_FALSE(canDequantize(Type::I32));
}

TEST(GgmlTest, RowBytes) {
  EXPECT_EQ(rowBytes(Type::F32, 7), 28u);
  EXPECT_EQ(rowBytes(Type::F16, 7), 14u);
  EXPECT_EQ(rowBytes(Type::Q4_0, 64), 36u);
  EXPECT_EQ(rowBytes(Type::Q4_1, 576), 360u);
  EXPECT_EQ(rowBytes(Type::Q8_0, 576), 612u);
  EXPECT_EQ(rowBytes(Type::Q6_K, 512), 420u);
  // Partial blocks and unknown types have no row size.
  EXPECT_EQ(rowBytes(Type::Q4_0, 33), 0u);
  EXPECT_EQ(rowBytes(static_cast<Type>(5), 32), 0u);
}

TEST(GgmlTest, HalfSpecialValues) {
  struct Case {
    uint16_t half;
    uint32_t single;
  } cases[] = {
      {0x0000, 0x00000000}, // +0
      {0x8000, 0x80000000}, // -0
      {0x0001, 0x33800000}, // smallest subnormal 2^-24
      {0x8001, 0xB3800000}, // -2^-24
      {0x03FF, 0x387FC000}, // largest subnormal 1023 * 2^-24
      {0x0400, 0x38800000}, // smallest normal 2^-14
      {0x3C00, 0x3F800000}, // 1
      {0xC000, 0xC0000000}, // -2
      {0x3555, 0x3EAAA000}, // 0.333251953125
      {0x7BFF, 0x477FE000}, // 65504
      {0x7C00, 0x7F800000}, // +inf
      {0xFC00, 0xFF800000}, // -inf
      {0x7E00, 0x7FC00000}, // quiet NaN
      {0x7C01, 0x7FC02000}, // signalling NaN: payload kept, made quiet
      {0xFE01, 0xFFC02000}, // negative NaN with payload
      {0x7FFF, 0x7FFFE000}, // all-ones payload
  };
  for (const Case &c : cases)
    EXPECT_EQ(bitsOf(halfToFloat(c.half)), c.single) << std::hex << c.half;
}

TEST(GgmlTest, HalfAllFiniteValuesExact) {
  int mismatches = 0;
  for (uint32_t bits = 0; bits < 0x10000; ++bits) {
    if (((bits >> 10) & 0x1F) == 0x1F)
      continue;
    uint16_t h = static_cast<uint16_t>(bits);
    if (bitsOf(halfToFloat(h)) != bitsOf(referenceHalf(h)) && ++mismatches < 5)
      ADD_FAILURE() << "f16 0x" << std::hex << bits;
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(GgmlTest, DequantizeF32AndBF16) {
  // f32 is copied bit for bit, a signalling NaN included.
  const uint32_t f32Bits[] = {0x3F800000, 0x80000000, 0x40600000, 0x7FA00001};
  uint8_t f32Bytes[16];
  for (int i = 0; i < 4; ++i)
    for (int b = 0; b < 4; ++b)
      f32Bytes[4 * i + b] = (f32Bits[i] >> (8 * b)) & 0xFF;
  float out[4];
  ASSERT_TRUE(dequantizeRow(Type::F32, f32Bytes, 4, out));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(bitsOf(out[i]), f32Bits[i]) << i;

  // bf16 is the top half of an f32.
  const uint16_t bf16Bits[] = {0x3F80, 0x4049, 0xFF80, 0x0001};
  const uint32_t expected[] = {0x3F800000, 0x40490000, 0xFF800000, 0x00010000};
  uint8_t bf16Bytes[8];
  for (int i = 0; i < 4; ++i)
    put16(bf16Bytes + 2 * i, bf16Bits[i]);
  ASSERT_TRUE(dequantizeRow(Type::BF16, bf16Bytes, 4, out));
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(bitsOf(out[i]), expected[i]) << i;
  EXPECT_EQ(out[1], 3.140625f);
}

TEST(GgmlTest, DequantizeF16) {
  uint8_t bytes[6];
  put16(bytes, 0x3C00);
  put16(bytes + 2, 0xC500); // -5
  put16(bytes + 4, 0x0001);
  float out[3];
  ASSERT_TRUE(dequantizeRow(Type::F16, bytes, 3, out));
  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -5.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -24));
}

TEST(GgmlTest, DequantizeQ8_0) {
  // Block 0: d = 0.5, q[j] = 8j - 128, so x[j] = 4j - 64.
  // Block 1: d = 2^-24 (subnormal), q[j] = 127 - j.
  uint8_t bytes[68];
  put16(bytes, 0x3800);
  for (int j = 0; j < 32; ++j)
    bytes[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(8 * j - 128));
  put16(bytes + 34, 0x0001);
  for (int j = 0; j < 32; ++j)
    bytes[36 + j] = static_cast<uint8_t>(127 - j);
  float out[64];
  ASSERT_TRUE(dequantizeRow(Type::Q8_0, bytes, 64, out));
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(out[j], 4.0f * j - 64.0f) << j;
    EXPECT_EQ(out[32 + j], std::ldexp(127.0f - j, -24)) << j;
  }
  EXPECT_EQ(out[0], -64.0f);
  EXPECT_EQ(out[31], 60.0f);
}

TEST(GgmlTest, DequantizeQ4_0) {
  // d = 2, byte j holds q = j in the low nibble (element j) and 15 - j in the
  // high nibble (element j + 16); x = (q - 8) * d. Block 1: d = -0.25, all
  // bytes 0x0F: low nibbles 15 -> -1.75, high nibbles 0 -> 2.
  uint8_t bytes[36];
  put16(bytes, 0x4000);
  for (int j = 0; j < 16; ++j)
    bytes[2 + j] = static_cast<uint8_t>(((15 - j) << 4) | j);
  put16(bytes + 18, 0xB400);
  for (int j = 0; j < 16; ++j)
    bytes[20 + j] = 0x0F;
  const float low[16] = {-16, -14, -12, -10, -8, -6, -4, -2,
                         0,   2,   4,   6,   8,  10, 12, 14};
  const float high[16] = {14, 12, 10, 8,  6,   4,   2,   0,
                          -2, -4, -6, -8, -10, -12, -14, -16};
  float out[64];
  ASSERT_TRUE(dequantizeRow(Type::Q4_0, bytes, 64, out));
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], low[j]) << j;
    EXPECT_EQ(out[16 + j], high[j]) << j;
    EXPECT_EQ(out[32 + j], -1.75f) << j;
    EXPECT_EQ(out[48 + j], 2.0f) << j;
  }
}

TEST(GgmlTest, DequantizeQ4_1) {
  // d = 0.25, m = -1.5, same nibbles as above; x = q * d + m.
  uint8_t bytes[20];
  put16(bytes, 0x3400);
  put16(bytes + 2, 0xBE00);
  for (int j = 0; j < 16; ++j)
    bytes[4 + j] = static_cast<uint8_t>(((15 - j) << 4) | j);
  const float low[16] = {-1.5, -1.25, -1.0, -0.75, -0.5, -0.25, 0.0, 0.25,
                         0.5,  0.75,  1.0,  1.25,  1.5,  1.75,  2.0, 2.25};
  float out[32];
  ASSERT_TRUE(dequantizeRow(Type::Q4_1, bytes, 32, out));
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(out[j], low[j]) << j;
    EXPECT_EQ(out[16 + j], low[15 - j]) << j;
  }
}

TEST(GgmlTest, Q4_1MatchesUnfusedReferenceForEveryScale) {
  // ggml rounds q * d and then the sum. Since q * d is exact in fp32 (11-bit
  // f16 significand times a 4-bit integer), a fused multiply-add gives the
  // same value, so fp-contraction cannot change q4_1 results; this checks
  // both for every finite d and a spread of offsets m.
  const uint16_t offsets[] = {0x0000, 0x3C00, 0xBE00, 0x2E66,
                              0x7BFF, 0x8001, 0x1400, 0xF800};
  uint8_t block[20];
  for (int j = 0; j < 16; ++j)
    block[4 + j] = static_cast<uint8_t>(((15 - j) << 4) | j);
  float out[32];
  int mismatches = 0;
  for (uint32_t dBits = 0; dBits < 0x10000; ++dBits) {
    if (((dBits >> 10) & 0x1F) == 0x1F)
      continue;
    const float d = referenceHalf(static_cast<uint16_t>(dBits));
    for (uint16_t mBits : offsets) {
      const float m = referenceHalf(mBits);
      put16(block, static_cast<uint16_t>(dBits));
      put16(block + 2, mBits);
      ASSERT_TRUE(dequantizeRow(Type::Q4_1, block, 32, out));
      for (int e = 0; e < 32; ++e) {
        const float q = static_cast<float>(e < 16 ? e : 31 - e);
        volatile float product = q * d; // Rounded on its own.
        const float unfused = product + m;
        const float fused = std::fma(q, d, m);
        if ((bitsOf(out[e]) != bitsOf(unfused) ||
             bitsOf(out[e]) != bitsOf(fused)) &&
            ++mismatches < 5)
          ADD_FAILURE() << "d 0x" << std::hex << dBits << " m 0x" << mBits
                        << " element " << std::dec << e;
      }
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST(GgmlTest, RejectsUnsupportedTypesAndPartialBlocks) {
  std::vector<uint8_t> bytes(420, 0x11);
  std::vector<float> out(512, 7.0f);
  EXPECT_FALSE(dequantizeRow(Type::Q6_K, bytes.data(), 512, out.data()));
  EXPECT_FALSE(dequantizeRow(Type::Q4_0, bytes.data(), 48, out.data()));
  EXPECT_FALSE(
      dequantizeRow(static_cast<Type>(4), bytes.data(), 32, out.data()));
  for (float x : out)
    ASSERT_EQ(x, 7.0f); // Nothing written.
}

} // namespace
