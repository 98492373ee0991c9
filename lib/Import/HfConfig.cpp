//===- HfConfig.cpp - Hugging Face Llama config.json and names ------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Keys are looked up by name; a key that is present must have the right
// type even where it is optional (null counts as absent for the optional
// ones, as transformers treats it). Keys this reader does not know are
// ignored: config.json carries many that do not change the computation
// (bos/pad ids, initializer_range, use_cache, transformers_version).
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/HfConfig.h"

#include "JsonChecks.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>

using namespace llvm;
using namespace qmlir::import_detail;

namespace qmlir::hf {

namespace {

/// Sizes above this are refused, so that products of two fit in int64.
constexpr int64_t kMaxSize = 2147483647;

/// Typed access to the keys of a config.json object.
class ConfigReader {
public:
  ConfigReader(const json::Object &object, StringRef name)
      : object(object), name(name) {}

  Error fail(const Twine &message) const {
    return createStringError(inconvertibleErrorCode(), name + ": " + message);
  }

  /// The value of `key`, or null when it is absent or JSON null.
  const json::Value *find(StringRef key) const {
    const json::Value *value = object.get(key);
    return value && value->kind() != json::Value::Null ? value : nullptr;
  }

  /// A positive integer up to kMaxSize; nullopt when absent or null.
  Expected<std::optional<int64_t>> optionalSize(StringRef key) const {
    const json::Value *value = find(key);
    if (!value)
      return std::nullopt;
    std::optional<uint64_t> size = value->getAsUINT64();
    if (!size || *size == 0)
      return fail(describe(key, *value) + ", expected a positive integer");
    if (*size > static_cast<uint64_t>(kMaxSize))
      return fail(describe(key, *value) + ", expected at most " +
                  Twine(kMaxSize));
    return static_cast<int64_t>(*size);
  }

  Expected<int64_t> requiredSize(StringRef key) const {
    if (Error err = checkPresent(key, "a positive integer"))
      return std::move(err);
    Expected<std::optional<int64_t>> size = optionalSize(key);
    if (!size)
      return size.takeError();
    return **size;
  }

  /// A finite number > 0; nullopt when absent or null.
  Expected<std::optional<double>> optionalPositive(StringRef key) const {
    const json::Value *value = find(key);
    if (!value)
      return std::nullopt;
    std::optional<double> number = value->getAsNumber();
    if (!number || !std::isfinite(*number) || *number <= 0)
      return fail(describe(key, *value) + ", expected a positive number");
    return *number;
  }

  Expected<double> requiredPositive(StringRef key) const {
    if (Error err = checkPresent(key, "a positive number"))
      return std::move(err);
    Expected<std::optional<double>> number = optionalPositive(key);
    if (!number)
      return number.takeError();
    return **number;
  }

  Expected<std::optional<bool>> optionalBool(StringRef key) const {
    const json::Value *value = find(key);
    if (!value)
      return std::nullopt;
    std::optional<bool> flag = value->getAsBoolean();
    if (!flag)
      return fail(describe(key, *value) + ", expected true or false");
    return *flag;
  }

  Expected<std::optional<std::string>> optionalString(StringRef key) const {
    const json::Value *value = find(key);
    if (!value)
      return std::nullopt;
    std::optional<StringRef> text = value->getAsString();
    if (!text)
      return fail(describe(key, *value) + ", expected a string");
    return text->str();
  }

  /// A token id (an integer >= 0); nullopt when absent or null.
  Expected<std::optional<int64_t>>
  optionalTokenId(StringRef key, const json::Value *value) const {
    if (!value)
      return std::nullopt;
    std::optional<uint64_t> id = value->getAsUINT64();
    if (!id || *id > static_cast<uint64_t>(kMaxSize))
      return fail(describe(key, *value) + ", expected a token id");
    return static_cast<int64_t>(*id);
  }

  /// "'key' is a string" for non-numbers, "'key' is 2.5" for numbers.
  static std::string describe(StringRef key, const json::Value &value) {
    std::string what = value.kind() == json::Value::Number ||
                               value.kind() == json::Value::Boolean
                           ? printJson(value)
                           : describeKind(value);
    return quote(key) + " is " + what;
  }

private:
  Error checkPresent(StringRef key, StringRef expected) const {
    const json::Value *value = object.get(key);
    if (!value)
      return fail(quote(key) + " is missing");
    if (value->kind() == json::Value::Null)
      return fail(quote(key) + " is null, expected " + expected);
    return Error::success();
  }

  const json::Object &object;
  StringRef name;
};

/// Assigns `*from` to `to` when present.
template <typename T, typename U>
Error assignIfPresent(Expected<std::optional<U>> from, T &to) {
  if (!from)
    return from.takeError();
  if (*from)
    to = **from;
  return Error::success();
}

template <typename T> Error assign(Expected<T> from, T &to) {
  if (!from)
    return from.takeError();
  to = *from;
  return Error::success();
}

/// The rope_type (or older "type") of a rope_scaling/rope_parameters
/// object, or its JSON for messages.
std::string describeRope(const json::Value &value) {
  if (const json::Object *object = value.getAsObject())
    for (StringRef key : {"rope_type", "type"})
      if (const json::Value *type = object->get(key))
        if (std::optional<StringRef> text = type->getAsString())
          return "of type " + quote(*text);
  return printJson(value);
}

Error readArchitecture(const ConfigReader &reader, HfLlamaConfig &config) {
  Expected<std::optional<std::string>> modelType =
      reader.optionalString("model_type");
  if (!modelType)
    return modelType.takeError();
  config.modelType = modelType->value_or("");
  if (const json::Value *value = reader.find("architectures")) {
    const json::Array *array = value->getAsArray();
    if (!array)
      return reader.fail(ConfigReader::describe("architectures", *value) +
                         ", expected an array of strings");
    for (const json::Value &element : *array) {
      std::optional<StringRef> text = element.getAsString();
      if (!text)
        return reader.fail(std::string("'architectures' holds ") +
                           describeKind(element) + ", expected strings");
      config.architectures.push_back(text->str());
    }
  }
  if (config.modelType == "llama" ||
      llvm::is_contained(config.architectures, "LlamaForCausalLM"))
    return Error::success();
  if (*modelType)
    return reader.fail("model_type " + quote(config.modelType) +
                       " is not a Llama model (expected 'llama' or the "
                       "architecture 'LlamaForCausalLM')");
  if (!config.architectures.empty()) {
    std::string names;
    for (const std::string &arch : config.architectures)
      names += (names.empty() ? "" : ", ") + quote(arch);
    return reader.fail("architectures [" + names +
                       "] name no Llama model (expected model_type 'llama' "
                       "or the architecture 'LlamaForCausalLM')");
  }
  return reader.fail("neither model_type nor architectures is given, so this "
                     "is not known to be a Llama model");
}

Error readRope(const ConfigReader &reader, HfLlamaConfig &config) {
  if (const json::Value *scaling = reader.find("rope_scaling"))
    return reader.fail("rope_scaling " + describeRope(*scaling) +
                       " is not supported (only null: unscaled RoPE)");
  if (Error err = assignIfPresent(reader.optionalPositive("rope_theta"),
                                  config.ropeTheta))
    return err;

  // transformers 5 writes {"rope_type": "default", "rope_theta": ...}.
  const json::Value *parameters = reader.find("rope_parameters");
  if (!parameters)
    return Error::success();
  const json::Object *object = parameters->getAsObject();
  if (!object)
    return reader.fail(ConfigReader::describe("rope_parameters", *parameters) +
                       ", expected an object");
  ConfigReader inner(*object, "");
  std::vector<StringRef> keys;
  for (const auto &member : *object)
    keys.push_back(member.first);
  llvm::sort(keys);
  for (StringRef key : keys)
    if (key != "rope_type" && key != "rope_theta")
      return reader.fail("rope_parameters key " + quote(key) +
                         " is not supported (only rope_type 'default' and "
                         "rope_theta)");
  if (const json::Value *type = inner.find("rope_type")) {
    std::optional<StringRef> text = type->getAsString();
    if (!text || *text != "default")
      return reader.fail("rope_parameters " + describeRope(*parameters) +
                         " is not supported (only 'default': unscaled RoPE)");
  }
  if (const json::Value *theta = inner.find("rope_theta")) {
    std::optional<double> number = theta->getAsNumber();
    if (!number || !std::isfinite(*number) || *number <= 0)
      return reader.fail("rope_parameters.rope_theta is " + printJson(*theta) +
                         ", expected a positive number");
    if (reader.find("rope_theta") && *number != config.ropeTheta)
      return reader.fail("rope_theta " + printJson(*reader.find("rope_theta")) +
                         " and rope_parameters.rope_theta " +
                         printJson(*theta) + " differ");
    config.ropeTheta = *number;
  }
  return Error::success();
}

/// What the compiler's Llama does not implement.
Error readUnsupported(const ConfigReader &reader) {
  Expected<std::optional<std::string>> act =
      reader.optionalString("hidden_act");
  if (!act)
    return act.takeError();
  if (*act && **act != "silu")
    return reader.fail("hidden_act " + quote(**act) +
                       " is not supported (only 'silu')");
  for (StringRef key : {"attention_bias", "mlp_bias"}) {
    Expected<std::optional<bool>> bias = reader.optionalBool(key);
    if (!bias)
      return bias.takeError();
    if (bias->value_or(false))
      return reader.fail(key + Twine(" true is not supported (the linear "
                                     "layers have no biases)"));
  }
  return Error::success();
}

Error readTokens(const ConfigReader &reader, HfLlamaConfig &config) {
  Expected<std::optional<std::string>> dtype =
      reader.optionalString("torch_dtype");
  if (!dtype)
    return dtype.takeError();
  if (!*dtype) {
    dtype = reader.optionalString("dtype");
    if (!dtype)
      return dtype.takeError();
  }
  config.torchDtype = dtype->value_or("");

  if (Error err = assignIfPresent(
          reader.optionalTokenId("bos_token_id", reader.find("bos_token_id")),
          config.bosTokenId))
    return err;
  const json::Value *eos = reader.find("eos_token_id");
  if (!eos)
    return Error::success();
  if (const json::Array *ids = eos->getAsArray()) {
    for (const json::Value &id : *ids) {
      Expected<std::optional<int64_t>> value =
          reader.optionalTokenId("eos_token_id", &id);
      if (!value)
        return value.takeError();
      config.eosTokenIds.push_back(**value);
    }
    return Error::success();
  }
  Expected<std::optional<int64_t>> value =
      reader.optionalTokenId("eos_token_id", eos);
  if (!value)
    return value.takeError();
  config.eosTokenIds.push_back(**value);
  return Error::success();
}

} // namespace

Expected<HfLlamaConfig> parseHfLlamaConfig(StringRef text, StringRef name) {
  auto fail = [&](const Twine &message) {
    return createStringError(inconvertibleErrorCode(), name + ": " + message);
  };
  if (std::optional<size_t> at = findTooDeepNesting(text))
    return fail("JSON nests deeper than " + Twine(kMaxJsonDepth) +
                " levels (at byte " + Twine(*at) + ")");
  Expected<json::Value> root = json::parse(text);
  if (!root)
    return fail("invalid JSON: " + toString(root.takeError()));
  const json::Object *object = root->getAsObject();
  if (!object)
    return fail(Twine("the config is ") + describeKind(*root) +
                ", expected a JSON object");
  if (std::optional<DuplicateKey> duplicate = findDuplicateKey(text))
    return fail(describeDuplicate(*duplicate));

  ConfigReader reader(*object, name);
  HfLlamaConfig config;
  if (Error err = readArchitecture(reader, config))
    return std::move(err);
  if (Error err = assign(reader.requiredSize("hidden_size"), config.hiddenSize))
    return std::move(err);
  if (Error err = assign(reader.requiredSize("num_hidden_layers"),
                         config.numHiddenLayers))
    return std::move(err);
  if (Error err = assign(reader.requiredSize("num_attention_heads"),
                         config.numAttentionHeads))
    return std::move(err);
  if (Error err = assign(reader.requiredSize("intermediate_size"),
                         config.intermediateSize))
    return std::move(err);
  if (Error err = assign(reader.requiredSize("vocab_size"), config.vocabSize))
    return std::move(err);
  if (Error err = assign(reader.requiredSize("max_position_embeddings"),
                         config.maxPositionEmbeddings))
    return std::move(err);
  if (Error err =
          assign(reader.requiredPositive("rms_norm_eps"), config.rmsNormEps))
    return std::move(err);

  config.numKeyValueHeads = config.numAttentionHeads;
  if (Error err = assignIfPresent(reader.optionalSize("num_key_value_heads"),
                                  config.numKeyValueHeads))
    return std::move(err);
  if (config.numAttentionHeads % config.numKeyValueHeads != 0)
    return fail("num_attention_heads " + Twine(config.numAttentionHeads) +
                " is not a multiple of num_key_value_heads " +
                Twine(config.numKeyValueHeads));
  Expected<std::optional<int64_t>> headDim = reader.optionalSize("head_dim");
  if (!headDim)
    return headDim.takeError();
  if (*headDim) {
    config.headDim = **headDim;
  } else if (config.hiddenSize % config.numAttentionHeads != 0) {
    return fail("hidden_size " + Twine(config.hiddenSize) +
                " is not a multiple of num_attention_heads " +
                Twine(config.numAttentionHeads) +
                " (and head_dim is not given)");
  } else {
    config.headDim = config.hiddenSize / config.numAttentionHeads;
  }
  if (config.headDim % 2 != 0)
    return fail("head_dim " + Twine(config.headDim) +
                " is odd (rotary embeddings turn pairs)");

  if (Error err = assignIfPresent(reader.optionalBool("tie_word_embeddings"),
                                  config.tieWordEmbeddings))
    return std::move(err);
  if (Error err = readRope(reader, config))
    return std::move(err);
  if (Error err = readUnsupported(reader))
    return std::move(err);
  if (Error err = readTokens(reader, config))
    return std::move(err);
  return config;
}

Expected<HfLlamaConfig> readHfLlamaConfig(StringRef path) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(path, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (std::error_code ec = buffer.getError())
    return createStringError(ec, path + ": cannot open: " + ec.message());
  return parseHfLlamaConfig((*buffer)->getBuffer(), path);
}

//===----------------------------------------------------------------------===//
// Tensor names
//===----------------------------------------------------------------------===//

namespace {
struct NamePair {
  const char *hf;
  const char *gguf;
};

/// The names inside model.layers.{i}. and blk.{i}.
constexpr NamePair kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
};
} // namespace

std::optional<std::string> ggufTensorName(StringRef hfName) {
  if (hfName == "model.embed_tokens.weight")
    return std::string("token_embd.weight");
  if (hfName == "model.norm.weight")
    return std::string("output_norm.weight");
  if (hfName == "lm_head.weight")
    return std::string("output.weight");
  StringRef rest = hfName;
  if (!rest.consume_front("model.layers."))
    return std::nullopt;
  auto [index, suffix] = rest.split('.');
  // Decimal without leading zeros, as PyTorch's module names are written.
  if (index.empty() || index.size() > 9 || !all_of(index, isDigit) ||
      (index.size() > 1 && index.front() == '0'))
    return std::nullopt;
  for (const NamePair &pair : kLayerNames)
    if (suffix == pair.hf)
      return ("blk." + index + "." + pair.gguf).str();
  return std::nullopt;
}

std::vector<HfLlamaTensor> hfLlamaTensors(const HfLlamaConfig &config) {
  int64_t hidden = config.hiddenSize, ffn = config.intermediateSize;
  int64_t qRows = config.numAttentionHeads * config.headDim;
  int64_t kvRows = config.numKeyValueHeads * config.headDim;
  std::vector<HfLlamaTensor> tensors;
  auto add = [&](std::string hfName, SmallVector<int64_t, 2> shape,
                 int64_t ropeHeads = 0) {
    std::optional<std::string> gguf = ggufTensorName(hfName);
    assert(gguf && "a name of the Llama layout");
    tensors.push_back({std::move(hfName), *gguf, std::move(shape), ropeHeads});
  };
  add("model.embed_tokens.weight", {config.vocabSize, hidden});
  for (int64_t i = 0; i < config.numHiddenLayers; ++i) {
    std::string layer = "model.layers." + std::to_string(i) + ".";
    add(layer + "input_layernorm.weight", {hidden});
    add(layer + "self_attn.q_proj.weight", {qRows, hidden},
        config.numAttentionHeads);
    add(layer + "self_attn.k_proj.weight", {kvRows, hidden},
        config.numKeyValueHeads);
    add(layer + "self_attn.v_proj.weight", {kvRows, hidden});
    add(layer + "self_attn.o_proj.weight", {hidden, qRows});
    add(layer + "post_attention_layernorm.weight", {hidden});
    add(layer + "mlp.gate_proj.weight", {ffn, hidden});
    add(layer + "mlp.up_proj.weight", {ffn, hidden});
    add(layer + "mlp.down_proj.weight", {hidden, ffn});
  }
  add("model.norm.weight", {hidden});
  if (!config.tieWordEmbeddings)
    add("lm_head.weight", {config.vocabSize, hidden});
  return tensors;
}

void permuteForAdjacentRope(float *w, int64_t rows, int64_t cols,
                            int64_t heads) {
  assert(heads > 0 && rows % (2 * heads) == 0 && cols >= 0 &&
         "rows must split into heads of even size");
  int64_t headRows = rows / heads, half = headRows / 2;
  size_t rowBytes = static_cast<size_t>(cols) * sizeof(float);
  std::vector<float> original(static_cast<size_t>(headRows * cols));
  for (int64_t h = 0; h < heads; ++h) {
    float *head = w + h * headRows * cols;
    std::copy(head, head + headRows * cols, original.begin());
    // Row 2j + s takes row s * D/2 + j: the pair halves interleave.
    for (int64_t j = 0; j < half; ++j)
      for (int64_t s = 0; s < 2; ++s)
        std::memcpy(head + (2 * j + s) * cols,
                    original.data() + (s * half + j) * cols, rowBytes);
  }
}

} // namespace qmlir::hf
