//===- Quantize.h - Quantization formulas for every qnt scheme --*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The one place that holds the quantization math of quant-mlir. Plain C++ (no
// MLIR types) so that the compile-time folder, the reference lowerings, the
// Python bindings and the unit tests all call the same code.
//
// Every function works on the [N, K] (out x in) row-major view of a weight:
// groups (blocks) always run along K, per output channel n. The storage layout
// of each scheme is documented in docs/Layouts.md and in `QuantizedWeight`.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_NUMERICS_QUANTIZE_H
#define QMLIR_NUMERICS_QUANTIZE_H

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace qmlir::numerics {

/// The quantization families.
enum class Kind : uint32_t { Int8 = 0, Int4 = 1, NF4 = 2, FP4 = 3 };

/// Spelling used in IR, pass options and reports ("int8", "int4", "nf4", "fp4").
const char *kindName(Kind kind);
/// Parses a kind spelling; returns false for unknown names.
bool parseKind(const std::string &name, Kind &kind);

/// Bits per stored code (8 or 4).
unsigned bitsPerCode(Kind kind);
/// True for the table (codebook) schemes nf4 and fp4.
bool isTableKind(Kind kind);

/// A complete scheme description.
struct Scheme {
  Kind kind = Kind::Int8;
  /// Symmetric (scale only) vs asymmetric (scale + zero point). nf4/fp4 are
  /// always symmetric (absmax scaling).
  bool symmetric = true;
  /// Elements per group along K; 0 means one group per row (per channel).
  int64_t groupSize = 0;
  /// bitsandbytes double quantization of the per-group absmax values
  /// (nf4/fp4 only).
  bool doubleQuant = false;
  /// A custom code book for nf4/fp4: 16 values in code order. Empty means
  /// the standard table of the kind.
  std::vector<float> codebook;
};

/// Block size of the second-level (double) quantization, as in bitsandbytes.
constexpr int64_t kDoubleQuantBlock = 256;

/// The NF4 code book (fp32, ascending; code i -> value i).
const std::array<float, 16> &nf4Table();
/// The bitsandbytes FP4 code book in code order (bit 3 is the sign).
const std::array<float, 16> &fp4Table();
/// The code book of a table kind (nf4/fp4).
const std::array<float, 16> &tableFor(Kind kind);
/// The 16 values of a table scheme in code order: its custom code book or
/// the standard table of its kind.
const float *schemeTable(const Scheme &scheme);
/// bitsandbytes create_dynamic_map(signed=True): 256 sorted fp32 values.
const std::array<float, 256> &dynamicMap();

/// Index of the code whose value is nearest to x, using the bitsandbytes
/// midpoint rule on the table sorted ascending (a value exactly on a midpoint
/// takes the lower value). `table` is given in code order; the returned code
/// is in code order too. Equal table values stay in code order (see
/// Codebook).
uint8_t nearestCode(const float *table, unsigned size, float x);

/// A code book prepared for the midpoint search: the values sorted stably
/// ascending (equal values in code order, as torch.argsort in bitsandbytes),
/// the code of each, and the midpoints between neighbours.
class Codebook {
public:
  Codebook(const float *table, unsigned size);
  /// The code nearest to x; a value exactly on a midpoint takes the lower
  /// entry (torch.bucketize with right=False).
  uint8_t lookup(float x) const;
  const std::vector<float> &getMidpoints() const { return midpoints; }
  /// Code of the i-th value in ascending order.
  const std::vector<uint8_t> &getSortedCodes() const { return codes; }

private:
  std::vector<float> values;
  std::vector<uint8_t> codes;
  std::vector<float> midpoints;
};

/// Round half to even (torch.round / bitsandbytes rounding).
float roundHalfEven(float x);

/// Number of groups per row for a given K and group size (0 = per row).
/// A trailing partial group counts as a group.
int64_t numGroups(int64_t k, int64_t groupSize);

/// Effective group size (groupSize, or K when groupSize == 0).
int64_t effectiveGroupSize(int64_t k, int64_t groupSize);

/// Bytes of one row of K codes (4-bit kinds: two codes per byte).
int64_t rowBytes(Kind kind, int64_t k);

/// Result of quantizing an [N, K] weight.
///
///  codes   8-bit kinds: N*K bytes, row-major [N, K]; int8 symmetric stores the
///          two's-complement int8, int8 asymmetric the uint8 code.
///          4-bit kinds: N*ceil(K/2) bytes, row-major [N, ceil(K/2)]; element
///          2i of a row in the high nibble of byte i, element 2i+1 in the low
///          nibble; an odd K pads the last low nibble with 0. int4 symmetric
///          stores the 4-bit two's complement of q in [-8, 7]; int4
///          asymmetric the uint4 code; nf4/fp4 the table index.
///  scales  N*G fp32 ([N, G], G = numGroups): the scale for int kinds, the
///          absmax for nf4/fp4. Empty when doubleQuant (see below).
///  zeroPoints  N*G bytes (uint8), asymmetric int kinds only, else empty.
///  Double quant (nf4/fp4): the absmax values (flattened [N, G] row-major)
///          are replaced by dqCodes (N*G uint8 indices into dynamicMap()),
///          dqScales (ceil(N*G/256) fp32 absmax of each block of 256) and
///          dqOffset (the mean of the original absmax values).
struct QuantizedWeight {
  Scheme scheme;
  int64_t n = 0, k = 0;
  std::vector<uint8_t> codes;
  std::vector<float> scales;
  std::vector<uint8_t> zeroPoints;
  std::vector<uint8_t> dqCodes;
  std::vector<float> dqScales;
  float dqOffset = 0.0f;

  int64_t groups() const { return numGroups(k, scheme.groupSize); }
  /// Total bytes of the stored representation (codes + all parameters).
  int64_t storageBytes() const;
};

/// Checks that a scheme is valid for K; returns an empty string or a
/// one-line reason ("group-size 48 does not divide K = 100", ...).
/// Partial trailing groups are allowed only when allowPartialGroups is set.
std::string validate(const Scheme &scheme, int64_t k,
                     bool allowPartialGroups = false);

/// Quantizes a row-major [N, K] fp32 weight. The scheme must validate
/// (with partial groups allowed).
QuantizedWeight quantize(const Scheme &scheme, const float *w, int64_t n,
                         int64_t k);

/// LLM.int8's vector-wise quantization with an outlier threshold
/// (bitsandbytes int8_vectorwise_quant(A, threshold)): elements with
/// |x| >= threshold are outliers; they are left out of their row's absmax,
/// and every column holding one (`outlierCols`, ascending) gets code 0 in
/// every row (for n > 1; LLM.int8 computes those columns in higher
/// precision). The result is int8 symmetric per channel (scale = the row
/// absmax / 127). threshold <= 0 means no outliers (quantize()'s int8).
QuantizedWeight quantizeInt8WithOutliers(const float *w, int64_t n, int64_t k,
                                         float threshold,
                                         std::vector<int64_t> &outlierCols);

/// The per-group scales (or absmax) of a quantized weight, decoding double
/// quantization when present: N*G fp32.
std::vector<float> decodeScales(const QuantizedWeight &q);

/// Dequantizes to a row-major [N, K] fp32 array.
std::vector<float> dequantize(const QuantizedWeight &q);

/// The value of a stored code given its group's decoded scale (absmax for
/// nf4/fp4) and zero point.
float dequantizeCode(const Scheme &scheme, unsigned code, float scale,
                     int zeroPoint);

/// The code of x in a group of the given decoded scale and zero point: the
/// nearest table value of x / scale (`book`: the scheme's table, for
/// nf4/fp4), or round-half-even(x / scale) (+ zero point) clamped.
uint8_t encodeWithScale(const Scheme &scheme, const Codebook *book, float x,
                        float scale, int zeroPoint);

/// Dequantizes a single element (n, k). Slow; for references and tests.
float dequantizeElement(const QuantizedWeight &q,
                        const std::vector<float> &decodedScales, int64_t n,
                        int64_t k);

/// The smallest absmax bitsandbytes divides by in quantize_4bit
/// (absmax.clamp(min=1e-38)).
constexpr float kMinAbsmax = 1e-38f;

/// The dynamic-map code (index into dynamicMap()) of a value in [-1, 1], as
/// bitsandbytes' CPU quantize_blockwise finds it: through a 65536-entry
/// lookup table (the code nearest to the grid point the value snaps to), so
/// values within ~1.5e-5 of a midpoint can take the neighbouring code.
uint8_t dynamicCode(float unit);
/// That lookup table: the code of grid point i = (v + 1) / 2 * 65535.
const std::vector<uint8_t> &dynamicLookupTable();

/// bitsandbytes quantize_blockwise with the signed dynamic map on a flat
/// array (blocks of `blockSize`, trailing partial block allowed): writes one
/// uint8 code per element (dynamicCode of x / absmax; code 0 in an all-zero
/// block) and one fp32 absmax per block.
void quantizeBlockwiseDynamic(const float *x, int64_t count, int64_t blockSize,
                              std::vector<uint8_t> &codes,
                              std::vector<float> &absmax);

/// Packs 4-bit codes (one per byte, values 0..15) of a row of `k` elements
/// into ceil(k/2) bytes, element 2i in the high nibble.
void packNibbles(const uint8_t *codes, int64_t k, uint8_t *out);
/// Reads 4-bit code `i` of a packed row.
inline uint8_t unpackNibble(const uint8_t *packed, int64_t i) {
  uint8_t byte = packed[i / 2];
  return (i % 2 == 0) ? (byte >> 4) : (byte & 0x0F);
}

/// bfloat16 bits of an f32 value, rounded to nearest even (as
/// arith.truncf and the GPU do); NaN stays NaN.
uint16_t floatToBF16Bits(float value);
/// The f32 value of bfloat16 bits (exact).
float bf16BitsToFloat(uint16_t bits);

/// The first NaN or infinite value among `count` floats: its index, or -1
/// when all are finite. Weights are checked before quantizing (a damaged
/// model file must not compile into garbage silently).
int64_t firstNonFinite(const float *values, int64_t count);
/// "NaN", "inf" or "-inf" for a non-finite value (messages).
const char *nonFiniteName(float value);

/// Error statistics of a dequantized weight against the original.
struct ErrorStats {
  double rmse = 0.0;   ///< sqrt(mean((w - deq)^2))
  double sqnrDb = 0.0; ///< 10*log10(sum(w^2) / sum((w - deq)^2)); +inf if exact
  double maxAbs = 0.0; ///< max |w - deq|
};
ErrorStats computeError(const float *w, const float *deq, int64_t count);

/// Stored bytes of a scheme for an [N, K] weight, by component.
struct StorageBreakdown {
  int64_t codeBytes = 0, scaleBytes = 0, zeroPointBytes = 0, dqBytes = 0;
  int64_t total() const {
    return codeBytes + scaleBytes + zeroPointBytes + dqBytes;
  }
};
StorageBreakdown storageFor(const Scheme &scheme, int64_t n, int64_t k);

} // namespace qmlir::numerics

#endif // QMLIR_NUMERICS_QUANTIZE_H
