//===- HfConfigTest.cpp - Tests for config.json and HF tensor names -------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The configs are written here in the shape transformers saves them (the
// first one is SmolLM2-135M-Instruct's). The RoPE permutation is checked
// against a hand-worked example, against numpy's
// reshape(heads, 2, D/2, cols).swapaxes(1, 2) of the same matrices, and by
// what it is for: Hugging Face's rotate_half RoPE on the original rows
// equals adjacent-pair RoPE on the permuted rows.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/HfConfig.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <map>
#include <random>

using namespace qmlir::hf;

namespace {

/// The message of an error, or "" on success.
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  return value ? "" : llvm::toString(value.takeError());
}

const char *kSmolLM2 = R"({
  "architectures": ["LlamaForCausalLM"],
  "attention_bias": false,
  "attention_dropout": 0.0,
  "bos_token_id": 1,
  "eos_token_id": 2,
  "head_dim": 64,
  "hidden_act": "silu",
  "hidden_size": 576,
  "initializer_range": 0.041666666666666664,
  "intermediate_size": 1536,
  "is_llama_config": true,
  "max_position_embeddings": 8192,
  "mlp_bias": false,
  "model_type": "llama",
  "num_attention_heads": 9,
  "num_hidden_layers": 30,
  "num_key_value_heads": 3,
  "pad_token_id": 2,
  "pretraining_tp": 1,
  "rms_norm_eps": 1e-05,
  "rope_interleaved": false,
  "rope_scaling": null,
  "rope_theta": 100000,
  "tie_word_embeddings": true,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.42.3",
  "use_cache": true,
  "vocab_size": 49152
})";

/// The keys a config needs, as a map that tests edit; "-" deletes.
std::map<std::string, std::string> minimalKeys() {
  return {{"model_type", "\"llama\""},        {"hidden_size", "64"},
          {"num_hidden_layers", "2"},         {"num_attention_heads", "4"},
          {"intermediate_size", "128"},       {"vocab_size", "100"},
          {"max_position_embeddings", "256"}, {"rms_norm_eps", "1e-6"}};
}

std::string configWith(std::map<std::string, std::string> edits) {
  std::map<std::string, std::string> keys = minimalKeys();
  for (auto &[key, value] : edits) {
    if (value == "-")
      keys.erase(key);
    else
      keys[key] = value;
  }
  std::string json = "{";
  for (auto &[key, value] : keys)
    json += (json.size() > 1 ? ", \"" : "\"") + key + "\": " + value;
  return json + "}";
}

llvm::Expected<HfLlamaConfig> parse(std::map<std::string, std::string> edits) {
  return parseHfLlamaConfig(configWith(std::move(edits)), "config.json");
}

std::string errorFor(std::map<std::string, std::string> edits) {
  return errorOf(parse(std::move(edits)));
}

TEST(HfConfigTest, ReadsSmolLM2) {
  auto config = parseHfLlamaConfig(kSmolLM2, "config.json");
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->modelType, "llama");
  EXPECT_EQ(config->architectures,
            std::vector<std::string>{"LlamaForCausalLM"});
  EXPECT_EQ(config->hiddenSize, 576);
  EXPECT_EQ(config->numHiddenLayers, 30);
  EXPECT_EQ(config->numAttentionHeads, 9);
  EXPECT_EQ(config->numKeyValueHeads, 3);
  EXPECT_EQ(config->intermediateSize, 1536);
  EXPECT_EQ(config->vocabSize, 49152);
  EXPECT_EQ(config->maxPositionEmbeddings, 8192);
  EXPECT_EQ(config->headDim, 64);
  EXPECT_EQ(config->rmsNormEps, 1e-5);
  EXPECT_EQ(config->ropeTheta, 100000.0);
  EXPECT_TRUE(config->tieWordEmbeddings);
  EXPECT_EQ(config->torchDtype, "bfloat16");
  EXPECT_EQ(config->bosTokenId, 1);
  EXPECT_EQ(config->eosTokenIds, std::vector<int64_t>{2});
}

TEST(HfConfigTest, Defaults) {
  auto config = parse({});
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->architectures, std::vector<std::string>{});
  EXPECT_EQ(config->numKeyValueHeads, 4);
  EXPECT_EQ(config->headDim, 16);
  EXPECT_EQ(config->ropeTheta, 10000.0);
  EXPECT_FALSE(config->tieWordEmbeddings);
  EXPECT_EQ(config->rmsNormEps, 1e-6);
  EXPECT_EQ(config->torchDtype, "");
  EXPECT_FALSE(config->bosTokenId.has_value());
  EXPECT_TRUE(config->eosTokenIds.empty());

  // null is the default for the optional keys, as in transformers.
  config = parse({{"num_key_value_heads", "null"},
                  {"head_dim", "null"},
                  {"rope_theta", "null"},
                  {"tie_word_embeddings", "null"},
                  {"rope_scaling", "null"},
                  {"eos_token_id", "null"}});
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->numKeyValueHeads, 4);
  EXPECT_EQ(config->headDim, 16);
  EXPECT_EQ(config->ropeTheta, 10000.0);

  // Explicit values; head_dim need not be hidden_size / heads, and a
  // model_type of another family is accepted with LlamaForCausalLM.
  config = parse({{"num_key_value_heads", "2"},
                  {"head_dim", "32"},
                  {"rope_theta", "500000.0"},
                  {"tie_word_embeddings", "true"},
                  {"model_type", "-"},
                  {"architectures", "[\"LlamaForCausalLM\"]"},
                  {"dtype", "\"float32\""},
                  {"eos_token_id", "[128001, 128008, 128009]"},
                  {"bos_token_id", "128000"}});
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->modelType, "");
  EXPECT_EQ(config->numKeyValueHeads, 2);
  EXPECT_EQ(config->headDim, 32);
  EXPECT_EQ(config->ropeTheta, 500000.0);
  EXPECT_TRUE(config->tieWordEmbeddings);
  EXPECT_EQ(config->torchDtype, "float32");
  EXPECT_EQ(config->eosTokenIds,
            (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_EQ(config->bosTokenId, 128000);
  EXPECT_EQ(errorFor({{"model_type", "\"mistral\""},
                      {"architectures", "[\"LlamaForCausalLM\"]"}}),
            "");
}

TEST(HfConfigTest, RefusesOtherModels) {
  EXPECT_EQ(errorFor({{"model_type", "\"qwen2\""},
                      {"architectures", "[\"Qwen2ForCausalLM\"]"}}),
            "config.json: model_type 'qwen2' is not a Llama model (expected "
            "'llama' or the architecture 'LlamaForCausalLM')");
  EXPECT_EQ(errorFor({{"model_type", "\"bert\""}}),
            "config.json: model_type 'bert' is not a Llama model (expected "
            "'llama' or the architecture 'LlamaForCausalLM')");
  EXPECT_EQ(errorFor({{"model_type", "-"},
                      {"architectures", "[\"MistralForCausalLM\", \"X\"]"}}),
            "config.json: architectures ['MistralForCausalLM', 'X'] name no "
            "Llama model (expected model_type 'llama' or the architecture "
            "'LlamaForCausalLM')");
  EXPECT_EQ(errorFor({{"model_type", "-"}}),
            "config.json: neither model_type nor architectures is given, so "
            "this is not known to be a Llama model");
  EXPECT_EQ(errorFor({{"model_type", "7"}}),
            "config.json: 'model_type' is 7, expected a string");
  EXPECT_EQ(errorFor({{"architectures", "\"LlamaForCausalLM\""}}),
            "config.json: 'architectures' is a string, expected an array of "
            "strings");
  EXPECT_EQ(errorFor({{"architectures", "[1]"}}),
            "config.json: 'architectures' holds a number, expected strings");
}

TEST(HfConfigTest, RequiredKeysAndTypes) {
  for (const char *key :
       {"hidden_size", "num_hidden_layers", "num_attention_heads",
        "intermediate_size", "vocab_size", "max_position_embeddings",
        "rms_norm_eps"}) {
    EXPECT_EQ(errorFor({{key, "-"}}),
              "config.json: '" + std::string(key) + "' is missing");
  }
  EXPECT_EQ(errorFor({{"hidden_size", "null"}}),
            "config.json: 'hidden_size' is null, expected a positive integer");
  EXPECT_EQ(errorFor({{"hidden_size", "\"64\""}}),
            "config.json: 'hidden_size' is a string, expected a positive "
            "integer");
  EXPECT_EQ(errorFor({{"hidden_size", "64.0"}}),
            "config.json: 'hidden_size' is 64.0, expected a positive integer");
  EXPECT_EQ(errorFor({{"hidden_size", "64.5"}}),
            "config.json: 'hidden_size' is 64.5, expected a positive integer");
  EXPECT_EQ(errorFor({{"vocab_size", "0"}}),
            "config.json: 'vocab_size' is 0, expected a positive integer");
  EXPECT_EQ(errorFor({{"num_hidden_layers", "-2"}}),
            "config.json: 'num_hidden_layers' is -2, expected a positive "
            "integer");
  EXPECT_EQ(errorFor({{"vocab_size", "4294967296"}}),
            "config.json: 'vocab_size' is 4294967296, expected at most "
            "2147483647");
  EXPECT_EQ(errorFor({{"num_key_value_heads", "true"}}),
            "config.json: 'num_key_value_heads' is true, expected a positive "
            "integer");
  EXPECT_EQ(errorFor({{"rms_norm_eps", "0"}}),
            "config.json: 'rms_norm_eps' is 0, expected a positive number");
  EXPECT_EQ(errorFor({{"rms_norm_eps", "-1e-5"}}),
            "config.json: 'rms_norm_eps' is -1.0000000000000001e-05, expected "
            "a positive number");
  EXPECT_EQ(errorFor({{"rms_norm_eps", "1e999"}}),
            "config.json: 'rms_norm_eps' is inf, expected a positive number");
  EXPECT_EQ(errorFor({{"rms_norm_eps", "null"}}),
            "config.json: 'rms_norm_eps' is null, expected a positive number");
  EXPECT_EQ(errorFor({{"rope_theta", "\"1e4\""}}),
            "config.json: 'rope_theta' is a string, expected a positive "
            "number");
  EXPECT_EQ(errorFor({{"tie_word_embeddings", "1"}}),
            "config.json: 'tie_word_embeddings' is 1, expected true or false");
  EXPECT_EQ(errorFor({{"torch_dtype", "16"}}),
            "config.json: 'torch_dtype' is 16, expected a string");
  EXPECT_EQ(errorFor({{"bos_token_id", "\"<s>\""}}),
            "config.json: 'bos_token_id' is a string, expected a token id");
  EXPECT_EQ(errorFor({{"eos_token_id", "-1"}}),
            "config.json: 'eos_token_id' is -1, expected a token id");
  EXPECT_EQ(errorFor({{"eos_token_id", "[2, null]"}}),
            "config.json: 'eos_token_id' is null, expected a token id");
  EXPECT_EQ(errorFor({{"eos_token_id", "[2, 2.5]"}}),
            "config.json: 'eos_token_id' is 2.5, expected a token id");
}

TEST(HfConfigTest, HeadCounts) {
  EXPECT_EQ(errorFor({{"num_key_value_heads", "3"}}),
            "config.json: num_attention_heads 4 is not a multiple of "
            "num_key_value_heads 3");
  EXPECT_EQ(
      errorFor({{"num_attention_heads", "5"}, {"num_key_value_heads", "5"}}),
      "config.json: hidden_size 64 is not a multiple of "
      "num_attention_heads 5 (and head_dim is not given)");
  EXPECT_EQ(errorFor({{"num_attention_heads", "5"},
                      {"num_key_value_heads", "5"},
                      {"head_dim", "12"}}),
            "");
  EXPECT_EQ(errorFor({{"head_dim", "7"}}),
            "config.json: head_dim 7 is odd (rotary embeddings turn pairs)");
  EXPECT_EQ(errorFor({{"hidden_size", "36"},
                      {"num_attention_heads", "4"},
                      {"num_key_value_heads", "-"}}),
            "config.json: head_dim 9 is odd (rotary embeddings turn pairs)");
  EXPECT_EQ(errorFor({{"head_dim", "0"}}),
            "config.json: 'head_dim' is 0, expected a positive integer");
}

TEST(HfConfigTest, RefusesWhatIsNotImplemented) {
  EXPECT_EQ(errorFor({{"rope_scaling",
                       R"({"factor": 8.0, "high_freq_factor": 4.0,
                           "low_freq_factor": 1.0,
                           "original_max_position_embeddings": 8192,
                           "rope_type": "llama3"})"}}),
            "config.json: rope_scaling of type 'llama3' is not supported "
            "(only null: unscaled RoPE)");
  EXPECT_EQ(errorFor({{"rope_scaling", R"({"type": "linear", "factor": 2})"}}),
            "config.json: rope_scaling of type 'linear' is not supported (only "
            "null: unscaled RoPE)");
  EXPECT_EQ(errorFor({{"rope_scaling", R"({"factor": 2})"}}),
            "config.json: rope_scaling {\"factor\":2} is not supported (only "
            "null: unscaled RoPE)");
  EXPECT_EQ(errorFor({{"rope_scaling", "2"}}),
            "config.json: rope_scaling 2 is not supported (only null: "
            "unscaled RoPE)");
  EXPECT_EQ(errorFor({{"hidden_act", "\"gelu\""}}),
            "config.json: hidden_act 'gelu' is not supported (only 'silu')");
  EXPECT_EQ(errorFor({{"hidden_act", "\"silu\""}}), "");
  EXPECT_EQ(errorFor({{"attention_bias", "true"}}),
            "config.json: attention_bias true is not supported (the linear "
            "layers have no biases)");
  EXPECT_EQ(errorFor({{"mlp_bias", "true"}}),
            "config.json: mlp_bias true is not supported (the linear layers "
            "have no biases)");
  EXPECT_EQ(errorFor({{"mlp_bias", "\"no\""}}),
            "config.json: 'mlp_bias' is a string, expected true or false");
}

TEST(HfConfigTest, RopeParameters) {
  // transformers 5 moves rope_theta into rope_parameters.
  auto config =
      parse({{"rope_parameters",
              R"({"rope_type": "default", "rope_theta": 500000.0})"}});
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->ropeTheta, 500000.0);
  config = parse({{"rope_parameters", R"({"rope_type": "default"})"},
                  {"rope_theta", "20000"}});
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->ropeTheta, 20000.0);
  EXPECT_EQ(errorFor({{"rope_parameters", R"({"rope_theta": 1e4})"},
                      {"rope_theta", "10000"}}),
            "");

  EXPECT_EQ(errorFor({{"rope_parameters",
                       R"({"rope_type": "yarn", "rope_theta": 1e4})"}}),
            "config.json: rope_parameters of type 'yarn' is not supported "
            "(only 'default': unscaled RoPE)");
  EXPECT_EQ(errorFor({{"rope_parameters",
                       R"({"rope_type": "llama3", "factor": 8.0})"}}),
            "config.json: rope_parameters key 'factor' is not supported (only "
            "rope_type 'default' and rope_theta)");
  EXPECT_EQ(errorFor({{"rope_parameters", "[]"}}),
            "config.json: 'rope_parameters' is an array, expected an object");
  EXPECT_EQ(errorFor({{"rope_parameters", R"({"rope_theta": -1})"}}),
            "config.json: rope_parameters.rope_theta is -1, expected a "
            "positive number");
  EXPECT_EQ(errorFor({{"rope_parameters", R"({"rope_theta": 20000})"},
                      {"rope_theta", "10000.0"}}),
            "config.json: rope_theta 10000.0 and rope_parameters.rope_theta "
            "20000 differ");
}

TEST(HfConfigTest, Json) {
  auto error = [](const std::string &json) {
    return errorOf(parseHfLlamaConfig(json, "config.json"));
  };
  EXPECT_EQ(error("{\"hidden_size\": }"),
            "config.json: invalid JSON: [1:17, byte=17]: Invalid JSON value");
  EXPECT_EQ(error("[1]"),
            "config.json: the config is an array, expected a JSON object");
  EXPECT_EQ(error(std::string(40, '[')),
            "config.json: JSON nests deeper than 32 levels (at byte 32)");
  EXPECT_EQ(error(configWith({}).substr(0, configWith({}).size() - 1) +
                  ", \"hidden_size\": 64}"),
            "config.json: duplicate key 'hidden_size'");
  EXPECT_EQ(error(configWith({{"rope_scaling", R"({"a": 1, "a": 2})"}})),
            "config.json: duplicate key 'a' in 'rope_scaling'");
}

TEST(HfConfigTest, ReadsFile) {
  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("hf-config", "json", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << kSmolLM2;
  }
  auto config = readHfLlamaConfig(path);
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  EXPECT_EQ(config->hiddenSize, 576);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    ASSERT_FALSE(ec) << ec.message();
    os << "{\"model_type\": \"gpt2\"}";
  }
  EXPECT_EQ(errorOf(readHfLlamaConfig(path)),
            std::string(path) + ": model_type 'gpt2' is not a Llama model "
                                "(expected 'llama' or the architecture "
                                "'LlamaForCausalLM')");
  llvm::sys::fs::remove(path);
  EXPECT_EQ(errorOf(readHfLlamaConfig("/nonexistent/config.json")),
            "/nonexistent/config.json: cannot open: No such file or directory");
}

//===----------------------------------------------------------------------===//
// Tensor names
//===----------------------------------------------------------------------===//

TEST(HfNamesTest, MapsToGgufNames) {
  std::pair<const char *, const char *> pairs[] = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.layers.0.self_attn.q_proj.weight", "blk.0.attn_q.weight"},
      {"model.layers.0.self_attn.k_proj.weight", "blk.0.attn_k.weight"},
      {"model.layers.0.self_attn.v_proj.weight", "blk.0.attn_v.weight"},
      {"model.layers.0.self_attn.o_proj.weight", "blk.0.attn_output.weight"},
      {"model.layers.7.mlp.gate_proj.weight", "blk.7.ffn_gate.weight"},
      {"model.layers.12.mlp.up_proj.weight", "blk.12.ffn_up.weight"},
      {"model.layers.29.mlp.down_proj.weight", "blk.29.ffn_down.weight"},
      {"model.layers.3.input_layernorm.weight", "blk.3.attn_norm.weight"},
      {"model.layers.3.post_attention_layernorm.weight",
       "blk.3.ffn_norm.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
      {"model.layers.100.self_attn.q_proj.weight", "blk.100.attn_q.weight"},
  };
  for (auto [hf, gguf] : pairs) {
    std::optional<std::string> name = ggufTensorName(hf);
    ASSERT_TRUE(name.has_value()) << hf;
    EXPECT_EQ(*name, gguf);
  }
  for (const char *other :
       {"model.layers.0.self_attn.rotary_emb.inv_freq",
        "model.layers.0.self_attn.q_proj.bias",
        "model.layers.01.mlp.up_proj.weight",
        "model.layers..mlp.up_proj.weight", "model.layers.x.mlp.up_proj.weight",
        "model.layers.-1.mlp.up_proj.weight",
        "model.layers.1234567890.mlp.up_proj.weight", "model.layers.0",
        "model.layers.0.mlp.up_proj.weight.x", "layers.0.mlp.up_proj.weight",
        "lm_head.bias", "embed_tokens.weight", "token_embd.weight", ""})
    EXPECT_FALSE(ggufTensorName(other).has_value()) << other;
}

TEST(HfNamesTest, ListsTheTensorsOfAConfig) {
  auto config = parseHfLlamaConfig(kSmolLM2, "config.json");
  ASSERT_TRUE(bool(config)) << llvm::toString(config.takeError());
  std::vector<HfLlamaTensor> tensors = hfLlamaTensors(*config);
  // Tied: no lm_head.
  ASSERT_EQ(tensors.size(), 1u + 30u * 9u + 1u);
  EXPECT_EQ(tensors.front().hfName, "model.embed_tokens.weight");
  EXPECT_EQ(tensors.front().ggufName, "token_embd.weight");
  EXPECT_EQ(tensors.front().shape, (llvm::SmallVector<int64_t, 2>{49152, 576}));
  EXPECT_EQ(tensors.back().hfName, "model.norm.weight");
  EXPECT_EQ(tensors.back().shape, (llvm::SmallVector<int64_t, 2>{576}));

  std::map<std::string, const HfLlamaTensor *> byName;
  for (const HfLlamaTensor &t : tensors) {
    EXPECT_TRUE(byName.emplace(t.hfName, &t).second) << t.hfName;
    EXPECT_EQ(ggufTensorName(t.hfName), t.ggufName);
  }
  auto expect = [&](const std::string &name,
                    llvm::SmallVector<int64_t, 2> shape, int64_t ropeHeads) {
    ASSERT_TRUE(byName.count(name)) << name;
    EXPECT_EQ(byName[name]->shape, shape) << name;
    EXPECT_EQ(byName[name]->ropeHeads, ropeHeads) << name;
  };
  expect("model.layers.29.self_attn.q_proj.weight", {576, 576}, 9);
  expect("model.layers.29.self_attn.k_proj.weight", {192, 576}, 3);
  expect("model.layers.29.self_attn.v_proj.weight", {192, 576}, 0);
  expect("model.layers.29.self_attn.o_proj.weight", {576, 576}, 0);
  expect("model.layers.0.mlp.gate_proj.weight", {1536, 576}, 0);
  expect("model.layers.0.mlp.up_proj.weight", {1536, 576}, 0);
  expect("model.layers.0.mlp.down_proj.weight", {576, 1536}, 0);
  expect("model.layers.0.input_layernorm.weight", {576}, 0);
  expect("model.layers.0.post_attention_layernorm.weight", {576}, 0);

  // Untied, with head_dim * heads != hidden_size.
  config->tieWordEmbeddings = false;
  config->headDim = 32;
  tensors = hfLlamaTensors(*config);
  ASSERT_EQ(tensors.size(), 1u + 30u * 9u + 2u);
  EXPECT_EQ(tensors.back().hfName, "lm_head.weight");
  EXPECT_EQ(tensors.back().ggufName, "output.weight");
  EXPECT_EQ(tensors.back().shape, (llvm::SmallVector<int64_t, 2>{49152, 576}));
  EXPECT_EQ(tensors[2].hfName, "model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(tensors[2].shape, (llvm::SmallVector<int64_t, 2>{288, 576}));
  EXPECT_EQ(tensors[5].hfName, "model.layers.0.self_attn.o_proj.weight");
  EXPECT_EQ(tensors[5].shape, (llvm::SmallVector<int64_t, 2>{576, 288}));
}

//===----------------------------------------------------------------------===//
// RoPE row permutation
//===----------------------------------------------------------------------===//

/// Rows of a [rows, cols] matrix whose entry (r, c) is 10 * r + c.
std::vector<float> numbered(int64_t rows, int64_t cols) {
  std::vector<float> w(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      w[r * cols + c] = static_cast<float>(10 * r + c);
  return w;
}

/// The original row of each row of a permuted `numbered` matrix.
std::vector<int> rowOrder(const std::vector<float> &w, int64_t cols) {
  std::vector<int> order;
  for (size_t r = 0; r < w.size() / cols; ++r) {
    order.push_back(static_cast<int>(w[r * cols]) / 10);
    for (int64_t c = 0; c < cols; ++c)
      EXPECT_EQ(w[r * cols + c], w[r * cols] + c);
  }
  return order;
}

TEST(HfRopeTest, PermutesRowsOfEachHead) {
  // Two heads of D = 6 rows: row 2j + s of a head takes row 3s + j, i.e.
  // (0, 3, 1, 4, 2, 5). numpy's
  //   np.arange(12).reshape(2, 2, 3, 1).swapaxes(1, 2).reshape(12)
  // gives the same [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11].
  std::vector<float> w = numbered(12, 2);
  permuteForAdjacentRope(w.data(), 12, 2, 2);
  EXPECT_EQ(rowOrder(w, 2),
            (std::vector<int>{0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11}));
  // One head of D = 4 (numpy: [0, 2, 1, 3]); D = 2 is the identity.
  w = numbered(4, 3);
  permuteForAdjacentRope(w.data(), 4, 3, 1);
  EXPECT_EQ(rowOrder(w, 3), (std::vector<int>{0, 2, 1, 3}));
  w = numbered(6, 1);
  permuteForAdjacentRope(w.data(), 6, 1, 3);
  EXPECT_EQ(rowOrder(w, 1), (std::vector<int>{0, 1, 2, 3, 4, 5}));
  // Three heads of D = 8 (numpy: [0, 4, 1, 5, 2, 6, 3, 7] per head).
  w = numbered(24, 1);
  permuteForAdjacentRope(w.data(), 24, 1, 3);
  std::vector<int> expected;
  for (int h = 0; h < 3; ++h)
    for (int r : {0, 4, 1, 5, 2, 6, 3, 7})
      expected.push_back(8 * h + r);
  EXPECT_EQ(rowOrder(w, 1), expected);
}

/// RoPE of one head `x` (D values) at `position`, pair j turning by
/// position * base^(-2j/D): the pairs are (j, j + D/2) in Hugging Face's
/// rotate_half form, (2j, 2j + 1) in llama.cpp's.
std::vector<double> rope(const std::vector<double> &x, int position,
                         bool halfSplit, double base = 10000.0) {
  size_t d = x.size();
  std::vector<double> out(d);
  for (size_t j = 0; j < d / 2; ++j) {
    double angle = position * std::pow(base, -2.0 * j / d);
    size_t a = halfSplit ? j : 2 * j, b = halfSplit ? j + d / 2 : 2 * j + 1;
    out[a] = x[a] * std::cos(angle) - x[b] * std::sin(angle);
    out[b] = x[b] * std::cos(angle) + x[a] * std::sin(angle);
  }
  return out;
}

TEST(HfRopeTest, TurnsHalfSplitRopeIntoAdjacentPairs) {
  // q = W x per head: rotate_half RoPE of the original rows, permuted,
  // equals adjacent-pair RoPE of the permuted rows' product.
  const int64_t heads = 3, d = 8, rows = heads * d, cols = 5;
  std::mt19937 gen(7);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> w(rows * cols), x(cols);
  for (float &v : w)
    v = dist(gen);
  for (float &v : x)
    v = dist(gen);
  std::vector<float> permuted = w;
  permuteForAdjacentRope(permuted.data(), rows, cols, heads);

  auto headOf = [&](const std::vector<float> &m, int64_t h) {
    std::vector<double> q(d);
    for (int64_t r = 0; r < d; ++r)
      for (int64_t c = 0; c < cols; ++c)
        q[r] += static_cast<double>(m[(h * d + r) * cols + c]) * x[c];
    return q;
  };
  for (int position : {0, 1, 5, 100}) {
    for (int64_t h = 0; h < heads; ++h) {
      std::vector<double> hf = rope(headOf(w, h), position, true);
      std::vector<double> adjacent = rope(headOf(permuted, h), position, false);
      for (int64_t j = 0; j < d / 2; ++j)
        for (int64_t s = 0; s < 2; ++s)
          EXPECT_NEAR(adjacent[2 * j + s], hf[s * d / 2 + j], 1e-12)
              << "position " << position << " head " << h << " j " << j;
    }
  }
}

} // namespace
