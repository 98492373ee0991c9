//===- GgufTokenizer.cpp - The runtime tokenizer of a GGUF model ----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/GgufTokenizer.h"

#include "llvm/ADT/Twine.h"

#include <cstdint>

using namespace llvm;

namespace qmlir::gguf {

Expected<runtime::Tokenizer> tokenizerFromGguf(const GgufFile &file) {
  auto fail = [&](const Twine &message) -> Error {
    return createStringError(inconvertibleErrorCode(),
                             file.getPath() + ": " + message);
  };

  Expected<StringRef> model = file.getString("tokenizer.ggml.model");
  if (!model)
    return model.takeError();
  if (*model != "gpt2")
    return fail("unsupported tokenizer.ggml.model '" + *model +
                "' (the runtime tokenizer implements 'gpt2', byte-level BPE)");
  Expected<StringRef> pre = file.getString("tokenizer.ggml.pre");
  if (!pre)
    return pre.takeError();
  if (!runtime::Tokenizer::supportsPreType(*pre))
    return fail("unsupported tokenizer.ggml.pre '" + *pre + "' (supported: " +
                runtime::Tokenizer::supportedPreTypes() + ")");

  Expected<ArrayRef<StringRef>> tokenRefs =
      file.getStringArray("tokenizer.ggml.tokens");
  if (!tokenRefs)
    return tokenRefs.takeError();
  Expected<ArrayRef<StringRef>> mergeRefs =
      file.getStringArray("tokenizer.ggml.merges");
  if (!mergeRefs)
    return mergeRefs.takeError();
  std::vector<std::string> tokens(tokenRefs->begin(), tokenRefs->end());
  std::vector<std::string> merges(mergeRefs->begin(), mergeRefs->end());

  std::vector<int32_t> types;
  if (file.hasKey("tokenizer.ggml.token_type")) {
    Expected<std::vector<int64_t>> values =
        file.getIntArray("tokenizer.ggml.token_type");
    if (!values)
      return values.takeError();
    for (int64_t v : *values) {
      if (v < INT32_MIN || v > INT32_MAX)
        return fail("tokenizer.ggml.token_type has value " + Twine(v) +
                    ", which is not a token type");
      types.push_back(static_cast<int32_t>(v));
    }
  }

  runtime::SpecialIds ids;
  for (auto [key, id] : {std::pair<const char *, int32_t *>{
                             "tokenizer.ggml.bos_token_id", &ids.bos},
                         {"tokenizer.ggml.eos_token_id", &ids.eos},
                         {"tokenizer.ggml.unknown_token_id", &ids.unknown},
                         {"tokenizer.ggml.padding_token_id", &ids.padding}}) {
    if (!file.hasKey(key))
      continue;
    Expected<uint64_t> value = file.getUInt(key);
    if (!value)
      return value.takeError();
    if (*value >= tokens.size())
      return fail(Twine(key) + " is " + Twine(*value) +
                  ", past the vocabulary of " + Twine(tokens.size()) +
                  " tokens");
    *id = static_cast<int32_t>(*value);
  }
  if (file.hasKey("tokenizer.ggml.add_bos_token")) {
    Expected<bool> addBos = file.getBool("tokenizer.ggml.add_bos_token");
    if (!addBos)
      return addBos.takeError();
    ids.addBos = *addBos;
  }

  std::string error;
  std::optional<runtime::Tokenizer> tok =
      runtime::Tokenizer::create(std::move(tokens), std::move(types),
                                 std::move(merges), ids, pre->str(), error);
  if (!tok)
    return fail("bad tokenizer metadata: " + error);
  return std::move(*tok);
}

} // namespace qmlir::gguf
