//===- Unicode.cpp - UTF-8 and code point classes for the tokenizer -------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "Unicode.h"

#include <algorithm>

namespace qmlir::runtime::unicode {

namespace {
/// ASCII is most of the text the tokenizer sees: one table load instead of
/// a binary search over ~900 ranges.
struct AsciiClasses {
  CharClass table[128] = {};
  AsciiClasses() {
    for (size_t i = 0; i < kNumClassRanges && kClassRanges[i].first < 128; ++i)
      for (uint32_t cp = kClassRanges[i].first;
           cp <= kClassRanges[i].last && cp < 128; ++cp)
        table[cp] = kClassRanges[i].cls;
  }
};
} // namespace

CharClass classify(uint32_t cp) {
  static const AsciiClasses ascii;
  if (cp < 128)
    return ascii.table[cp];
  const ClassRange *end = kClassRanges + kNumClassRanges;
  // The first range that starts after cp; the one before may contain it.
  const ClassRange *it = std::upper_bound(
      kClassRanges, end, cp,
      [](uint32_t v, const ClassRange &r) { return v < r.first; });
  if (it == kClassRanges)
    return CharClass::Other;
  --it;
  return cp <= it->last ? it->cls : CharClass::Other;
}

bool isDigitSplit(uint32_t cp) {
  if (classify(cp) == CharClass::Number)
    return true;
  for (size_t i = 0; i < kNumExtraNumericRanges; ++i)
    if (cp >= kExtraNumericRanges[i].first && cp <= kExtraNumericRanges[i].last)
      return true;
  return false;
}

size_t decodeUtf8(const char *s, size_t n, uint32_t &cp) {
  auto byte = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  auto isCont = [&](size_t i) { return i < n && (byte(i) & 0xC0) == 0x80; };
  uint8_t b0 = byte(0);
  cp = kInvalid;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  }
  size_t len;
  uint32_t value, min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, value = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, value = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, value = b0 & 0x07, min = 0x10000;
  } else {
    return 1; // A continuation byte or 0xF8..0xFF.
  }
  for (size_t i = 1; i < len; ++i) {
    if (!isCont(i))
      return 1;
    value = (value << 6) | (byte(i) & 0x3F);
  }
  if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return 1;
  cp = value;
  return len;
}

size_t encodeUtf8(uint32_t cp, char out[4]) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

} // namespace qmlir::runtime::unicode
