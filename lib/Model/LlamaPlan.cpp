//===- LlamaPlan.cpp - Llama configuration and weights layout -------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Model/Llama.h"

#include "llvm/Support/Regex.h"

using namespace mlir;
using namespace qmlir;
using namespace qmlir::model;
using runtime::ElementType;

static llvm::Error configError(const gguf::GgufFile &file,
                               const llvm::Twine &message) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      (file.getPath() + ": " + message).str());
}

llvm::Expected<LlamaConfig>
model::readLlamaConfig(const gguf::GgufFile &file) {
  llvm::Expected<llvm::StringRef> arch =
      file.getString("general.architecture");
  if (!arch)
    return arch.takeError();
  if (*arch != "llama")
    return configError(file, "architecture '" + *arch +
                                 "' is not supported (only 'llama')");
  LlamaConfig c;
  auto get = [&](llvm::StringRef key, int64_t &out) -> llvm::Error {
    llvm::Expected<uint64_t> v = file.getUInt(("llama." + key).str());
    if (!v)
      return v.takeError();
    if (*v == 0 || *v > (uint64_t(1) << 31))
      return configError(file, "metadata key 'llama." + key +
                                   "' has an invalid value " +
                                   llvm::Twine(*v));
    out = *v;
    return llvm::Error::success();
  };
  for (auto [key, out] :
       {std::pair<const char *, int64_t *>{"block_count", &c.layers},
        {"embedding_length", &c.dim},
        {"attention.head_count", &c.heads},
        {"feed_forward_length", &c.ffn},
        {"context_length", &c.trainContext}})
    if (llvm::Error e = get(key, *out))
      return std::move(e);
  c.kvHeads = c.heads;
  if (file.hasKey("llama.attention.head_count_kv"))
    if (llvm::Error e = get("attention.head_count_kv", c.kvHeads))
      return std::move(e);
  if (c.dim % c.heads != 0 || c.heads % c.kvHeads != 0)
    return configError(file, "unsupported head layout: " +
                                 llvm::Twine(c.heads) + " heads, " +
                                 llvm::Twine(c.kvHeads) +
                                 " kv heads, embedding " + llvm::Twine(c.dim));
  c.headDim = c.dim / c.heads;
  if (c.headDim % 2 != 0)
    return configError(file, "odd head dimension " + llvm::Twine(c.headDim));
  if (file.hasKey("llama.rope.dimension_count")) {
    int64_t ropeDim = 0;
    if (llvm::Error e = get("rope.dimension_count", ropeDim))
      return std::move(e);
    if (ropeDim != c.headDim)
      return configError(file, "partial rotary embeddings (rope dimension " +
                                   llvm::Twine(ropeDim) + " of " +
                                   llvm::Twine(c.headDim) +
                                   ") are not supported");
  }
  if (file.hasKey("llama.rope.freq_base")) {
    llvm::Expected<double> v = file.getFloat("llama.rope.freq_base");
    if (!v)
      return v.takeError();
    c.ropeBase = *v;
  }
  llvm::Expected<double> eps =
      file.getFloat("llama.attention.layer_norm_rms_epsilon");
  if (!eps)
    return eps.takeError();
  c.rmsEps = *eps;

  const gguf::TensorInfo *embd = file.findTensor("token_embd.weight");
  if (!embd)
    return configError(file, "tensor 'token_embd.weight' is missing");
  if (embd->shape.size() != 2 || embd->shape[0] != c.dim)
    return configError(file, "tensor 'token_embd.weight' does not have " +
                                 llvm::Twine(c.dim) + " columns");
  c.vocab = embd->shape[1];
  c.tiedHead = file.findTensor("output.weight") == nullptr;

  // Every tensor the model reads, with the shape it must have (ggml order:
  // [columns, rows]).
  auto expect = [&](const std::string &name,
                    llvm::ArrayRef<int64_t> shape) -> llvm::Error {
    const gguf::TensorInfo *t = file.findTensor(name);
    if (!t)
      return configError(file, "tensor '" + name + "' is missing");
    if (llvm::ArrayRef<int64_t>(t->shape) != shape)
      return configError(file, "tensor '" + name + "' has an unexpected shape");
    if (!numerics::ggml::canDequantize(t->type))
      return configError(file, "tensor '" + name + "' has type " +
                                   numerics::ggml::typeName(t->type) +
                                   ", which cannot be imported yet");
    return llvm::Error::success();
  };
  int64_t kvDim = c.kvHeads * c.headDim;
  for (int64_t l = 0; l < c.layers; ++l) {
    std::string p = "blk." + std::to_string(l) + ".";
    for (auto [name, shape] :
         std::initializer_list<std::pair<const char *, std::vector<int64_t>>>{
             {"attn_norm.weight", {c.dim}},
             {"attn_q.weight", {c.dim, c.dim}},
             {"attn_k.weight", {c.dim, kvDim}},
             {"attn_v.weight", {c.dim, kvDim}},
             {"attn_output.weight", {c.dim, c.dim}},
             {"ffn_norm.weight", {c.dim}},
             {"ffn_gate.weight", {c.dim, c.ffn}},
             {"ffn_up.weight", {c.dim, c.ffn}},
             {"ffn_down.weight", {c.ffn, c.dim}}})
      if (llvm::Error e = expect(p + name, shape))
        return std::move(e);
  }
  if (llvm::Error e = expect("output_norm.weight", {c.dim}))
    return std::move(e);
  if (!c.tiedHead)
    if (llvm::Error e = expect("output.weight", {c.dim, c.vocab}))
      return std::move(e);
  return c;
}

llvm::Expected<LlamaConfig>
model::llamaConfigFromHf(const hf::HfLlamaConfig &h, llvm::StringRef path) {
  LlamaConfig c;
  c.layers = h.numHiddenLayers;
  c.dim = h.hiddenSize;
  c.heads = h.numAttentionHeads;
  c.kvHeads = h.numKeyValueHeads;
  c.headDim = h.headDim;
  c.ffn = h.intermediateSize;
  c.vocab = h.vocabSize;
  c.trainContext = h.maxPositionEmbeddings;
  c.ropeBase = h.ropeTheta;
  c.rmsEps = h.rmsNormEps;
  c.tiedHead = h.tieWordEmbeddings;
  if (c.heads * c.headDim != c.dim || c.kvHeads <= 0 ||
      c.heads % c.kvHeads != 0 || c.headDim % 2 != 0)
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        (path + ": unsupported head layout: " + llvm::Twine(c.heads) +
         " heads of " + llvm::Twine(c.headDim) + ", " + llvm::Twine(c.kvHeads) +
         " kv heads, hidden size " + llvm::Twine(c.dim))
            .str());
  return c;
}

namespace {
/// Appends stored tensors to a block at 64-byte aligned offsets.
struct BlockBuilder {
  std::vector<StoredTensor> &tensors;
  uint64_t size = 0;

  size_t add(std::string name, ElementType type, std::vector<int64_t> shape,
             uint64_t elementBytes) {
    uint64_t count = 1;
    for (int64_t d : shape)
      count *= d;
    size = (size + 63) / 64 * 64;
    tensors.push_back({std::move(name), type, std::move(shape),
                       count * elementBytes, size});
    size += tensors.back().bytes;
    return tensors.size() - 1;
  }
};
} // namespace

/// Plans one linear layer's stored tensors.
static llvm::Expected<LinearPlan>
planLinear(MLIRContext *ctx, BlockBuilder &block, const std::string &source,
           int64_t n, int64_t k, std::optional<numerics::Scheme> scheme,
           const CompileOptions &options) {
  LinearPlan lin{source, n, k, std::nullopt, {}};
  if (scheme && !options.keepFloat.empty()) {
    llvm::Regex keep(options.keepFloat);
    if (keep.match(source))
      scheme.reset();
  }
  if (!scheme) {
    lin.parts.push_back(block.add(source, ElementType::F32, {n, k}, 4));
    return lin;
  }
  std::string why = numerics::validate(*scheme, k);
  if (!why.empty())
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "tensor '" + source + "': " + why);
  lin.scheme = scheme;
  qnt::WeightTypes wt = qnt::getWeightTypes(
      qnt::SchemeAttr::fromNumerics(ctx, *scheme, Float32Type::get(ctx)), n,
      k);
  auto add = [&](const char *suffix, RankedTensorType type) {
    ElementType et = type.getElementType().isF32() ? ElementType::F32
                                                   : ElementType::I8;
    lin.parts.push_back(block.add(source + suffix, et,
                                  std::vector<int64_t>(type.getShape()),
                                  et == ElementType::F32 ? 4 : 1));
  };
  add(".codes", wt.codes);
  add(".scales", wt.scales);
  if (wt.zeroPoints)
    add(".zero_points", wt.zeroPoints);
  if (wt.dqScales) {
    add(".dq_scales", wt.dqScales);
    add(".dq_offset", wt.dqOffset);
  }
  return lin;
}

llvm::Expected<ModelPlan> model::planModel(MLIRContext *ctx,
                                           const LlamaConfig &c,
                                           const CompileOptions &options) {
  ModelPlan plan;
  const std::optional<numerics::Scheme> &s = options.scheme;
  int64_t kvDim = c.kvHeads * c.headDim;

  BlockBuilder layer{plan.layerTensors};
  plan.attnNorm = layer.add("blk.0.attn_norm.weight", ElementType::F32,
                            {c.dim}, 4);
  struct Lin {
    LinearPlan *plan;
    const char *name;
    int64_t n, k;
  } linears[] = {{&plan.q, "attn_q", c.dim, c.dim},
                 {&plan.k, "attn_k", kvDim, c.dim},
                 {&plan.v, "attn_v", kvDim, c.dim},
                 {&plan.o, "attn_output", c.dim, c.dim},
                 {nullptr, "ffn_norm", 0, 0},
                 {&plan.gate, "ffn_gate", c.ffn, c.dim},
                 {&plan.up, "ffn_up", c.ffn, c.dim},
                 {&plan.down, "ffn_down", c.dim, c.ffn}};
  for (const Lin &l : linears) {
    if (!l.plan) {
      plan.ffnNorm =
          layer.add("blk.0.ffn_norm.weight", ElementType::F32, {c.dim}, 4);
      continue;
    }
    llvm::Expected<LinearPlan> lin =
        planLinear(ctx, layer, "blk.0." + std::string(l.name) + ".weight",
                   l.n, l.k, s, options);
    if (!lin)
      return lin.takeError();
    *l.plan = std::move(*lin);
  }
  plan.layerStride = (layer.size + 63) / 64 * 64;
  plan.layerBase = 0;

  // Globals after the layers. Gathered embedding rows cannot use double
  // quantization (its blocks of 256 scales span rows).
  BlockBuilder globals{plan.globals};
  globals.size = plan.layerStride * c.layers;
  std::optional<numerics::Scheme> embScheme = s;
  if (embScheme)
    embScheme->doubleQuant = false;
  llvm::Expected<LinearPlan> emb = planLinear(
      ctx, globals, "token_embd.weight", c.vocab, c.dim, embScheme, options);
  if (!emb)
    return emb.takeError();
  plan.embedding = std::move(*emb);
  plan.outputNorm =
      globals.add("output_norm.weight", ElementType::F32, {c.dim}, 4);
  if (c.tiedHead) {
    plan.head = plan.embedding;
  } else {
    llvm::Expected<LinearPlan> head = planLinear(
        ctx, globals, "output.weight", c.vocab, c.dim, s, options);
    if (!head)
      return head.takeError();
    plan.head = std::move(*head);
  }
  plan.totalBytes = (globals.size + 63) / 64 * 64;

  // The layout hash: FNV-1a over a description of everything above.
  std::string desc = "llama1";
  for (int64_t v : {c.layers, c.dim, c.heads, c.kvHeads, c.ffn, c.vocab,
                    options.maxContext, options.prefillChunk})
    desc += " " + std::to_string(v);
  desc += " stride " + std::to_string(plan.layerStride);
  for (const auto *block : {&plan.layerTensors, &plan.globals})
    for (const StoredTensor &t : *block) {
      desc += " " + t.name + ":" + runtime::elementTypeName(t.type) + "@" +
              std::to_string(t.offset);
      for (int64_t d : t.shape)
        desc += "x" + std::to_string(d);
    }
  plan.layoutHash = runtime::checksum(desc.data(), desc.size()) >> 1;
  return plan;
}
