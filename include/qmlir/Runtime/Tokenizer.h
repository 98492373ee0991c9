//===- Tokenizer.h - Byte-level BPE tokenizer of the runtime ----*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The model's own tokenizer, for the runtime: a byte-level BPE (GPT-2 style)
// tokenizer built from GGUF tokenizer metadata (tokenizer.ggml.model "gpt2")
// that gives the same ids as Hugging Face `tokenizers` and llama.cpp. Plain
// C++17 without MLIR or LLVM so that the runtime can link it.
//
// Encoding, as llama.cpp and Hugging Face do it:
//  1. Special tokens: with parseSpecial, control tokens (and always the
//     user-defined ones) found in the text become single ids, taking the
//     leftmost and then the longest match; the text between them goes on.
//  2. Pre-tokenization of each piece of text: for "smollm" first every
//     number becomes a piece of its own (HF's Digits with individual_digits,
//     which asks Rust's char::is_numeric, Unicode 17.0); then the GPT-2 regex
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     (with HF's Oniguruma classes, Unicode 16.0) splits each piece into
//     words, each piece's end acting as the end of the text for the
//     lookahead.
//  3. Each word's bytes map to the GPT-2 byte alphabet (one token per byte)
//     and merges apply lowest rank first, leftmost first among equal ranks.
//     Bytes that have no token are dropped before merging, as HF's BPE
//     without an unk_token does (SmolLM2 has none for 21 bytes: 0xC0,
//     0xC1, 0xF1, 0xF2, 0xF5..0xFF and six rare control characters).
// Ill-formed UTF-8 is not rejected: each bad byte is an "other" character,
// so decode(encode(x)) == x for any bytes that all have tokens.
//
// Tokenizer file (save/load), all integers little-endian:
//   magic     8 bytes  "QNTTOKEN"
//   version   u32      1
//   reserved  u32      0 (anything else is refused)
//   size      u64      number of body bytes that follow the checksum
//   checksum  u64      FNV-1a (64-bit) of the body
//   body:     str preType; i32 bos, eos, unknown, padding; u8 addBos;
//             u32 n; n x (i32 type, str text); u32 m; m x str merge
// where str is a u32 byte length and the bytes. Loading checks every length
// and the checksum and then validates like create().
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_TOKENIZER_H
#define QMLIR_RUNTIME_TOKENIZER_H

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace qmlir::runtime {

/// Kinds of vocabulary entries, with GGUF's tokenizer.ggml.token_type values.
enum class TokenType : int32_t {
  Undefined = 0,
  Normal = 1,
  Unknown = 2,
  Control = 3,
  UserDefined = 4,
  Unused = 5,
  Byte = 6,
};

/// The first 8 bytes of a tokenizer file (save/load).
inline constexpr char kTokenizerFileMagic[9] = "QNTTOKEN";

/// Ids of the special tokens; -1 where the model has none.
struct SpecialIds {
  int32_t bos = -1;
  int32_t eos = -1;
  int32_t unknown = -1;
  int32_t padding = -1;
  /// Whether prompts start with bos (tokenizer.ggml.add_bos_token). encode()
  /// never adds it; callers that build prompts do.
  bool addBos = false;
};

class Tokenizer {
public:
  /// Builds a tokenizer. `tokens` are the vocabulary strings in the byte
  /// alphabet ("Ġthe"), `tokenTypes` one TokenType value per token (empty
  /// means all Normal), `merges` the "left right" pairs in rank order.
  /// `preType` is tokenizer.ggml.pre: "smollm" (digits split) or "gpt-2".
  /// Fails, with a one-line reason in `error`, when the pieces are
  /// inconsistent: sizes, out-of-range ids, a merge whose parts or result
  /// are not tokens, an unknown pre-tokenizer. A repeated token string
  /// means its last id and a repeated merge its last rank, as in HF.
  static std::optional<Tokenizer> create(std::vector<std::string> tokens,
                                         std::vector<int32_t> tokenTypes,
                                         std::vector<std::string> merges,
                                         SpecialIds ids, std::string preType,
                                         std::string &error);

  /// Whether create() implements a tokenizer.ggml.pre value, and the list
  /// of those ("gpt-2, smollm") for messages.
  static bool supportsPreType(std::string_view preType);
  static const char *supportedPreTypes();

  /// Reads a file written by save(); `error` starts with the path.
  static std::optional<Tokenizer> load(const std::string &path,
                                       std::string &error);
  /// Writes the tokenizer file; false with `error` set on I/O failure.
  bool save(const std::string &path, std::string &error) const;
  /// The file's bytes, and parsing them (`name` prefixes errors).
  std::string serialize() const;
  static std::optional<Tokenizer> deserialize(std::string_view bytes,
                                              const std::string &name,
                                              std::string &error);

  /// The ids of `text`. With parseSpecial, control tokens in the text
  /// (<|im_start|>) are matched as such; user-defined tokens always are.
  std::vector<int32_t> encode(std::string_view text, bool parseSpecial) const;
  /// The bytes of `ids` concatenated: UTF-8 text when the ids came from
  /// encode(), even where tokens split a multi-byte character. Control
  /// tokens give their text unless skipSpecial. Ids out of range are
  /// skipped.
  std::string decode(const int32_t *ids, size_t count,
                     bool skipSpecial = false) const;
  std::string decode(const std::vector<int32_t> &ids,
                     bool skipSpecial = false) const {
    return decode(ids.data(), ids.size(), skipSpecial);
  }
  /// The bytes that token `id` stands for (possibly part of a UTF-8
  /// character); empty for ids out of range.
  std::string_view piece(int32_t id) const;

  /// The words that the pre-tokenizer splits `text` into (no special-token
  /// matching), as views into `text`; for tests and debugging.
  std::vector<std::string_view> preTokenize(std::string_view text) const;

  size_t vocabSize() const { return tokens.size(); }
  /// The vocabulary string of `id` (in the byte alphabet), as in the model.
  const std::string &tokenText(int32_t id) const { return tokens.at(id); }
  TokenType tokenType(int32_t id) const { return types.at(id); }
  /// The id of a vocabulary string ("<|im_end|>"), if any.
  std::optional<int32_t> tokenId(std::string_view text) const;
  const std::string &preType() const { return preTypeName; }
  const SpecialIds &specialIds() const { return special; }
  int32_t bos() const { return special.bos; }
  int32_t eos() const { return special.eos; }
  /// The number of merges (rank order as given to create()).
  size_t numMerges() const { return merges.size(); }

private:
  Tokenizer() = default;

  /// Appends the BPE ids of one pre-tokenized word.
  void encodeWord(std::string_view word, std::vector<int32_t> &out) const;
  /// Calls `emit` with each word of one special-token-free piece of text.
  template <typename Fn>
  void forEachWord(std::string_view text, Fn &&emit) const;

  std::vector<std::string> tokens;
  std::vector<TokenType> types;
  std::vector<std::string> merges;
  SpecialIds special;
  std::string preTypeName;
  bool splitDigits = false;

  /// Decoded bytes of every token.
  std::vector<std::string> pieces;
  std::unordered_map<std::string, int32_t> tokenIds;
  /// The token of each byte of the byte alphabet, or -1.
  int32_t byteTokens[256] = {};
  /// (left id << 32 | right id) -> (rank << 32 | result id).
  std::unordered_map<uint64_t, uint64_t> mergeRanks;
  /// Tokens matched in the text, longest first: control and unknown ones
  /// (parseSpecial only) and user-defined ones (always).
  struct SpecialToken {
    std::string text;
    int32_t id;
    bool always;
  };
  std::vector<SpecialToken> specialTokens;
  /// Per first byte: bit 0 if an always-matched token starts with it, bit 1
  /// if a parseSpecial one does; lets encode() skip most positions at once.
  uint8_t specialFirstBytes[256] = {};
};

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_TOKENIZER_H
