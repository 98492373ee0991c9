//===- HfConfig.h - Hugging Face Llama config.json and names ----*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Reads the `config.json` of a Hugging Face Llama checkpoint into a plain
// struct, and knows how its tensors are named and laid out compared with
// the GGUF names the compiler uses.
//
// The q_proj and k_proj weights of a Hugging Face Llama rotate the pairs
// (x[j], x[j + D/2]) of each head (rotate_half), while the compiler, like
// llama.cpp, rotates adjacent pairs (x[2j], x[2j+1]). Hugging Face's
// convert_llama_weights_to_hf.py permuted Meta's adjacent-pair rows into
// its order; llama.cpp's convert_hf_to_gguf.py undoes that with
//   w.reshape(heads, 2, D/2, cols).swapaxes(1, 2).reshape(rows, cols)
// which permuteForAdjacentRope() applies: q_proj with num_attention_heads,
// k_proj with num_key_value_heads. Other tensors keep their bytes: a
// [rows, cols] row-major weight is GGUF's {cols, rows}.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_IMPORT_HFCONFIG_H
#define QMLIR_IMPORT_HFCONFIG_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qmlir::hf {

/// The hyper-parameters of a Llama checkpoint, with config.json's names.
struct HfLlamaConfig {
  /// "llama", or empty when config.json has no model_type.
  std::string modelType;
  /// "LlamaForCausalLM", ...
  std::vector<std::string> architectures;
  int64_t hiddenSize = 0;
  int64_t numHiddenLayers = 0;
  int64_t numAttentionHeads = 0;
  /// num_key_value_heads; default num_attention_heads.
  int64_t numKeyValueHeads = 0;
  int64_t intermediateSize = 0;
  int64_t vocabSize = 0;
  int64_t maxPositionEmbeddings = 0;
  /// head_dim; default hidden_size / num_attention_heads.
  int64_t headDim = 0;
  double rmsNormEps = 0.0;
  /// rope_theta (or rope_parameters.rope_theta); default 10000.
  double ropeTheta = 10000.0;
  /// No lm_head.weight: the head reuses model.embed_tokens.weight.
  bool tieWordEmbeddings = false;
  /// torch_dtype (or dtype): "bfloat16", "float32", ...; empty if absent.
  std::string torchDtype;
  std::optional<int64_t> bosTokenId;
  /// eos_token_id: one id or a list (Llama 3); empty if absent.
  std::vector<int64_t> eosTokenIds;
};

/// Reads and checks the config.json at `path`.
llvm::Expected<HfLlamaConfig> readHfLlamaConfig(llvm::StringRef path);

/// Checks the JSON text of a config.json; `name` starts every message
/// ("<name>: <what is wrong>"). Refuses:
///  - other architectures (model_type not "llama" and no LlamaForCausalLM);
///  - missing or mistyped required keys (hidden_size, num_hidden_layers,
///    num_attention_heads, intermediate_size, vocab_size, rms_norm_eps,
///    max_position_embeddings), sizes that are not positive integers below
///    2^31, and inconsistent head counts;
///  - what the compiler does not implement: rope_scaling other than null
///    (Llama 3.1's "llama3", "linear", "dynamic", "yarn", ...), a
///    rope_parameters rope_type other than "default", hidden_act other than
///    "silu", attention_bias or mlp_bias true.
llvm::Expected<HfLlamaConfig> parseHfLlamaConfig(llvm::StringRef json,
                                                 llvm::StringRef name);

//===----------------------------------------------------------------------===//
// Tensor names
//===----------------------------------------------------------------------===//

/// The GGUF name of a Hugging Face Llama tensor name:
///   model.embed_tokens.weight                     -> token_embd.weight
///   model.layers.{i}.self_attn.{q,k,v,o}_proj.weight
///                                 -> blk.{i}.attn_{q,k,v,output}.weight
///   model.layers.{i}.mlp.{gate,up,down}_proj.weight
///                                 -> blk.{i}.ffn_{gate,up,down}.weight
///   model.layers.{i}.input_layernorm.weight       -> blk.{i}.attn_norm.weight
///   model.layers.{i}.post_attention_layernorm.weight
///                                                 -> blk.{i}.ffn_norm.weight
///   model.norm.weight                             -> output_norm.weight
///   lm_head.weight                                -> output.weight
/// or nullopt for other names (rotary_emb.inv_freq of old checkpoints,
/// biases, layer numbers written with leading zeros).
std::optional<std::string> ggufTensorName(llvm::StringRef hfName);

/// A tensor a Llama checkpoint must hold.
struct HfLlamaTensor {
  std::string hfName;
  std::string ggufName;
  /// Row-major, as in the safetensors file: [out, in] for weights.
  llvm::SmallVector<int64_t, 2> shape;
  /// Heads for permuteForAdjacentRope: num_attention_heads for q_proj,
  /// num_key_value_heads for k_proj, 0 for tensors kept as they are.
  int64_t ropeHeads = 0;
};

/// The tensors of a checkpoint with `config`: the embedding, the layers in
/// order, the final norm, and lm_head unless tie_word_embeddings.
std::vector<HfLlamaTensor> hfLlamaTensors(const HfLlamaConfig &config);

/// Reorders the rows of each of `heads` heads of the row-major [rows, cols]
/// matrix `w` from Hugging Face's half-split RoPE order to adjacent pairs:
/// row 2j + h of a head takes row h * D/2 + j (D = rows / heads, h in
/// {0, 1}), as convert_hf_to_gguf.py's permute. `rows` must be a multiple
/// of 2 * heads.
void permuteForAdjacentRope(float *w, int64_t rows, int64_t cols,
                            int64_t heads);

} // namespace qmlir::hf

#endif // QMLIR_IMPORT_HFCONFIG_H
