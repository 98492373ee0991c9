//===- Tokenizer.cpp - Byte-level BPE tokenizer of the runtime ------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Building the lookup tables, the pre-tokenizer (a hand-written matcher of
// the GPT-2 regex, as llama.cpp has, since std::regex knows no \p{L}) and the
// BPE merge loop. The merge loop is Hugging Face's Word::merge_all: a heap of
// candidate pairs ordered by (rank, position), where a popped pair whose
// symbols have changed since it was pushed is skipped.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/Tokenizer.h"

#include "Unicode.h"

#include <algorithm>
#include <queue>

namespace qmlir::runtime {

using unicode::CharClass;

namespace {

//===----------------------------------------------------------------------===//
// The GPT-2 byte alphabet
//===----------------------------------------------------------------------===//

/// GPT-2's bytes_to_unicode(): the printable Latin-1 bytes stand for
/// themselves, the other 68 for U+0100.. in byte order, so that every
/// token is printable text.
struct ByteAlphabet {
  uint32_t codePoint[256];
  /// Code point -> byte for code points below 0x144; -1 for the others.
  int16_t byteOf[0x144];

  ByteAlphabet() {
    std::fill(std::begin(byteOf), std::end(byteOf), -1);
    uint32_t next = 0x100;
    for (uint32_t b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) ||
                       (b >= 0xAE && b <= 0xFF);
      codePoint[b] = printable ? b : next++;
      byteOf[codePoint[b]] = static_cast<int16_t>(b);
    }
  }
};

const ByteAlphabet &byteAlphabet() {
  static const ByteAlphabet alphabet;
  return alphabet;
}

/// The bytes a byte-alphabet string stands for; nullopt if some character
/// is not in the alphabet.
std::optional<std::string> decodeByteAlphabet(const std::string &text) {
  const ByteAlphabet &alphabet = byteAlphabet();
  std::string bytes;
  for (size_t i = 0; i < text.size();) {
    uint32_t cp;
    i += unicode::decodeUtf8(text.data() + i, text.size() - i, cp);
    if (cp >= 0x144 || alphabet.byteOf[cp] < 0)
      return std::nullopt;
    bytes.push_back(static_cast<char>(alphabet.byteOf[cp]));
  }
  return bytes;
}

/// Special tokens that encode() matches in the text, and whether always.
std::optional<bool> matchedAlways(TokenType type) {
  if (type == TokenType::UserDefined)
    return true;
  if (type == TokenType::Control || type == TokenType::Unknown)
    return false;
  return std::nullopt;
}

uint64_t pairKey(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
         static_cast<uint32_t>(right);
}

//===----------------------------------------------------------------------===//
// Pre-tokenization
//===----------------------------------------------------------------------===//

/// The code points of a piece of text with their regex classes, whether
/// HF's Digits splits them off, and byte offsets (one more: the end).
struct CodePoints {
  std::vector<uint32_t> cps;
  std::vector<CharClass> classes;
  std::vector<bool> digits;
  std::vector<size_t> offsets;

  CodePoints(std::string_view text, bool splitDigits) {
    cps.reserve(text.size());
    classes.reserve(text.size());
    offsets.reserve(text.size() + 1);
    for (size_t i = 0; i < text.size();) {
      uint32_t cp;
      size_t len = unicode::decodeUtf8(text.data() + i, text.size() - i, cp);
      // A bad byte is "other", as U+FFFD (which llama.cpp puts there) is.
      bool valid = cp != unicode::kInvalid;
      cps.push_back(cp);
      classes.push_back(valid ? unicode::classify(cp) : CharClass::Other);
      if (splitDigits)
        digits.push_back(valid && unicode::isDigitSplit(cp));
      offsets.push_back(i);
      i += len;
    }
    offsets.push_back(text.size());
  }
  size_t size() const { return cps.size(); }
};

/// Splits code points [begin, end) like the regex
///   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
/// with `end` as the end of the text; calls emit(first, end) with the code
/// point range of each word.
template <typename Fn>
void splitGpt2(const CodePoints &text, size_t begin, size_t end, Fn &&emit) {
  const std::vector<uint32_t> &cps = text.cps;
  const std::vector<CharClass> &cls = text.classes;
  size_t i = begin;
  while (i < end) {
    // 's|'t|'re|'ve|'m|'ll|'d (case-sensitive, ASCII apostrophe only).
    if (cps[i] == '\'' && i + 1 < end) {
      uint32_t c1 = cps[i + 1];
      if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
        emit(i, i + 2);
        i += 2;
        continue;
      }
      if (i + 2 < end) {
        uint32_t c2 = cps[i + 2];
        if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
            (c1 == 'l' && c2 == 'l')) {
          emit(i, i + 3);
          i += 3;
          continue;
        }
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+` and ` ?[^\s\p{L}\p{N}]+`: an optional U+0020,
    // then a run of one class other than whitespace.
    size_t k = i;
    if (cps[k] == ' ' && k + 1 < end && cls[k + 1] != CharClass::WhiteSpace)
      ++k;
    if (cls[k] != CharClass::WhiteSpace) {
      CharClass run = cls[k];
      while (k < end && cls[k] == run)
        ++k;
      emit(i, k);
      i = k;
      continue;
    }
    // `\s+(?!\S)|\s+`: a run that reaches the end is taken whole; one
    // followed by more text leaves its last character to start the next
    // word (" word"), unless it is a single character.
    size_t j = i;
    while (j < end && cls[j] == CharClass::WhiteSpace)
      ++j;
    if (j < end && j - i >= 2)
      --j;
    emit(i, j);
    i = j;
  }
}

} // namespace

//===----------------------------------------------------------------------===//
// Construction
//===----------------------------------------------------------------------===//

bool Tokenizer::supportsPreType(std::string_view preType) {
  // "smollm" is GPT-2 with each digit alone. llama.cpp splits starcoder,
  // refact and others the same way, but their HF tokenizers are unchecked.
  return preType == "gpt-2" || preType == "smollm";
}

const char *Tokenizer::supportedPreTypes() { return "gpt-2, smollm"; }

std::optional<Tokenizer> Tokenizer::create(std::vector<std::string> tokens,
                                           std::vector<int32_t> tokenTypes,
                                           std::vector<std::string> merges,
                                           SpecialIds ids, std::string preType,
                                           std::string &error) {
  Tokenizer tok;
  size_t n = tokens.size();
  if (n == 0 || n > static_cast<size_t>(INT32_MAX)) {
    error = "the vocabulary has " + std::to_string(n) + " tokens";
    return std::nullopt;
  }
  if (!tokenTypes.empty() && tokenTypes.size() != n) {
    error = "there are " + std::to_string(tokenTypes.size()) +
            " token types for " + std::to_string(n) + " tokens";
    return std::nullopt;
  }
  if (!supportsPreType(preType)) {
    error = "unsupported pre-tokenizer '" + preType +
            "' (supported: " + supportedPreTypes() + ")";
    return std::nullopt;
  }
  tok.splitDigits = preType == "smollm";
  tok.preTypeName = std::move(preType);

  tok.types.assign(n, TokenType::Normal);
  for (size_t i = 0; i < tokenTypes.size(); ++i) {
    int32_t t = tokenTypes[i];
    if (t < 0 || t > static_cast<int32_t>(TokenType::Byte)) {
      error = "token " + std::to_string(i) + " has unknown type " +
              std::to_string(t);
      return std::nullopt;
    }
    tok.types[i] = static_cast<TokenType>(t);
  }

  for (auto [name, id] : {std::pair<const char *, int32_t>{"bos", ids.bos},
                          {"eos", ids.eos},
                          {"unknown", ids.unknown},
                          {"padding", ids.padding}}) {
    if (id < -1 || id >= static_cast<int64_t>(n)) {
      error = std::string(name) + " id " + std::to_string(id) +
              " is out of range (the vocabulary has " + std::to_string(n) +
              " tokens)";
      return std::nullopt;
    }
  }
  tok.special = ids;

  // Last duplicate wins, as in llama.cpp (and in a Python dict).
  tok.tokenIds.reserve(n);
  for (size_t i = 0; i < n; ++i)
    tok.tokenIds[tokens[i]] = static_cast<int32_t>(i);

  // Vocabularies may lack bytes that text rarely has (SmolLM2 has no token
  // for 0xC0, 0xC1, 0xF1, 0xF2, 0xF5..0xFF and six control characters).
  const ByteAlphabet &alphabet = byteAlphabet();
  for (int b = 0; b < 256; ++b) {
    char utf8[4];
    size_t len = unicode::encodeUtf8(alphabet.codePoint[b], utf8);
    auto it = tok.tokenIds.find(std::string(utf8, len));
    tok.byteTokens[b] = it == tok.tokenIds.end() ? -1 : it->second;
  }

  tok.mergeRanks.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string &merge = merges[rank];
    auto fail = [&](const std::string &why) {
      error = "merge " + std::to_string(rank) + " '" + merge + "' " + why;
      return std::nullopt;
    };
    // Like llama.cpp, split at the first space after the first byte.
    size_t space = merge.find(' ', 1);
    if (space == std::string::npos || space + 1 == merge.size())
      return fail("is not two tokens separated by a space");
    std::string left = merge.substr(0, space);
    std::string right = merge.substr(space + 1);
    auto l = tok.tokenIds.find(left), r = tok.tokenIds.find(right),
         result = tok.tokenIds.find(left + right);
    if (l == tok.tokenIds.end())
      return fail("has a left part that is not a token");
    if (r == tok.tokenIds.end())
      return fail("has a right part that is not a token");
    if (result == tok.tokenIds.end())
      return fail("makes '" + left + right + "', which is not a token");
    // A repeated merge takes the later rank, as in HF (which builds a hash
    // map from the list); llama.cpp keeps the first.
    tok.mergeRanks[pairKey(l->second, r->second)] =
        (static_cast<uint64_t>(rank) << 32) |
        static_cast<uint32_t>(result->second);
  }

  tok.pieces.resize(n);
  for (size_t i = 0; i < n; ++i) {
    std::optional<bool> always = matchedAlways(tok.types[i]);
    if (always) {
      // Control and user-defined tokens are text as is (<|im_start|>).
      tok.pieces[i] = tokens[i];
      if (!tokens[i].empty())
        tok.specialTokens.push_back(
            {tokens[i], static_cast<int32_t>(i), *always});
      continue;
    }
    // Like HF's ByteLevel decoder: a token with a character outside the
    // byte alphabet stands for its own UTF-8.
    std::optional<std::string> bytes = decodeByteAlphabet(tokens[i]);
    tok.pieces[i] = bytes ? std::move(*bytes) : tokens[i];
  }
  std::stable_sort(tok.specialTokens.begin(), tok.specialTokens.end(),
                   [](const SpecialToken &a, const SpecialToken &b) {
                     return a.text.size() > b.text.size();
                   });
  for (const SpecialToken &s : tok.specialTokens)
    tok.specialFirstBytes[static_cast<uint8_t>(s.text[0])] |= s.always ? 1 : 2;

  tok.tokens = std::move(tokens);
  tok.merges = std::move(merges);
  return tok;
}

std::optional<int32_t> Tokenizer::tokenId(std::string_view text) const {
  auto it = tokenIds.find(std::string(text));
  if (it == tokenIds.end())
    return std::nullopt;
  return it->second;
}

//===----------------------------------------------------------------------===//
// Encoding
//===----------------------------------------------------------------------===//

template <typename Fn>
void Tokenizer::forEachWord(std::string_view text, Fn &&emit) const {
  CodePoints cps(text, splitDigits);
  auto emitRange = [&](size_t first, size_t last) {
    emit(text.substr(cps.offsets[first],
                     cps.offsets[last] - cps.offsets[first]));
  };
  if (!splitDigits) {
    splitGpt2(cps, 0, cps.size(), emitRange);
    return;
  }
  // HF's Digits(individual_digits): each number is a piece of its own and
  // the regex runs inside the pieces between them.
  size_t begin = 0;
  for (size_t i = 0; i <= cps.size(); ++i) {
    if (i < cps.size() && !cps.digits[i])
      continue;
    splitGpt2(cps, begin, i, emitRange);
    if (i < cps.size())
      emitRange(i, i + 1);
    begin = i + 1;
  }
}

std::vector<std::string_view>
Tokenizer::preTokenize(std::string_view text) const {
  std::vector<std::string_view> words;
  forEachWord(text, [&](std::string_view word) { words.push_back(word); });
  return words;
}

void Tokenizer::encodeWord(std::string_view word,
                           std::vector<int32_t> &out) const {
  // Symbols in a doubly linked list over the word's bytes; a merge keeps
  // the left symbol and unlinks the right one. Bytes without a token are
  // left out before merging, as HF's BPE (without unk_token) does.
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
  };
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  for (char c : word) {
    int32_t id = byteTokens[static_cast<uint8_t>(c)];
    if (id < 0)
      continue;
    int32_t pos = static_cast<int32_t>(symbols.size());
    if (pos > 0)
      symbols.back().next = pos;
    symbols.push_back({id, pos - 1, -1});
  }
  if (symbols.size() <= 1) {
    if (!symbols.empty())
      out.push_back(symbols[0].id);
    return;
  }

  struct Candidate {
    uint32_t rank;
    int32_t pos;
    int32_t result;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>,
                      std::greater<Candidate>>
      queue;
  auto push = [&](int32_t pos) {
    if (pos < 0 || symbols[pos].next < 0)
      return;
    auto it = mergeRanks.find(
        pairKey(symbols[pos].id, symbols[symbols[pos].next].id));
    if (it != mergeRanks.end())
      queue.push({static_cast<uint32_t>(it->second >> 32), pos,
                  static_cast<int32_t>(it->second & 0xFFFFFFFF)});
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    push(static_cast<int32_t>(i));

  std::vector<bool> removed(symbols.size(), false);
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol &left = symbols[top.pos];
    if (removed[top.pos] || left.next < 0)
      continue;
    // Stale if the pair at `pos` no longer makes this result (HF checks the
    // same thing).
    int32_t rightPos = left.next;
    auto it = mergeRanks.find(pairKey(left.id, symbols[rightPos].id));
    if (it == mergeRanks.end() ||
        static_cast<int32_t>(it->second & 0xFFFFFFFF) != top.result)
      continue;
    left.id = top.result;
    left.next = symbols[rightPos].next;
    if (left.next >= 0)
      symbols[left.next].prev = top.pos;
    removed[rightPos] = true;
    push(left.prev);
    push(top.pos);
  }
  for (int32_t pos = 0; pos >= 0; pos = symbols[pos].next)
    out.push_back(symbols[pos].id);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text,
                                       bool parseSpecial) const {
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3);
  // Words repeat a lot in running text; the cache lives for one call so
  // that encode() stays const and thread-safe.
  std::unordered_map<std::string_view, std::vector<int32_t>> cache;
  auto encodeText = [&](std::string_view piece) {
    forEachWord(piece, [&](std::string_view word) {
      auto [it, inserted] = cache.try_emplace(word);
      if (inserted)
        encodeWord(word, it->second);
      ids.insert(ids.end(), it->second.begin(), it->second.end());
    });
  };

  uint8_t mask = parseSpecial ? 3 : 1;
  size_t start = 0;
  for (size_t pos = 0; pos < text.size();) {
    if (!(specialFirstBytes[static_cast<uint8_t>(text[pos])] & mask)) {
      ++pos;
      continue;
    }
    // Leftmost, then longest (the list is sorted longest first), as HF's
    // added-token matcher.
    const SpecialToken *match = nullptr;
    for (const SpecialToken &s : specialTokens) {
      if ((s.always || parseSpecial) &&
          text.compare(pos, s.text.size(), s.text) == 0) {
        match = &s;
        break;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    encodeText(text.substr(start, pos - start));
    ids.push_back(match->id);
    pos += match->text.size();
    start = pos;
  }
  encodeText(text.substr(start));
  return ids;
}

//===----------------------------------------------------------------------===//
// Decoding
//===----------------------------------------------------------------------===//

std::string_view Tokenizer::piece(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces.size())
    return {};
  return pieces[id];
}

std::string Tokenizer::decode(const int32_t *ids, size_t count,
                              bool skipSpecial) const {
  std::string text;
  for (size_t i = 0; i < count; ++i) {
    int32_t id = ids[i];
    if (id < 0 || static_cast<size_t>(id) >= pieces.size())
      continue;
    if (skipSpecial && types[id] == TokenType::Control)
      continue;
    text += pieces[id];
  }
  return text;
}

} // namespace qmlir::runtime
