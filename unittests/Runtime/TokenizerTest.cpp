//===- TokenizerTest.cpp - Tests for the byte-level BPE tokenizer ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A hand-written vocabulary: the 256 tokens of the GPT-2 byte alphabet (id =
// byte value), a few merges and special tokens. Expected ids and words are
// worked out by hand from the BPE and GPT-2 regex definitions; the byte
// alphabet and the file format are encoded here again from their
// definitions, not taken from the code under test.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/Tokenizer.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdio>
#include <random>

using namespace qmlir::runtime;

namespace {

/// UTF-8 of a code point.
std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

/// GPT-2's bytes_to_unicode(): '!'..'~', U+00A1..U+00AC and U+00AE..U+00FF
/// stand for themselves, the other bytes for U+0100, U+0101, ... in order.
std::string byteChar(unsigned b) {
  unsigned next = 0x100;
  for (unsigned x = 0; x < 256; ++x) {
    bool printable = (x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) ||
                     (x >= 0xAE && x <= 0xFF);
    unsigned cp = printable ? x : next++;
    if (x == b)
      return utf8(cp);
  }
  return "";
}

/// The merges in rank order; each result is a token after the 256 bytes.
const std::vector<std::pair<std::string, std::string>> kMerges = {
    {"Ġ", "t"},   // 256 Ġt
    {"h", "e"},   // 257 he
    {"b", "c"},   // 258 bc
    {"a", "b"},   // 259 ab
    {"Ġt", "he"}, // 260 Ġthe
    {"a", "a"},   // 261 aa
    {"'", "s"},   // 262 's
    {"1", "2"},   // 263 12
    {"Ġ", "Ġ"},   // 264 ĠĠ
    {"!", "!"},   // 265 !!
};

struct Vocab {
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  std::vector<std::string> merges;

  Vocab() {
    for (unsigned b = 0; b < 256; ++b)
      add(byteChar(b), TokenType::Normal);
    for (const auto &[left, right] : kMerges) {
      add(left + right, TokenType::Normal);
      merges.push_back(left + " " + right);
    }
    add("<|im_start|>", TokenType::Control); // 266
    add("<|im_end|>", TokenType::Control);   // 267
    add("<|im", TokenType::Control);         // 268
    add("<tool>", TokenType::UserDefined);   // 269
  }
  void add(const std::string &text, TokenType type) {
    tokens.push_back(text);
    types.push_back(static_cast<int32_t>(type));
  }
  /// The id of a token of this vocabulary.
  int32_t id(const std::string &text) const {
    auto it = std::find(tokens.begin(), tokens.end(), text);
    EXPECT_NE(it, tokens.end()) << text;
    return static_cast<int32_t>(it - tokens.begin());
  }
  Tokenizer build(const std::string &pre = "smollm") const {
    std::string error;
    std::optional<Tokenizer> tok = Tokenizer::create(
        tokens, types, merges, {1, 2, -1, -1, false}, pre, error);
    EXPECT_TRUE(tok) << error;
    return std::move(*tok);
  }
};

/// Ids of the bytes of `s` (the byte tokens have id = byte).
std::vector<int32_t> bytes(const std::string &s) {
  std::vector<int32_t> ids;
  for (char c : s)
    ids.push_back(static_cast<uint8_t>(c));
  return ids;
}

std::vector<std::string> words(const Tokenizer &tok, const std::string &s) {
  std::vector<std::string> out;
  for (std::string_view w : tok.preTokenize(s))
    out.emplace_back(w);
  return out;
}

using Ids = std::vector<int32_t>;
using Words = std::vector<std::string>;

} // namespace

TEST(TokenizerTest, MergesLowestRankFirst) {
  Vocab v;
  Tokenizer tok = v.build();
  EXPECT_EQ(tok.vocabSize(), 270u);
  // "b c" (rank 2) beats "a b" (rank 3); then "a bc" is no merge.
  EXPECT_EQ(tok.encode("abc", false), (Ids{'a', v.id("bc")}));
  EXPECT_EQ(tok.encode("ab", false), (Ids{v.id("ab")}));
  EXPECT_EQ(tok.encode("abab", false), (Ids{v.id("ab"), v.id("ab")}));
  // Equal ranks: the leftmost pair first.
  EXPECT_EQ(tok.encode("aaa", false), (Ids{v.id("aa"), 'a'}));
  EXPECT_EQ(tok.encode("aaaa", false), (Ids{v.id("aa"), v.id("aa")}));
  // Merges of merges: Ġ t -> Ġt, h e -> he, Ġt he -> Ġthe.
  EXPECT_EQ(tok.encode(" the", false), (Ids{v.id("Ġthe")}));
  EXPECT_EQ(tok.encode(" he", false), (Ids{' ', v.id("he")}));
  EXPECT_EQ(tok.encode("the", false), (Ids{'t', v.id("he")}));
  EXPECT_EQ(tok.encode("", false), Ids{});
}

TEST(TokenizerTest, BytesWithoutMergesAreByteTokens) {
  Vocab v;
  Tokenizer tok = v.build();
  // "é" is C3 A9; no merge joins them.
  EXPECT_EQ(tok.encode("é", false), (Ids{0xC3, 0xA9}));
  // Control bytes, a new line and a byte that is not UTF-8.
  EXPECT_EQ(tok.encode(std::string("\0\n\xff", 3), false),
            (Ids{0x00, 0x0A, 0xFF}));
  EXPECT_EQ(tok.encode("中", false), (Ids{0xE4, 0xB8, 0xAD}));
}

TEST(TokenizerTest, BytesWithoutTokensAreDroppedBeforeMerging) {
  Vocab v;
  // Byte 0x04 gets no token (its character is not in the vocabulary).
  v.tokens[0x04] = "<unused>";
  v.types[0x04] = static_cast<int32_t>(TokenType::Unused);
  Tokenizer tok = v.build();
  // "!\x04!" is one word; without the 0x04 symbol the two '!' merge.
  EXPECT_EQ(tok.encode("!\x04!", false), (Ids{v.id("!!")}));
  EXPECT_EQ(tok.encode("\x04", false), Ids{});
  EXPECT_EQ(tok.decode(tok.encode("a\x04"
                                  "b",
                                  false)),
            "ab");
}

TEST(TokenizerTest, DigitsSplitForSmolLM) {
  Vocab v;
  Tokenizer smollm = v.build("smollm");
  Tokenizer gpt2 = v.build("gpt-2");
  EXPECT_EQ(smollm.encode("12", false), (Ids{'1', '2'}));
  EXPECT_EQ(gpt2.encode("12", false), (Ids{v.id("12")}));
  EXPECT_EQ(words(smollm, "x12 3"), (Words{"x", "1", "2", " ", "3"}));
  EXPECT_EQ(words(gpt2, "x12 3"), (Words{"x", "12", " 3"}));
  // Every \p{N}, not only ASCII digits: ½ (No), ² (No), ٣ (Nd), Ⅻ (Nl).
  EXPECT_EQ(words(smollm, "a½²٣Ⅻ"), (Words{"a", "½", "²", "٣", "Ⅻ"}));
  EXPECT_EQ(words(gpt2, "a½²٣Ⅻ"), (Words{"a", "½²٣Ⅻ"}));
  // The space before a number is a piece of its own with digits split.
  EXPECT_EQ(words(smollm, "a  1"), (Words{"a", "  ", "1"}));
  EXPECT_EQ(words(gpt2, "a  1"), (Words{"a", " ", " 1"}));
}

TEST(TokenizerTest, Contractions) {
  Vocab v;
  Tokenizer tok = v.build();
  EXPECT_EQ(words(tok, "it's I'm you're we've they'll he'd"),
            (Words{"it", "'s", " I", "'m", " you", "'re", " we", "'ve", " they",
                   "'ll", " he", "'d"}));
  // Case-sensitive and ASCII-only; an apostrophe that starts no contraction
  // joins the punctuation run.
  EXPECT_EQ(words(tok, "IT'S"), (Words{"IT", "'", "S"}));
  EXPECT_EQ(words(tok, "don’t"), (Words{"don", "’", "t"}));
  EXPECT_EQ(words(tok, "''s"), (Words{"''", "s"}));
  EXPECT_EQ(words(tok, "a 's"), (Words{"a", " '", "s"}));
  EXPECT_EQ(words(tok, "'x"), (Words{"'", "x"}));
  EXPECT_EQ(tok.encode("'s", false), (Ids{v.id("'s")}));
}

TEST(TokenizerTest, WhiteSpace) {
  Vocab v;
  Tokenizer tok = v.build();
  // A run followed by text leaves its last space to the next word...
  EXPECT_EQ(words(tok, "a  b"), (Words{"a", " ", " b"}));
  EXPECT_EQ(words(tok, "a   b"), (Words{"a", "  ", " b"}));
  // ...but only a U+0020 joins a word; other white space stands alone.
  EXPECT_EQ(words(tok, "a\n\nb"), (Words{"a", "\n", "\n", "b"}));
  EXPECT_EQ(words(tok, "a\t b"), (Words{"a", "\t", " b"}));
  EXPECT_EQ(words(tok, "a \tb"), (Words{"a", " ", "\t", "b"}));
  // A run that reaches the end is one word.
  EXPECT_EQ(words(tok, "a \n "), (Words{"a", " \n "}));
  EXPECT_EQ(words(tok, "  x"), (Words{" ", " x"}));
  EXPECT_EQ(words(tok, " !?"), (Words{" !?"}));
  // Unicode white space (\s is White_Space): U+3000, U+00A0, U+0085.
  EXPECT_EQ(words(tok, "x \u3000y"), (Words{"x", " ", "\u3000", "y"}));
  EXPECT_EQ(words(tok, "a\u00a0b\u0085c"),
            (Words{"a", "\u00a0", "b", "\u0085", "c"}));
  // U+200B and U+001C are not White_Space (U+001C is for Python's
  // str.isspace): they are "other".
  EXPECT_EQ(words(tok, "a\u200bb\x1c\x1c"),
            (Words{"a", "\u200b", "b", "\x1c\x1c"}));
  EXPECT_EQ(tok.encode("  ", false), (Ids{v.id("ĠĠ")}));
}

TEST(TokenizerTest, LettersAndOther) {
  Vocab v;
  Tokenizer tok = v.build();
  EXPECT_EQ(words(tok, "naïve café"), (Words{"naïve", " café"}));
  EXPECT_EQ(words(tok, "中文，世界"), (Words{"中文", "，", "世界"}));
  // Combining marks (Mn) are not letters.
  EXPECT_EQ(words(tok, "e\u0301t"), (Words{"e", "\u0301", "t"}));
  EXPECT_EQ(words(tok, "a-b...c!"), (Words{"a", "-", "b", "...", "c", "!"}));
  // Ill-formed UTF-8 bytes are "other", one at a time.
  EXPECT_EQ(words(tok, "a\xC3(\xFF\xFE b"),
            (Words{"a", "\xC3(\xFF\xFE", " b"}));
}

TEST(TokenizerTest, SpecialTokens) {
  Vocab v;
  Tokenizer tok = v.build();
  int32_t start = v.id("<|im_start|>"), end = v.id("<|im_end|>");
  Ids user = bytes("user");
  Ids expected = {start};
  expected.insert(expected.end(), user.begin(), user.end());
  expected.push_back(end);
  EXPECT_EQ(tok.encode("<|im_start|>user<|im_end|>", true), expected);
  // Without parseSpecial, control tokens are text (no merge applies here).
  EXPECT_EQ(tok.encode("<|im_start|>user<|im_end|>", false),
            bytes("<|im_start|>user<|im_end|>"));
  // The longest match wins over the prefix token "<|im".
  EXPECT_EQ(tok.encode("<|im_end|>", true), (Ids{end}));
  EXPECT_EQ(tok.encode("<|im", true), (Ids{v.id("<|im")}));
  EXPECT_EQ(
      tok.encode("<|imx<|im_start", true),
      (Ids{v.id("<|im"), 'x', v.id("<|im"), '_', 's', 't', 'a', 'r', 't'}));
  // User-defined tokens are always matched.
  EXPECT_EQ(tok.encode("a<tool>b", false), (Ids{'a', v.id("<tool>"), 'b'}));
  // The text on each side is pre-tokenized on its own: the space before
  // <|im_end|> ends its piece, so it does not wait for a word.
  EXPECT_EQ(tok.encode(" <|im_end|> b", true), (Ids{' ', end, ' ', 'b'}));
  EXPECT_EQ(tok.encode("<|im_end|><|im_end|>", true), (Ids{end, end}));
}

TEST(TokenizerTest, DecodeInvertsEncode) {
  Vocab v;
  Tokenizer tok = v.build();
  // Tokens that split a character: the bytes are joined first.
  EXPECT_EQ(tok.decode(Ids{0xE4, 0xB8, 0xAD}), "中");
  EXPECT_EQ(tok.piece(0xE4), "\xE4");
  EXPECT_EQ(tok.piece(v.id("Ġthe")), " the");
  EXPECT_EQ(tok.piece(v.id("<|im_end|>")), "<|im_end|>");
  EXPECT_EQ(tok.piece(-1), "");
  EXPECT_EQ(tok.piece(270), "");
  // Ids out of range are skipped; control tokens can be.
  EXPECT_EQ(tok.decode(Ids{'a', -5, 9999, v.id("<|im_end|>")}), "a<|im_end|>");
  EXPECT_EQ(tok.decode(Ids{'a', v.id("<|im_end|>")}, /*skipSpecial=*/true),
            "a");

  std::mt19937 rng(1234);
  for (int trial = 0; trial < 500; ++trial) {
    std::string text;
    int length = std::uniform_int_distribution<int>(0, 40)(rng);
    for (int i = 0; i < length; ++i) {
      // Mostly ASCII and white space, with every plane represented.
      uint32_t cp;
      switch (std::uniform_int_distribution<int>(0, 4)(rng)) {
      case 0:
        cp = std::uniform_int_distribution<uint32_t>(0, 0x7F)(rng);
        break;
      case 1:
        cp = " \t\n'1a"[std::uniform_int_distribution<int>(0, 5)(rng)];
        break;
      default:
        do
          cp = std::uniform_int_distribution<uint32_t>(0x80, 0x10FFFF)(rng);
        while (cp >= 0xD800 && cp <= 0xDFFF);
      }
      text += utf8(cp);
      if (std::uniform_int_distribution<int>(0, 30)(rng) == 0)
        text += "<|im_end|>";
    }
    for (bool special : {false, true})
      EXPECT_EQ(tok.decode(tok.encode(text, special)), text) << trial;
  }
  // Any bytes, including ill-formed UTF-8.
  for (int trial = 0; trial < 200; ++trial) {
    std::string text(std::uniform_int_distribution<int>(0, 30)(rng), '\0');
    for (char &c : text)
      c = static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng));
    EXPECT_EQ(tok.decode(tok.encode(text, false)), text) << trial;
  }
}

TEST(TokenizerTest, Accessors) {
  Vocab v;
  Tokenizer tok = v.build();
  EXPECT_EQ(tok.bos(), 1);
  EXPECT_EQ(tok.eos(), 2);
  EXPECT_EQ(tok.specialIds().unknown, -1);
  EXPECT_EQ(tok.preType(), "smollm");
  EXPECT_EQ(tok.numMerges(), kMerges.size());
  EXPECT_EQ(tok.tokenId("Ġthe"), v.id("Ġthe"));
  EXPECT_EQ(tok.tokenId("nope"), std::nullopt);
  EXPECT_EQ(tok.tokenText(v.id("Ġthe")), "Ġthe");
  EXPECT_EQ(tok.tokenType(v.id("<tool>")), TokenType::UserDefined);
}

TEST(TokenizerTest, CreateErrors) {
  Vocab v;
  auto errorOf =
      [&](std::vector<std::string> tokens, std::vector<int32_t> types,
          std::vector<std::string> merges, SpecialIds ids, std::string pre) {
        std::string error;
        std::optional<Tokenizer> tok =
            Tokenizer::create(std::move(tokens), std::move(types),
                              std::move(merges), ids, std::move(pre), error);
        EXPECT_FALSE(tok);
        return error;
      };
  SpecialIds none;
  EXPECT_EQ(errorOf({}, {}, {}, none, "smollm"), "the vocabulary has 0 tokens");
  EXPECT_EQ(errorOf({"a"}, {1, 1}, {}, none, "smollm"),
            "there are 2 token types for 1 tokens");
  EXPECT_EQ(errorOf({"a"}, {9}, {}, none, "smollm"),
            "token 0 has unknown type 9");
  EXPECT_EQ(errorOf({"a"}, {}, {}, none, "llama-bpe"),
            "unsupported pre-tokenizer 'llama-bpe' (supported: gpt-2, smollm)");
  SpecialIds badEos;
  badEos.eos = 1;
  EXPECT_EQ(errorOf({"a"}, {}, {}, badEos, "smollm"),
            "eos id 1 is out of range (the vocabulary has 1 tokens)");
  EXPECT_EQ(errorOf({"a", "b"}, {}, {"ab"}, none, "gpt-2"),
            "merge 0 'ab' is not two tokens separated by a space");
  EXPECT_EQ(errorOf({"a", "b"}, {}, {"a "}, none, "gpt-2"),
            "merge 0 'a ' is not two tokens separated by a space");
  EXPECT_EQ(errorOf({"a", "b", "ab"}, {}, {"a b", "x b"}, none, "gpt-2"),
            "merge 1 'x b' has a left part that is not a token");
  EXPECT_EQ(errorOf({"a", "b"}, {}, {"a c"}, none, "gpt-2"),
            "merge 0 'a c' has a right part that is not a token");
  EXPECT_EQ(errorOf({"a", "b"}, {}, {"a b"}, none, "gpt-2"),
            "merge 0 'a b' makes 'ab', which is not a token");
}

TEST(TokenizerTest, RepeatedMergesTakeTheLastRank) {
  // "b c" is listed before and after "a b": as in HF, the later rank counts,
  // so "a b" goes first in "abc" (llama.cpp would keep rank 0 for "b c").
  std::string error;
  std::optional<Tokenizer> tok =
      Tokenizer::create({"a", "b", "c", "ab", "bc"}, {}, {"b c", "a b", "b c"},
                        {}, "gpt-2", error);
  ASSERT_TRUE(tok) << error;
  EXPECT_EQ(tok->encode("abc", false), (Ids{3, 2}));
  EXPECT_EQ(tok->encode("bc", false), (Ids{4}));
}

//===----------------------------------------------------------------------===//
// The tokenizer file
//===----------------------------------------------------------------------===//

namespace {

std::string le(uint64_t v, unsigned bytes) {
  std::string s;
  for (unsigned i = 0; i < bytes; ++i)
    s.push_back(static_cast<char>(i < 8 ? (v >> (8 * i)) & 0xFF : 0));
  return s;
}

std::string str(const std::string &s) { return le(s.size(), 4) + s; }

/// FNV-1a, 64 bits: offset basis 14695981039346656037, prime 2^40 + 435.
uint64_t fnv1a(const std::string &bytes) {
  uint64_t h = 14695981039346656037ull;
  for (char c : bytes)
    h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

/// A tokenizer file with `body`, as Tokenizer.h documents it.
std::string file(const std::string &body, uint32_t version = 1) {
  return "QNTTOKEN" + le(version, 4) + le(0, 4) + le(body.size(), 8) +
         le(fnv1a(body), 8) + body;
}

/// The body of a three-token tokenizer: a, b, ab (control), merge "a b".
std::string tinyBody(const std::string &merge = "a b") {
  return str("gpt-2") + le(0, 4) + le(1, 4) + le(0xFFFFFFFF, 4) +
         le(0xFFFFFFFF, 4) + le(1, 1) + le(3, 4) + le(1, 4) + str("a") +
         le(1, 4) + str("b") + le(3, 4) + str("ab") + le(1, 4) + str(merge);
}

std::string loadError(const std::string &bytes) {
  std::string error;
  std::optional<Tokenizer> tok = Tokenizer::deserialize(bytes, "t.tok", error);
  EXPECT_FALSE(tok);
  return error;
}

} // namespace

TEST(TokenizerFileTest, FormatIsAsDocumented) {
  std::string error;
  SpecialIds ids;
  ids.bos = 0;
  ids.eos = 1;
  ids.addBos = true;
  std::optional<Tokenizer> tok = Tokenizer::create(
      {"a", "b", "ab"}, {1, 1, 3}, {"a b"}, ids, "gpt-2", error);
  ASSERT_TRUE(tok) << error;
  EXPECT_EQ(tok->serialize(), file(tinyBody()));

  std::optional<Tokenizer> back =
      Tokenizer::deserialize(file(tinyBody()), "t.tok", error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->vocabSize(), 3u);
  EXPECT_EQ(back->bos(), 0);
  EXPECT_EQ(back->eos(), 1);
  EXPECT_EQ(back->specialIds().padding, -1);
  EXPECT_TRUE(back->specialIds().addBos);
  EXPECT_EQ(back->tokenType(2), TokenType::Control);
  EXPECT_EQ(back->encode("ab", false), (Ids{2}));
}

TEST(TokenizerFileTest, SaveLoadRoundTrip) {
  Vocab v;
  Tokenizer tok = v.build();
  std::string path = ::testing::TempDir() + "/qmlir-tokenizer-test.tok";
  std::string error;
  ASSERT_TRUE(tok.save(path, error)) << error;
  std::optional<Tokenizer> back = Tokenizer::load(path, error);
  std::remove(path.c_str());
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->serialize(), tok.serialize());
  EXPECT_EQ(back->preType(), "smollm");
  for (const char *text : {" the abc 12 it's <|im_start|>x<tool>", "中文"})
    for (bool special : {false, true})
      EXPECT_EQ(back->encode(text, special), tok.encode(text, special));
}

TEST(TokenizerFileTest, LoadErrors) {
  std::string good = file(tinyBody());
  EXPECT_EQ(loadError(""),
            "t.tok: not a quant-mlir tokenizer file (bad magic)");
  EXPECT_EQ(loadError("GGUF" + good.substr(4)),
            "t.tok: not a quant-mlir tokenizer file (bad magic)");
  EXPECT_EQ(loadError(good.substr(0, 20)),
            "t.tok: truncated header (20 bytes)");
  EXPECT_EQ(loadError(file(tinyBody(), 2)),
            "t.tok: unsupported tokenizer file version 2 (expected 1)");
  EXPECT_EQ(
      loadError(good.substr(0, good.size() - 1)),
      "t.tok: truncated: the header gives " + std::to_string(good.size() - 32) +
          " body bytes, the file has " + std::to_string(good.size() - 33));
  EXPECT_EQ(loadError(good + "x"), "t.tok: corrupt: the header gives " +
                                       std::to_string(good.size() - 32) +
                                       " body bytes, the file has " +
                                       std::to_string(good.size() - 31));
  std::string flipped = good;
  flipped[40] ^= 0x20;
  EXPECT_EQ(loadError(flipped),
            "t.tok: checksum mismatch (the file is corrupt)");
  // Consistent framing around a bad body: loading validates like create().
  EXPECT_EQ(loadError(file(tinyBody("a c"))),
            "t.tok: merge 0 'a c' has a right part that is not a token");
  EXPECT_EQ(loadError(file(tinyBody() + "zz")),
            "t.tok: 2 unexpected bytes after the merges");
  // 30 bytes of settings and the count, then 25 of the 28 token bytes.
  EXPECT_EQ(loadError(file(tinyBody().substr(0, 55))),
            "t.tok: truncated token 2");
  EXPECT_EQ(loadError(file(str("gpt-2") + le(0, 4))),
            "t.tok: truncated settings");
  // A huge count fails before allocating.
  EXPECT_EQ(loadError(file(str("gpt-2") + le(0, 17) + le(0xFFFFFFFF, 4))),
            "t.tok: bad token count");

  std::string error;
  EXPECT_FALSE(Tokenizer::load("/nonexistent/dir/t.tok", error));
  EXPECT_EQ(error, "/nonexistent/dir/t.tok: cannot open: No such file or "
                   "directory");
}

TEST(TokenizerFileTest, EveryTruncationAndCorruptionFailsCleanly) {
  Vocab v;
  std::string good = v.build().serialize();
  for (size_t n = 0; n < good.size(); n += (n < 64 ? 1 : 97))
    EXPECT_FALSE(loadError(good.substr(0, n)).empty()) << n;
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string bad = good;
    size_t pos = std::uniform_int_distribution<size_t>(0, bad.size() - 1)(rng);
    bad[pos] = static_cast<char>(
        bad[pos] ^ std::uniform_int_distribution<int>(1, 255)(rng));
    EXPECT_FALSE(loadError(bad).empty()) << pos;
  }
}
