//===- Quantize.cpp - Quantization formulas for every qnt scheme ----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Quantize / dequantize of an [N, K] weight for int8, int4, nf4 and fp4, with
// bitsandbytes double quantization of the nf4/fp4 absmax values. Arithmetic is
// fp32 wherever bitsandbytes (torch) computes in fp32, so that codes match bit
// for bit; only sums over many elements (the double-quant mean and the error
// statistics) accumulate in double.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Quantize.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

namespace qmlir::numerics {

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

float roundHalfEven(float x) {
  // Explicit rather than std::nearbyint so that a caller's rounding mode
  // cannot change the codes. x - trunc(x) is exact in fp32.
  float rounded = std::round(x); // Halves go away from zero here...
  if (std::fabs(x - std::trunc(x)) == 0.5f)
    rounded = 2.0f * std::round(x * 0.5f); // ...and to even here.
  return rounded;
}

uint16_t floatToBF16Bits(float value) {
  uint32_t u;
  std::memcpy(&u, &value, 4);
  if (std::isnan(value))
    return static_cast<uint16_t>((u >> 16) | 0x40); // Keep it a quiet NaN.
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

float bf16BitsToFloat(uint16_t bits) {
  uint32_t u = static_cast<uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

int64_t numGroups(int64_t k, int64_t groupSize) {
  if (k <= 0)
    return 0;
  if (groupSize <= 0)
    return 1;
  return (k + groupSize - 1) / groupSize;
}

int64_t effectiveGroupSize(int64_t k, int64_t groupSize) {
  return groupSize > 0 ? groupSize : k;
}

int64_t rowBytes(Kind kind, int64_t k) {
  return bitsPerCode(kind) == 8 ? k : (k + 1) / 2;
}

namespace {

/// True when the scheme stores zero points.
bool hasZeroPoints(const Scheme &scheme) {
  return !scheme.symmetric && !isTableKind(scheme.kind);
}

/// Rounds half to even and clamps to [lo, hi]. Clamping before the integer
/// conversion keeps it defined for any input. NaN (0 * inf, when a subnormal
/// absmax makes 127 / absmax overflow) is taken as 0.
int clampRound(float x, int lo, int hi) {
  float r = std::isnan(x) ? 0.0f : roundHalfEven(x);
  if (r >= static_cast<float>(hi))
    return hi;
  if (r > static_cast<float>(lo))
    return static_cast<int>(r);
  return lo;
}

/// Scale and zero point of an asymmetric group with `levels` steps (255 or
/// 15). The range is widened to contain 0 so that 0 is exactly representable.
void asymmetricParams(const float *w, int64_t count, int levels, float &scale,
                      int &zeroPoint) {
  float lo = 0.0f, hi = 0.0f;
  for (int64_t i = 0; i < count; ++i) {
    lo = std::min(lo, w[i]);
    hi = std::max(hi, w[i]);
  }
  scale = (hi - lo) / static_cast<float>(levels);
  zeroPoint = scale > 0.0f ? clampRound(-lo / scale, 0, levels) : 0;
}

/// bitsandbytes' clamp(x * (1 / absmax), -1, 1). A subnormal absmax makes
/// 1 / absmax infinite and 0 * inf NaN (torch propagates it); map that to 0.
float scaleToUnit(float x, float inv) {
  float scaled = x * inv;
  return std::isnan(scaled) ? 0.0f : std::clamp(scaled, -1.0f, 1.0f);
}

float absMax(const float *w, int64_t count) {
  float m = 0.0f;
  for (int64_t i = 0; i < count; ++i)
    m = std::max(m, std::fabs(w[i]));
  return m;
}

/// Quantizes one group of an int kind into one code per element (int4 codes
/// are the 4-bit patterns, packed later). Returns the scale; writes the zero
/// point for asymmetric schemes.
float quantizeIntGroup(const Scheme &scheme, const float *w, int64_t count,
                       uint8_t *codes, uint8_t &zeroPoint) {
  bool isInt8 = scheme.kind == Kind::Int8;
  if (scheme.symmetric) {
    float amax = absMax(w, count);
    int qmax = isInt8 ? 127 : 7;
    int qmin = isInt8 ? -127 : -8;
    float scale = amax / static_cast<float>(qmax);
    // An all-zero group keeps q = 0 and scale 0: never divide by 0.
    if (amax == 0.0f) {
      std::fill(codes, codes + count, 0);
      return 0.0f;
    }
    if (isInt8) {
      // bitsandbytes int8_vectorwise_quant: x * (127.0 / row_stats), which
      // torch evaluates as x * fl(fl(1 / absmax) * 127).
      float inv = (1.0f / amax) * 127.0f;
      for (int64_t i = 0; i < count; ++i)
        codes[i] = static_cast<uint8_t>(clampRound(w[i] * inv, qmin, qmax));
      return scale;
    }
    for (int64_t i = 0; i < count; ++i)
      codes[i] = encodeWithScale(scheme, nullptr, w[i], scale, 0);
    return scale;
  }

  int levels = isInt8 ? 255 : 15;
  float scale;
  int zp;
  asymmetricParams(w, count, levels, scale, zp);
  zeroPoint = static_cast<uint8_t>(zp);
  if (scale == 0.0f) {
    std::fill(codes, codes + count, 0);
    return 0.0f;
  }
  for (int64_t i = 0; i < count; ++i)
    codes[i] = encodeWithScale(scheme, nullptr, w[i], scale, zp);
  return scale;
}

/// bitsandbytes quantize_4bit on one block (its CPU implementation,
/// bitsandbytes/backends/default/ops.py): returns the absmax to store. A full
/// block multiplies by fl(1 / max(absmax, 1e-38)) and stores its absmax (0
/// for an all-zero block); a partial block (`partial`: the tail of a row
/// whose K the group size does not divide) divides by max(absmax, 1e-38) and
/// stores that clamped value.
float quantizeTableBlock(const Codebook &book, const float *w, int64_t count,
                         bool partial, uint8_t *codes) {
  float amax = absMax(w, count);
  float clamped = std::max(amax, kMinAbsmax);
  if (partial) {
    for (int64_t i = 0; i < count; ++i)
      codes[i] = book.lookup(std::clamp(w[i] / clamped, -1.0f, 1.0f));
    return clamped;
  }
  float inv = 1.0f / clamped;
  for (int64_t i = 0; i < count; ++i)
    codes[i] = book.lookup(std::clamp(w[i] * inv, -1.0f, 1.0f));
  return amax;
}

} // namespace

float dequantizeCode(const Scheme &scheme, unsigned code, float scale,
                     int zeroPoint) {
  switch (scheme.kind) {
  case Kind::Int8:
    if (scheme.symmetric)
      return static_cast<float>(static_cast<int8_t>(code)) * scale;
    return static_cast<float>(static_cast<int>(code) - zeroPoint) * scale;
  case Kind::Int4:
    if (scheme.symmetric) // Sign-extend the 4-bit two's complement.
      return static_cast<float>(code >= 8 ? static_cast<int>(code) - 16
                                          : static_cast<int>(code)) *
             scale;
    return static_cast<float>(static_cast<int>(code) - zeroPoint) * scale;
  case Kind::NF4:
  case Kind::FP4:
    return schemeTable(scheme)[code & 0xF] * scale;
  }
  return 0.0f;
}
uint8_t encodeWithScale(const Scheme &scheme, const Codebook *book, float x,
                        float scale, int zeroPoint) {
  if (isTableKind(scheme.kind))
    return book->lookup(scale > 0.0f ? std::clamp(x / scale, -1.0f, 1.0f)
                                     : 0.0f);
  bool isInt8 = scheme.kind == Kind::Int8;
  if (scale == 0.0f)
    return scheme.symmetric ? 0 : static_cast<uint8_t>(zeroPoint);
  if (scheme.symmetric) {
    int q = clampRound(x / scale, isInt8 ? -127 : -8, isInt8 ? 127 : 7);
    return static_cast<uint8_t>(isInt8 ? q : q & 0xF);
  }
  // Round before adding the (integral) zero point so that the half-to-even
  // decision is taken on x / scale itself, not on an fp32-rounded sum.
  int levels = isInt8 ? 255 : 15;
  float shifted = roundHalfEven(x / scale) + static_cast<float>(zeroPoint);
  return static_cast<uint8_t>(clampRound(shifted, 0, levels));
}

//===----------------------------------------------------------------------===//
// Validation and storage
//===----------------------------------------------------------------------===//

std::string validate(const Scheme &scheme, int64_t k, bool allowPartialGroups) {
  if (k <= 0)
    return "K must be positive";
  if (scheme.groupSize < 0)
    return "group-size must be >= 0 (got " + std::to_string(scheme.groupSize) +
           ")";
  if (isTableKind(scheme.kind) && !scheme.symmetric)
    return "nf4 and fp4 are symmetric only";
  if (scheme.doubleQuant && !isTableKind(scheme.kind))
    return "double quantization needs nf4 or fp4";
  if (!scheme.codebook.empty() &&
      (!isTableKind(scheme.kind) || scheme.codebook.size() != 16))
    return "a codebook needs nf4 or fp4 and 16 entries";
  if (scheme.groupSize > 0 && k % scheme.groupSize != 0 && !allowPartialGroups)
    return "group-size " + std::to_string(scheme.groupSize) +
           " does not divide K = " + std::to_string(k);
  return "";
}

StorageBreakdown storageFor(const Scheme &scheme, int64_t n, int64_t k) {
  StorageBreakdown s;
  int64_t groups = n * numGroups(k, scheme.groupSize);
  s.codeBytes = n * rowBytes(scheme.kind, k);
  if (scheme.doubleQuant) {
    int64_t blocks = (groups + kDoubleQuantBlock - 1) / kDoubleQuantBlock;
    s.dqBytes = groups + 4 * blocks + 4; // codes, block absmax, offset
  } else {
    s.scaleBytes = 4 * groups;
  }
  if (hasZeroPoints(scheme))
    s.zeroPointBytes = groups;
  return s;
}

int64_t QuantizedWeight::storageBytes() const {
  int64_t bytes = static_cast<int64_t>(codes.size() + 4 * scales.size() +
                                       zeroPoints.size() + dqCodes.size() +
                                       4 * dqScales.size());
  if (scheme.doubleQuant)
    bytes += 4; // dqOffset
  return bytes;
}

//===----------------------------------------------------------------------===//
// Quantize
//===----------------------------------------------------------------------===//

void packNibbles(const uint8_t *codes, int64_t k, uint8_t *out) {
  for (int64_t i = 0; i < k; i += 2) {
    uint8_t hi = codes[i] & 0x0F;
    uint8_t lo = i + 1 < k ? (codes[i + 1] & 0x0F) : 0;
    out[i / 2] = static_cast<uint8_t>((hi << 4) | lo);
  }
}

const std::vector<uint8_t> &dynamicLookupTable() {
  // bitsandbytes csrc/cpu_ops.cpp, build_quantize_lut: grid point i of
  // [-1, 1] takes the first sorted code whose upper midpoint is not below it.
  static const std::vector<uint8_t> table = [] {
    const std::array<float, 256> &map = dynamicMap();
    std::array<float, 255> mids;
    for (unsigned j = 0; j < 255; ++j)
      mids[j] = 0.5f * (map[j] + map[j + 1]);
    std::vector<uint8_t> lut(65536);
    for (unsigned i = 0; i < 65536; ++i) {
      float grid = (2.0f * static_cast<float>(i)) / 65535.0f - 1.0f;
      lut[i] = static_cast<uint8_t>(
          std::lower_bound(mids.begin(), mids.end(), grid) - mids.begin());
    }
    return lut;
  }();
  return table;
}

uint8_t dynamicCode(float unit) {
  // bitsandbytes norm_to_lut_index: one fused multiply-add, truncated.
  float t = (unit + 1.0f) * 0.5f;
  int index = static_cast<int>(std::fma(t, 65535.0f, 0.5f));
  return dynamicLookupTable()[static_cast<uint16_t>(index)];
}

void quantizeBlockwiseDynamic(const float *x, int64_t count, int64_t blockSize,
                              std::vector<uint8_t> &codes,
                              std::vector<float> &absmax) {
  assert(blockSize > 0 && "block size must be positive");
  int64_t blocks = (count + blockSize - 1) / blockSize;
  codes.assign(count, 0);
  absmax.assign(blocks, 0.0f);
  for (int64_t b = 0; b < blocks; ++b) {
    int64_t begin = b * blockSize;
    int64_t end = std::min(count, begin + blockSize);
    float amax = absMax(x + begin, end - begin);
    absmax[b] = amax;
    // bitsandbytes leaves code 0 in an all-zero block (it decodes to 0).
    if (amax == 0.0f)
      continue;
    float inv = 1.0f / amax;
    for (int64_t i = begin; i < end; ++i)
      codes[i] = dynamicCode(scaleToUnit(x[i], inv));
  }
}

/// An invalid scheme yields an empty weight (n = k = 0): the library is built
/// without exceptions, and callers are expected to validate first.
QuantizedWeight quantize(const Scheme &scheme, const float *w, int64_t n,
                         int64_t k) {
  QuantizedWeight q;
  q.scheme = scheme;
  if (!validate(scheme, k, /*allowPartialGroups=*/true).empty() || n < 0)
    return q;
  q.n = n;
  q.k = k;
  int64_t groups = numGroups(k, scheme.groupSize);
  int64_t groupSize = effectiveGroupSize(k, scheme.groupSize);
  bool fourBit = bitsPerCode(scheme.kind) == 4;
  int64_t bytesPerRow = rowBytes(scheme.kind, k);

  q.codes.assign(n * bytesPerRow, 0);
  q.scales.assign(n * groups, 0.0f);
  if (hasZeroPoints(scheme))
    q.zeroPoints.assign(n * groups, 0);

  // One code per byte for the current row; 4-bit rows are packed afterwards.
  std::vector<uint8_t> rowCodes(k);
  std::optional<Codebook> book;
  if (isTableKind(scheme.kind))
    book.emplace(schemeTable(scheme), 16);
  for (int64_t row = 0; row < n; ++row) {
    const float *wRow = w + row * k;
    for (int64_t g = 0; g < groups; ++g) {
      int64_t begin = g * groupSize;
      int64_t count = std::min(k, begin + groupSize) - begin;
      int64_t idx = row * groups + g;
      if (isTableKind(scheme.kind)) {
        q.scales[idx] =
            quantizeTableBlock(*book, wRow + begin, count,
                               count < groupSize, rowCodes.data() + begin);
      } else {
        uint8_t zp = 0;
        q.scales[idx] = quantizeIntGroup(scheme, wRow + begin, count,
                                         rowCodes.data() + begin, zp);
        if (hasZeroPoints(scheme))
          q.zeroPoints[idx] = zp;
      }
    }
    uint8_t *out = q.codes.data() + row * bytesPerRow;
    if (fourBit)
      packNibbles(rowCodes.data(), k, out);
    else
      std::copy(rowCodes.begin(), rowCodes.end(), out);
  }

  if (scheme.doubleQuant) {
    // bitsandbytes compress_statistics: center the absmax values on their
    // mean, then quantize them blockwise with the dynamic map. torch.mean
    // sums fp32 pairwise; a double sum rounded once is at least as accurate
    // but can differ from torch in the last ulp of the offset.
    double sum = 0.0;
    for (float a : q.scales)
      sum += a;
    float offset =
        q.scales.empty()
            ? 0.0f
            : static_cast<float>(sum / static_cast<double>(q.scales.size()));
    std::vector<float> centered(q.scales.size());
    for (size_t i = 0; i < centered.size(); ++i)
      centered[i] = q.scales[i] - offset;
    quantizeBlockwiseDynamic(centered.data(),
                             static_cast<int64_t>(centered.size()),
                             kDoubleQuantBlock, q.dqCodes, q.dqScales);
    q.dqOffset = offset;
    q.scales.clear();
  }
  return q;
}

QuantizedWeight quantizeInt8WithOutliers(const float *w, int64_t n, int64_t k,
                                         float threshold,
                                         std::vector<int64_t> &outlierCols) {
  outlierCols.clear();
  Scheme scheme;
  scheme.kind = Kind::Int8;
  if (!(threshold > 0.0f))
    return quantize(scheme, w, n, k);
  std::vector<bool> isOutlierCol(k, false);
  std::vector<float> inliers(w, w + n * k);
  for (int64_t i = 0; i < n * k; ++i)
    if (std::fabs(inliers[i]) >= threshold) {
      isOutlierCol[i % k] = true;
      inliers[i] = 0.0f;
    }
  QuantizedWeight q = quantize(scheme, inliers.data(), n, k);
  for (int64_t c = 0; c < k; ++c)
    if (isOutlierCol[c])
      outlierCols.push_back(c);
  if (n > 1)
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c : outlierCols)
        q.codes[r * k + c] = 0;
  return q;
}

//===----------------------------------------------------------------------===//
// Dequantize
//===----------------------------------------------------------------------===//

std::vector<float> decodeScales(const QuantizedWeight &q) {
  if (!q.scheme.doubleQuant)
    return q.scales;
  const std::array<float, 256> &map = dynamicMap();
  std::vector<float> scales(q.dqCodes.size());
  for (size_t i = 0; i < scales.size(); ++i)
    scales[i] =
        map[q.dqCodes[i]] * q.dqScales[i / kDoubleQuantBlock] + q.dqOffset;
  return scales;
}

float dequantizeElement(const QuantizedWeight &q,
                        const std::vector<float> &decodedScales, int64_t n,
                        int64_t k) {
  int64_t groups = q.groups();
  int64_t idx = n * groups + k / effectiveGroupSize(q.k, q.scheme.groupSize);
  const uint8_t *row = q.codes.data() + n * rowBytes(q.scheme.kind, q.k);
  unsigned code =
      bitsPerCode(q.scheme.kind) == 8 ? row[k] : unpackNibble(row, k);
  int zp = q.zeroPoints.empty() ? 0 : q.zeroPoints[idx];
  return dequantizeCode(q.scheme, code, decodedScales[idx], zp);
}

std::vector<float> dequantize(const QuantizedWeight &q) {
  std::vector<float> scales = decodeScales(q);
  std::vector<float> out(q.n * q.k);
  int64_t groups = q.groups();
  int64_t groupSize = effectiveGroupSize(q.k, q.scheme.groupSize);
  bool eightBit = bitsPerCode(q.scheme.kind) == 8;
  for (int64_t row = 0; row < q.n; ++row) {
    const uint8_t *codes = q.codes.data() + row * rowBytes(q.scheme.kind, q.k);
    for (int64_t col = 0; col < q.k; ++col) {
      int64_t idx = row * groups + col / groupSize;
      unsigned code = eightBit ? codes[col] : unpackNibble(codes, col);
      int zp = q.zeroPoints.empty() ? 0 : q.zeroPoints[idx];
      out[row * q.k + col] = dequantizeCode(q.scheme, code, scales[idx], zp);
    }
  }
  return out;
}

int64_t firstNonFinite(const float *values, int64_t count) {
  // A branch-free scan of blocks first (vectorizes); the index only when a
  // block has a bad value.
  constexpr int64_t kBlock = 1024;
  for (int64_t start = 0; start < count; start += kBlock) {
    int64_t end = std::min(count, start + kBlock);
    bool bad = false;
    for (int64_t i = start; i < end; ++i)
      bad |= !std::isfinite(values[i]);
    if (!bad)
      continue;
    for (int64_t i = start; i < end; ++i)
      if (!std::isfinite(values[i]))
        return i;
  }
  return -1;
}

const char *nonFiniteName(float value) {
  if (std::isnan(value))
    return "NaN";
  return value > 0 ? "inf" : "-inf";
}

ErrorStats computeError(const float *w, const float *deq, int64_t count) {
  ErrorStats stats;
  double signal = 0.0, noise = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    double diff = static_cast<double>(w[i]) - static_cast<double>(deq[i]);
    signal += static_cast<double>(w[i]) * w[i];
    noise += diff * diff;
    stats.maxAbs = std::max(stats.maxAbs, std::fabs(diff));
  }
  stats.rmse = count > 0 ? std::sqrt(noise / static_cast<double>(count)) : 0.0;
  stats.sqnrDb = noise == 0.0 ? std::numeric_limits<double>::infinity()
                              : 10.0 * std::log10(signal / noise);
  return stats;
}

} // namespace qmlir::numerics
