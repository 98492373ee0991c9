//===- UnicodeTest.cpp - Tests for the tokenizer's Unicode tables ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Spot checks of the generated class tables (expected classes from the
// Unicode character database) and of strict UTF-8 decoding (RFC 3629). The
// tables as a whole are checked against Hugging Face by
// test/Integration/Tokenizer/unicode-classes.test.
//
//===----------------------------------------------------------------------===//

#include "Unicode.h"

#include "gtest/gtest.h"

#include <string>

using namespace qmlir::runtime::unicode;

TEST(UnicodeTest, TablesAreSortedAndDisjoint) {
  EXPECT_STREQ(kUnicodeVersion, "16.0.0");
  ASSERT_GT(kNumClassRanges, 500u);
  for (size_t i = 0; i < kNumClassRanges; ++i) {
    EXPECT_LE(kClassRanges[i].first, kClassRanges[i].last) << i;
    EXPECT_NE(kClassRanges[i].cls, CharClass::Other) << i;
    if (i > 0) {
      EXPECT_LT(kClassRanges[i - 1].last, kClassRanges[i].first) << i;
    }
  }
  EXPECT_LE(kClassRanges[kNumClassRanges - 1].last, 0x10FFFFu);
}

TEST(UnicodeTest, Classes) {
  struct Case {
    uint32_t cp;
    CharClass cls;
  } cases[] = {
      {'A', CharClass::Letter},
      {'z', CharClass::Letter},
      {'0', CharClass::Number},
      {'9', CharClass::Number},
      {' ', CharClass::WhiteSpace},
      {'\t', CharClass::WhiteSpace},
      {'\n', CharClass::WhiteSpace},
      {0x0B, CharClass::WhiteSpace},
      {'\r', CharClass::WhiteSpace},
      {'!', CharClass::Other},
      {'\'', CharClass::Other},
      {'_', CharClass::Other},
      {0x00, CharClass::Other},
      {0x1C, CharClass::Other},
      {0x85, CharClass::WhiteSpace},
      {0xA0, CharClass::WhiteSpace},
      {0xAA, CharClass::Letter},
      {0xB2, CharClass::Number},
      {0xBD, CharClass::Number},
      {0xD7, CharClass::Other},
      {0xE9, CharClass::Letter},
      {0x0301, CharClass::Other},
      {0x0663, CharClass::Number},
      {0x0915, CharClass::Letter},
      {0x094D, CharClass::Other},
      {0x1680, CharClass::WhiteSpace},
      {0x180E, CharClass::Other},
      {0x2003, CharClass::WhiteSpace},
      {0x200B, CharClass::Other},
      {0x2028, CharClass::WhiteSpace},
      {0x202F, CharClass::WhiteSpace},
      {0x205F, CharClass::WhiteSpace},
      {0x216B, CharClass::Number},
      {0x3000, CharClass::WhiteSpace},
      {0x3007, CharClass::Number},
      {0x4E2D, CharClass::Letter},
      {0xAC00, CharClass::Letter},
      {0xFEFF, CharClass::Other},
      {0xFF10, CharClass::Number},
      {0xFFFD, CharClass::Other},
      {0x1D7D8, CharClass::Number},
      {0x1F600, CharClass::Other},
      // Unicode 15.0 (Kawi, CJK extension H), 16.0 (Garay).
      {0x11F04, CharClass::Letter},
      {0x31350, CharClass::Letter},
      {0x10D4A, CharClass::Letter},
      {0x10D40, CharClass::Number},
      // Unicode 17.0 (Tolong Siki) is past the tables.
      {0x11DB0, CharClass::Other},
      {0x11DE0, CharClass::Other},
      {0xE000, CharClass::Other},
      {0x10FFFF, CharClass::Other},
      {0x110000, CharClass::Other},
  };
  for (const Case &c : cases)
    EXPECT_EQ(classify(c.cp), c.cls) << std::hex << c.cp;
}

TEST(UnicodeTest, DigitSplitHasUnicode17Numbers) {
  EXPECT_TRUE(isDigitSplit('7'));
  EXPECT_TRUE(isDigitSplit(0x00BD));
  EXPECT_TRUE(isDigitSplit(0x10D40));
  // Tolong Siki digits and U+16FF4..U+16FF6 (Unicode 17.0).
  EXPECT_TRUE(isDigitSplit(0x11DE0));
  EXPECT_TRUE(isDigitSplit(0x11DE9));
  EXPECT_TRUE(isDigitSplit(0x16FF6));
  EXPECT_FALSE(isDigitSplit(0x11DEA));
  EXPECT_FALSE(isDigitSplit('a'));
  EXPECT_FALSE(isDigitSplit(' '));
}

TEST(UnicodeTest, DecodeUtf8) {
  auto decode = [](const std::string &s, uint32_t &cp) {
    return decodeUtf8(s.data(), s.size(), cp);
  };
  uint32_t cp;
  EXPECT_EQ(decode("a", cp), 1u);
  EXPECT_EQ(cp, 'a');
  EXPECT_EQ(decode("\xC3\xA9", cp), 2u);
  EXPECT_EQ(cp, 0xE9u);
  EXPECT_EQ(decode("\xE4\xB8\xAD", cp), 3u);
  EXPECT_EQ(cp, 0x4E2Du);
  EXPECT_EQ(decode("\xF0\x9F\x98\x80", cp), 4u);
  EXPECT_EQ(cp, 0x1F600u);
  EXPECT_EQ(decode("\xF4\x8F\xBF\xBF", cp), 4u);
  EXPECT_EQ(cp, 0x10FFFFu);
  // Ill-formed: one byte, kInvalid.
  for (const char *bad :
       {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xE0\x80\x80", "\xED\xA0\x80",
        "\xF0\x80\x80\x80", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF",
        "\xE4\xB8", "\xE4(", "\xF0\x9F\x98"}) {
    EXPECT_EQ(decode(bad, cp), 1u) << bad;
    EXPECT_EQ(cp, kInvalid) << bad;
  }
}

TEST(UnicodeTest, EncodeDecodeEveryCodePoint) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF)
      continue;
    char buf[4];
    size_t len = encodeUtf8(cp, buf);
    uint32_t back;
    ASSERT_EQ(decodeUtf8(buf, len, back), len) << cp;
    ASSERT_EQ(back, cp);
  }
}
