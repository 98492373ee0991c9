//===- Tables.cpp - Code books, dynamic map and nearest-code search -------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The fixed value tables of the table schemes (NF4, FP4), the bitsandbytes
// signed dynamic map used by double quantization, and the midpoint search that
// maps a scaled value to its code. All values are bit-exact with the fp32
// tensors bitsandbytes builds with torch (checked against torch 2.11 output in
// the unit tests).
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Quantize.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <numeric>

namespace qmlir::numerics {

//===----------------------------------------------------------------------===//
// Kinds
//===----------------------------------------------------------------------===//

const char *kindName(Kind kind) {
  switch (kind) {
  case Kind::Int8:
    return "int8";
  case Kind::Int4:
    return "int4";
  case Kind::NF4:
    return "nf4";
  case Kind::FP4:
    return "fp4";
  }
  return "unknown";
}

bool parseKind(const std::string &name, Kind &kind) {
  for (Kind k : {Kind::Int8, Kind::Int4, Kind::NF4, Kind::FP4}) {
    if (name == kindName(k)) {
      kind = k;
      return true;
    }
  }
  return false;
}

unsigned bitsPerCode(Kind kind) { return kind == Kind::Int8 ? 8 : 4; }

bool isTableKind(Kind kind) { return kind == Kind::NF4 || kind == Kind::FP4; }

//===----------------------------------------------------------------------===//
// Code books
//===----------------------------------------------------------------------===//

const std::array<float, 16> &nf4Table() {
  // The bitsandbytes literals (normal-distribution quantiles scaled to
  // [-1, 1]); every literal is the exact fp32 value printed to 17 digits.
  static const std::array<float, 16> table = {-1.0f,
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
  return table;
}

const std::array<float, 16> &fp4Table() {
  // bitsandbytes builds an fp32 tensor of these literals and divides it in
  // place by its absmax (12), so the division is an fp32 one. Its code 8 is
  // written `-0`, a Python int, hence +0.0f rather than -0.0f.
  static const std::array<float, 16> table = [] {
    const float magnitudes[8] = {0.0f, 0.0625f, 8.0f, 12.0f,
                                 4.0f, 6.0f,    2.0f, 3.0f};
    std::array<float, 16> t{};
    for (unsigned i = 0; i < 8; ++i) {
      t[i] = magnitudes[i] / 12.0f;
      t[i + 8] = i == 0 ? 0.0f : -magnitudes[i] / 12.0f;
    }
    return t;
  }();
  return table;
}

const std::array<float, 16> &tableFor(Kind kind) {
  assert(isTableKind(kind) && "tableFor needs nf4 or fp4");
  return kind == Kind::FP4 ? fp4Table() : nf4Table();
}

const std::array<float, 256> &dynamicMap() {
  // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for
  // exponent i, the midpoints of torch.linspace(0.1, 1, 2^i + 1) scaled by
  // 10^(i-6), both signs, plus 0 and 1.0.
  static const std::array<float, 256> map = [] {
    // Python's 10 ** (i - 6) (a double) is cast to fp32 by the tensor multiply.
    const double powers[7] = {1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0};
    std::vector<float> data;
    data.reserve(256);
    for (int i = 0; i < 7; ++i) {
      int64_t steps = (int64_t(1) << i) + 1;
      // torch's CPU linspace: fp32 step, each half anchored at its own end.
      // Its AVX-512 kernel contracts `start + step * j` into a fused
      // multiply-add; std::fma reproduces torch 2.11 bit for bit, whereas two
      // roundings differ in 42 of the 256 final values.
      const float start = 0.1f, end = 1.0f;
      float step = (end - start) / static_cast<float>(steps - 1);
      int64_t halfway = steps / 2;
      std::vector<float> bounds(steps);
      for (int64_t j = 0; j < steps; ++j)
        bounds[j] =
            j < halfway
                ? std::fma(step, static_cast<float>(j), start)
                : std::fma(-step, static_cast<float>(steps - 1 - j), end);
      float scale = static_cast<float>(powers[i]);
      for (int64_t j = 0; j + 1 < steps; ++j) {
        float mean = (bounds[j] + bounds[j + 1]) / 2.0f;
        data.push_back(scale * mean);
        data.push_back(-scale * mean);
      }
    }
    data.push_back(0.0f);
    data.push_back(1.0f);
    assert(data.size() == 256 && "dynamic map must have 256 entries");
    std::sort(data.begin(), data.end());
    std::array<float, 256> result{};
    std::copy(data.begin(), data.end(), result.begin());
    return result;
  }();
  return map;
}

//===----------------------------------------------------------------------===//
// Nearest code
//===----------------------------------------------------------------------===//

Codebook::Codebook(const float *table, unsigned size) {
  assert(size > 0 && size <= 256 && "code book must have 1..256 entries");
  std::vector<unsigned> order(size);
  std::iota(order.begin(), order.end(), 0u);
  // A stable sort by value (spelled out: std::stable_sort trips clang's
  // deprecation warning inside libstdc++ 12), keeping equal values (fp4's
  // +0 = code 0 and -0 = code 8) in code order, as torch.argsort does in
  // bitsandbytes' quantize_4bit. Their midpoint is the value itself, so with
  // the lower-entry rule x <= 0 takes code 0 and 0 < x < the next midpoint
  // takes code 8, exactly as bitsandbytes' bucketize.
  std::sort(order.begin(), order.end(), [&](unsigned a, unsigned b) {
    return table[a] < table[b] || (table[a] == table[b] && a < b);
  });
  for (unsigned idx : order) {
    values.push_back(table[idx]);
    codes.push_back(static_cast<uint8_t>(idx));
  }
  for (size_t i = 0; i + 1 < values.size(); ++i)
    midpoints.push_back((values[i] + values[i + 1]) / 2.0f);
}

uint8_t Codebook::lookup(float x) const {
  // The first midpoint >= x bounds x from above.
  auto it = std::lower_bound(midpoints.begin(), midpoints.end(), x);
  return codes[it - midpoints.begin()];
}

const float *schemeTable(const Scheme &scheme) {
  if (scheme.codebook.size() == 16)
    return scheme.codebook.data();
  return tableFor(scheme.kind).data();
}

uint8_t nearestCode(const float *table, unsigned size, float x) {
  // The project's own tables are prepared once; any other table (tests,
  // experiments) is prepared per call.
  if (size == 16 && table == nf4Table().data()) {
    static const Codebook book(table, size);
    return book.lookup(x);
  }
  if (size == 16 && table == fp4Table().data()) {
    static const Codebook book(table, size);
    return book.lookup(x);
  }
  return Codebook(table, size).lookup(x);
}

} // namespace qmlir::numerics
