//===- Ggml.cpp - GGML tensor types and exact block dequantization --------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Type traits (block size and bytes, as in ggml's type_traits table) and the
// reference dequantization of f32, f16, bf16, q8_0, q4_0 and q4_1.
//
// Exactness: ggml computes q4_1 as `x * d + m` in fp32 without fusion. This
// file is compiled with -ffp-contract=off (see CMakeLists.txt) because GCC
// contracts `a * b + c` into an fma by default (-ffp-contract=fast in GNU
// mode) whenever the target has fma, e.g. with -march=native. For these
// formats the product is exact anyway (an 11-bit f16 significand times a
// 4- or 8-bit integer fits the 24 bits of fp32), so fused and unfused agree;
// the flag keeps that from silently mattering for future formats.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Ggml.h"
#include "qmlir/Numerics/Quantize.h"

#include <cstring>

namespace qmlir::numerics::ggml {

namespace {

struct TypeTraits {
  Type type;
  const char *name;
  uint32_t blockSize;
  uint32_t blockBytes;
};

// Sizes from ggml's block structs (ggml-common.h).
constexpr TypeTraits kTypeTraits[] = {
    {Type::F32, "f32", 1, 4},
    {Type::F16, "f16", 1, 2},
    {Type::Q4_0, "q4_0", 32, 18},
    {Type::Q4_1, "q4_1", 32, 20},
    {Type::Q5_0, "q5_0", 32, 22},
    {Type::Q5_1, "q5_1", 32, 24},
    {Type::Q8_0, "q8_0", 32, 34},
    {Type::Q8_1, "q8_1", 32, 36},
    {Type::Q2_K, "q2_K", 256, 84},
    {Type::Q3_K, "q3_K", 256, 110},
    {Type::Q4_K, "q4_K", 256, 144},
    {Type::Q5_K, "q5_K", 256, 176},
    {Type::Q6_K, "q6_K", 256, 210},
    {Type::Q8_K, "q8_K", 256, 292},
    {Type::IQ2_XXS, "iq2_xxs", 256, 66},
    {Type::IQ2_XS, "iq2_xs", 256, 74},
    {Type::IQ3_XXS, "iq3_xxs", 256, 98},
    {Type::IQ1_S, "iq1_s", 256, 50},
    {Type::IQ4_NL, "iq4_nl", 32, 18},
    {Type::IQ3_S, "iq3_s", 256, 110},
    {Type::IQ2_S, "iq2_s", 256, 82},
    {Type::IQ4_XS, "iq4_xs", 256, 136},
    {Type::I8, "i8", 1, 1},
    {Type::I16, "i16", 1, 2},
    {Type::I32, "i32", 1, 4},
    {Type::I64, "i64", 1, 8},
    {Type::F64, "f64", 1, 8},
    {Type::IQ1_M, "iq1_m", 256, 56},
    {Type::BF16, "bf16", 1, 2},
    {Type::TQ1_0, "tq1_0", 256, 54},
    {Type::TQ2_0, "tq2_0", 256, 66},
    {Type::MXFP4, "mxfp4", 32, 17},
    {Type::NVFP4, "nvfp4", 64, 36},
    {Type::Q1_0, "q1_0", 128, 18},
};

const TypeTraits *lookup(uint32_t id) {
  for (const TypeTraits &traits : kTypeTraits)
    if (static_cast<uint32_t>(traits.type) == id)
      return &traits;
  return nullptr;
}

/// Little-endian loads that need no alignment and do not depend on the host.
uint16_t load16(const uint8_t *p) {
  return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

uint32_t load32(const uint8_t *p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

float bitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

// The block loops mirror ggml's dequantize_row_* (integer code converted to
// float, then one fp32 multiply, and for q4_1 one fp32 add).

void dequantizeQ8_0(const uint8_t *src, size_t blocks, float *dst) {
  for (size_t i = 0; i < blocks; ++i, src += 34, dst += 32) {
    const float d = halfToFloat(load16(src));
    for (int j = 0; j < 32; ++j)
      dst[j] = static_cast<int8_t>(src[2 + j]) * d;
  }
}

void dequantizeQ4_0(const uint8_t *src, size_t blocks, float *dst) {
  for (size_t i = 0; i < blocks; ++i, src += 18, dst += 32) {
    const float d = halfToFloat(load16(src));
    const uint8_t *qs = src + 2;
    for (int j = 0; j < 16; ++j) {
      const int x0 = (qs[j] & 0x0F) - 8;
      const int x1 = (qs[j] >> 4) - 8;
      dst[j] = x0 * d;
      dst[j + 16] = x1 * d;
    }
  }
}

void dequantizeQ4_1(const uint8_t *src, size_t blocks, float *dst) {
  for (size_t i = 0; i < blocks; ++i, src += 20, dst += 32) {
    const float d = halfToFloat(load16(src));
    const float m = halfToFloat(load16(src + 2));
    const uint8_t *qs = src + 4;
    for (int j = 0; j < 16; ++j) {
      const int x0 = qs[j] & 0x0F;
      const int x1 = qs[j] >> 4;
      // Not contracted: this file is built with -ffp-contract=off.
      dst[j] = x0 * d + m;
      dst[j + 16] = x1 * d + m;
    }
  }
}

} // namespace

bool isKnownType(uint32_t id) { return lookup(id) != nullptr; }

const char *typeName(Type type) {
  const TypeTraits *traits = lookup(static_cast<uint32_t>(type));
  return traits ? traits->name : "unknown";
}

uint32_t blockSize(Type type) {
  const TypeTraits *traits = lookup(static_cast<uint32_t>(type));
  return traits ? traits->blockSize : 0;
}

uint32_t blockBytes(Type type) {
  const TypeTraits *traits = lookup(static_cast<uint32_t>(type));
  return traits ? traits->blockBytes : 0;
}

bool canDequantize(Type type) {
  switch (type) {
  case Type::F32:
  case Type::F16:
  case Type::BF16:
  case Type::Q8_0:
  case Type::Q4_0:
  case Type::Q4_1:
    return true;
  default:
    return false;
  }
}

size_t rowBytes(Type type, size_t n) {
  const TypeTraits *traits = lookup(static_cast<uint32_t>(type));
  if (!traits || n % traits->blockSize != 0)
    return 0;
  return n / traits->blockSize * traits->blockBytes;
}

float halfToFloat(uint16_t bits) {
  const uint32_t sign = static_cast<uint32_t>(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1F;
  uint32_t mantissa = bits & 0x3FF;
  if (exponent == 0x1F) {
    // Inf keeps a zero mantissa; a NaN keeps its payload and becomes quiet.
    uint32_t quiet = mantissa ? 0x00400000u : 0;
    return bitsToFloat(sign | 0x7F800000u | quiet | (mantissa << 13));
  }
  if (exponent == 0) {
    if (mantissa == 0)
      return bitsToFloat(sign);
    // Subnormal m * 2^-24: shift the leading one into the implicit bit.
    exponent = 127 - 14;
    while (!(mantissa & 0x400)) {
      mantissa <<= 1;
      --exponent;
    }
    mantissa &= 0x3FF;
    return bitsToFloat(sign | (exponent << 23) | (mantissa << 13));
  }
  return bitsToFloat(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

bool dequantizeRow(Type type, const uint8_t *src, size_t n, float *dst) {
  if (!canDequantize(type) || n % blockSize(type) != 0)
    return false;
  switch (type) {
  case Type::F32:
    for (size_t i = 0; i < n; ++i)
      dst[i] = bitsToFloat(load32(src + 4 * i));
    return true;
  case Type::F16:
    for (size_t i = 0; i < n; ++i)
      dst[i] = halfToFloat(load16(src + 2 * i));
    return true;
  case Type::BF16:
    for (size_t i = 0; i < n; ++i)
      dst[i] = bf16BitsToFloat(load16(src + 2 * i));
    return true;
  case Type::Q8_0:
    dequantizeQ8_0(src, n / 32, dst);
    return true;
  case Type::Q4_0:
    dequantizeQ4_0(src, n / 32, dst);
    return true;
  case Type::Q4_1:
    dequantizeQ4_1(src, n / 32, dst);
    return true;
  default:
    return false;
  }
}

std::optional<QuantizedWeight> storeAs(Type type, const uint8_t *src,
                                       int64_t n, int64_t k,
                                       const Scheme &scheme) {
  bool q8 = type == Type::Q8_0 && scheme.kind == Kind::Int8;
  bool q4 = type == Type::Q4_0 && scheme.kind == Kind::Int4;
  if (!(q8 || q4) || !scheme.symmetric || scheme.groupSize != 32 ||
      scheme.doubleQuant || k <= 0 || n < 0 || k % 32 != 0)
    return std::nullopt;
  QuantizedWeight q;
  q.scheme = scheme;
  q.n = n;
  q.k = k;
  int64_t groups = k / 32;
  q.scales.resize(n * groups);
  q.codes.resize(q8 ? n * k : n * k / 2);
  for (int64_t g = 0; g < n * groups; ++g) {
    q.scales[g] = halfToFloat(load16(src));
    if (q8) {
      std::memcpy(q.codes.data() + g * 32, src + 2, 32);
      src += 34;
      continue;
    }
    // ggml: element j in the low nibble of byte j, j + 16 in its high
    // nibble, value (x - 8) * d; ours: two's complement q - 8, element 2i
    // in the high nibble.
    const uint8_t *qs = src + 2;
    uint8_t codes[32];
    for (int j = 0; j < 16; ++j) {
      codes[j] = static_cast<uint8_t>(((qs[j] & 0x0F) - 8) & 0x0F);
      codes[j + 16] = static_cast<uint8_t>(((qs[j] >> 4) - 8) & 0x0F);
    }
    packNibbles(codes, 32, q.codes.data() + g * 16);
    src += 18;
  }
  return q;
}

} // namespace qmlir::numerics::ggml
