//===- GgufTokenizerTest.cpp - Tests for tokenizerFromGguf ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Small GGUF files from GgufTestWriter.h with tokenizer metadata, and the
// errors for each missing or unsupported key. The SmolLM2 test runs when
// QMLIR_SMOLLM2_GGUF names SmolLM2-135M-Instruct.Q4_1.gguf; its ids come from
// Hugging Face `tokenizers` (test/reference/hf_tokenize.py encode).
//
//===----------------------------------------------------------------------===//

#include "GgufTestWriter.h"

#include "qmlir/Import/GgufTokenizer.h"

#include "gtest/gtest.h"

#include <cstdlib>

using namespace qmlir::gguf;
using namespace qmlir::gguf::testing;
using qmlir::runtime::Tokenizer;

namespace {

std::string strings(const std::vector<std::string> &values) {
  std::vector<std::string> encoded;
  for (const std::string &v : values)
    encoded.push_back(str(v));
  return array(kString, encoded);
}

/// Tokens a, b, ab (control); merge "a b"; the keys a test leaves out or
/// overrides are skipped.
struct TokenizerGguf {
  std::string model = "gpt2";
  std::string pre = "smollm";
  bool withTokens = true, withTypes = true, withMerges = true;
  uint32_t bos = 2;
  std::string merge = "a b";

  std::string build() const {
    GgufWriter w;
    if (!model.empty())
      w.addString("tokenizer.ggml.model", model);
    if (!pre.empty())
      w.addString("tokenizer.ggml.pre", pre);
    if (withTokens)
      w.add("tokenizer.ggml.tokens", kArray, strings({"a", "b", "ab"}));
    if (withTypes)
      w.add("tokenizer.ggml.token_type", kArray,
            array(kI32, {le(1, 4), le(1, 4), le(3, 4)}));
    if (withMerges)
      w.add("tokenizer.ggml.merges", kArray, strings({merge}));
    w.addU32("tokenizer.ggml.bos_token_id", bos);
    w.addU32("tokenizer.ggml.eos_token_id", 1);
    w.add("tokenizer.ggml.add_bos_token", kBool, le(1, 1));
    return w.build();
  }
};

llvm::Expected<Tokenizer> fromBytes(const std::string &bytes,
                                    std::unique_ptr<GgufFile> &file) {
  auto parsed =
      GgufFile::parse(llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.gguf"));
  if (!parsed)
    return parsed.takeError();
  file = std::move(*parsed);
  return tokenizerFromGguf(*file);
}

std::string errorOf(const TokenizerGguf &spec) {
  std::unique_ptr<GgufFile> file;
  llvm::Expected<Tokenizer> tok = fromBytes(spec.build(), file);
  if (tok)
    return "";
  return llvm::toString(tok.takeError());
}

} // namespace

TEST(GgufTokenizerTest, BuildsFromMetadata) {
  std::unique_ptr<GgufFile> file;
  llvm::Expected<Tokenizer> tok = fromBytes(TokenizerGguf().build(), file);
  ASSERT_TRUE(bool(tok)) << llvm::toString(tok.takeError());
  EXPECT_EQ(tok->vocabSize(), 3u);
  EXPECT_EQ(tok->preType(), "smollm");
  EXPECT_EQ(tok->bos(), 2);
  EXPECT_EQ(tok->eos(), 1);
  EXPECT_EQ(tok->specialIds().unknown, -1);
  EXPECT_TRUE(tok->specialIds().addBos);
  EXPECT_EQ(tok->tokenType(2), qmlir::runtime::TokenType::Control);
  EXPECT_EQ(tok->encode("ab", false), (std::vector<int32_t>{2}));
}

TEST(GgufTokenizerTest, Errors) {
  TokenizerGguf spec;
  spec.model = "";
  EXPECT_EQ(errorOf(spec),
            "test.gguf: metadata key 'tokenizer.ggml.model' is missing");
  spec = {};
  spec.model = "llama";
  EXPECT_EQ(errorOf(spec), "test.gguf: unsupported tokenizer.ggml.model "
                           "'llama' (the runtime tokenizer implements 'gpt2', "
                           "byte-level BPE)");
  spec = {};
  spec.pre = "";
  EXPECT_EQ(errorOf(spec),
            "test.gguf: metadata key 'tokenizer.ggml.pre' is missing");
  spec = {};
  spec.pre = "llama-bpe";
  EXPECT_EQ(errorOf(spec), "test.gguf: unsupported tokenizer.ggml.pre "
                           "'llama-bpe' (supported: gpt-2, smollm)");
  spec = {};
  spec.withTokens = false;
  EXPECT_EQ(errorOf(spec),
            "test.gguf: metadata key 'tokenizer.ggml.tokens' is missing");
  spec = {};
  spec.withMerges = false;
  EXPECT_EQ(errorOf(spec),
            "test.gguf: metadata key 'tokenizer.ggml.merges' is missing");
  spec = {};
  spec.bos = 3;
  EXPECT_EQ(errorOf(spec), "test.gguf: tokenizer.ggml.bos_token_id is 3, "
                           "past the vocabulary of 3 tokens");
  spec = {};
  spec.merge = "a c";
  EXPECT_EQ(errorOf(spec), "test.gguf: bad tokenizer metadata: merge 0 'a c' "
                           "has a right part that is not a token");
  // token_type is optional: all tokens are then normal.
  spec = {};
  spec.withTypes = false;
  std::unique_ptr<GgufFile> file;
  llvm::Expected<Tokenizer> tok = fromBytes(spec.build(), file);
  ASSERT_TRUE(bool(tok)) << llvm::toString(tok.takeError());
  EXPECT_EQ(tok->tokenType(2), qmlir::runtime::TokenType::Normal);
}

TEST(GgufTokenizerSmolLM2Test, MatchesHuggingFace) {
  const char *path = std::getenv("QMLIR_SMOLLM2_GGUF");
  if (!path || !*path)
    GTEST_SKIP() << "set QMLIR_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf "
                    "to run this test";
  auto file = GgufFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  llvm::Expected<Tokenizer> tok = tokenizerFromGguf(**file);
  ASSERT_TRUE(bool(tok)) << llvm::toString(tok.takeError());
  EXPECT_EQ(tok->vocabSize(), 49152u);
  EXPECT_EQ(tok->numMerges(), 48900u);
  EXPECT_EQ(tok->preType(), "smollm");
  EXPECT_EQ(tok->bos(), 1);
  EXPECT_EQ(tok->eos(), 2);
  EXPECT_EQ(tok->specialIds().unknown, 0);
  EXPECT_EQ(tok->specialIds().padding, 2);
  EXPECT_FALSE(tok->specialIds().addBos);
  EXPECT_EQ(tok->tokenId("<|im_end|>"), 2);

  using Ids = std::vector<int32_t>;
  EXPECT_EQ(tok->encode("Hello world 123 it's  a test", false),
            (Ids{19556, 905, 216, 33, 34, 35, 357, 506, 216, 253, 1028}));
  EXPECT_EQ(tok->encode("<|im_start|>user\nWhat is the capital of "
                        "France?<|im_end|>\n",
                        true),
            (Ids{1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198}));
  EXPECT_EQ(tok->decode(Ids{19556, 905}), "Hello world");
}
