//===- HfTokenizer.cpp - The runtime tokenizer from tokenizer.json --------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/HfTokenizer.h"

#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

using namespace llvm;

namespace qmlir::hf {

/// The pre-tokenizer kind of a tokenizer.json "pre_tokenizer" value.
static std::optional<std::string> preType(const json::Value *pre) {
  const json::Object *o = pre ? pre->getAsObject() : nullptr;
  if (!o)
    return std::nullopt;
  std::optional<StringRef> type = o->getString("type");
  if (type == "ByteLevel")
    return std::string("gpt-2");
  if (type != "Sequence")
    return std::nullopt;
  const json::Array *seq = o->getArray("pretokenizers");
  if (!seq || seq->size() != 2)
    return std::nullopt;
  const json::Object *digits = (*seq)[0].getAsObject();
  const json::Object *bytes = (*seq)[1].getAsObject();
  if (digits && bytes && digits->getString("type") == "Digits" &&
      digits->getBoolean("individual_digits") == true &&
      bytes->getString("type") == "ByteLevel")
    return std::string("smollm");
  return std::nullopt;
}

Expected<runtime::Tokenizer> tokenizerFromJson(StringRef path, int32_t bos,
                                               int32_t eos) {
  auto fail = [&](const Twine &message) -> Error {
    return createStringError(inconvertibleErrorCode(),
                             path + ": " + message);
  };
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return fail("cannot read: " + buffer.getError().message());
  Expected<json::Value> root = json::parse((*buffer)->getBuffer());
  if (!root)
    return fail("invalid JSON: " + toString(root.takeError()));
  const json::Object *top = root->getAsObject();
  const json::Object *model = top ? top->getObject("model") : nullptr;
  if (!model)
    return fail("no \"model\" object");
  if (model->getString("type") != "BPE")
    return fail("model type '" + model->getString("type").value_or("?") +
                "' is not supported (only BPE)");
  std::optional<std::string> pre = preType(top->get("pre_tokenizer"));
  if (!pre)
    return fail("unsupported pre_tokenizer (supported: ByteLevel, or Digits "
                "with individual_digits followed by ByteLevel)");

  const json::Object *vocab = model->getObject("vocab");
  const json::Array *mergeList = model->getArray("merges");
  if (!vocab || !mergeList)
    return fail("the BPE model has no vocab or merges");
  std::vector<std::string> tokens;
  std::vector<int32_t> types;
  auto put = [&](int64_t id, StringRef text, runtime::TokenType type) {
    if (id >= int64_t(tokens.size())) {
      tokens.resize(id + 1);
      types.resize(id + 1, int32_t(runtime::TokenType::Unused));
    }
    tokens[id] = text.str();
    types[id] = int32_t(type);
  };
  for (const auto &[text, id] : *vocab) {
    std::optional<int64_t> v = id.getAsInteger();
    if (!v || *v < 0 || *v >= (int64_t(1) << 24))
      return fail("vocab entry '" + StringRef(text) + "' has an invalid id");
    put(*v, text, runtime::TokenType::Normal);
  }
  if (const json::Array *added = top->getArray("added_tokens"))
    for (const json::Value &entry : *added) {
      const json::Object *t = entry.getAsObject();
      std::optional<int64_t> id = t ? t->getInteger("id") : std::nullopt;
      std::optional<StringRef> text = t ? t->getString("content") : std::nullopt;
      if (!id || !text || *id < 0 || *id >= (int64_t(1) << 24))
        return fail("an added_tokens entry has no valid id or content");
      put(*id, *text,
          t->getBoolean("special").value_or(false)
              ? runtime::TokenType::Control
              : runtime::TokenType::UserDefined);
    }
  std::vector<std::string> merges;
  for (const json::Value &m : *mergeList) {
    if (std::optional<StringRef> s = m.getAsString()) {
      merges.push_back(s->str());
    } else if (const json::Array *pair = m.getAsArray();
               pair && pair->size() == 2 && (*pair)[0].getAsString() &&
               (*pair)[1].getAsString()) {
      merges.push_back((*(*pair)[0].getAsString() + " " +
                        *(*pair)[1].getAsString())
                           .str());
    } else {
      return fail("a merge is neither \"a b\" nor [a, b]");
    }
  }
  runtime::SpecialIds ids;
  ids.bos = bos;
  ids.eos = eos;
  std::string error;
  std::optional<runtime::Tokenizer> tok = runtime::Tokenizer::create(
      std::move(tokens), std::move(types), std::move(merges), ids, *pre, error);
  if (!tok)
    return fail(error);
  return std::move(*tok);
}

} // namespace qmlir::hf
