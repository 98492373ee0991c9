//===- CompileModel.cpp - A model to a compiled model directory -----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Driver/Driver.h"

#include "Common.h"

#include "mlir/IR/Verifier.h"
#include "qmlir/Import/Gguf.h"
#include "qmlir/Import/GgufTokenizer.h"
#include "qmlir/Import/HfConfig.h"
#include "qmlir/Import/HfTokenizer.h"
#include "qmlir/Import/Safetensors.h"
#include "qmlir/InitAll.h"
#include "qmlir/Numerics/Ggml.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <chrono>
#include <map>

using namespace mlir;
using namespace qmlir;
using namespace qmlir::driver;
using namespace qmlir::driver::detail;
using model::LinearPlan;
using model::StoredTensor;

namespace {

/// Where the weights come from: a tensor by its GGUF name, as row-major
/// floats ([out, in] for weights), with the pages it was read from released.
class WeightSource {
public:
  virtual ~WeightSource() = default;
  virtual llvm::Error read(const std::string &name,
                           std::vector<float> &out) = 0;
  /// The [n, k] tensor `name` in `scheme` without requantizing, when the
  /// source already stores it that way (GGUF q8_0 / q4_0); else nullopt.
  virtual std::optional<numerics::QuantizedWeight>
  readAs(const std::string &name, const numerics::Scheme &scheme, int64_t n,
         int64_t k) {
    return std::nullopt;
  }
};

class GgufSource : public WeightSource {
public:
  explicit GgufSource(const gguf::GgufFile &file) : file(file) {}
  llvm::Error read(const std::string &name, std::vector<float> &out) override {
    const gguf::TensorInfo *t = file.findTensor(name);
    if (!t)
      return fail(file.getPath() + ": tensor '" + name + "' is missing");
    out.resize(t->numElements);
    llvm::Error e = file.dequantize(*t, out.data());
    file.release(*t);
    if (e)
      return e;
    return checkFinite(file.getPath(), name, out.data(), t->numElements,
                       t->rowLength());
  }
  std::optional<numerics::QuantizedWeight>
  readAs(const std::string &name, const numerics::Scheme &scheme, int64_t n,
         int64_t k) override {
    const gguf::TensorInfo *t = file.findTensor(name);
    if (!t || t->numRows() != n || t->rowLength() != k)
      return std::nullopt;
    std::optional<numerics::QuantizedWeight> q =
        numerics::ggml::storeAs(t->type, t->data, n, k, scheme);
    file.release(*t);
    // A non-finite block scale: read() dequantizes the tensor and names the
    // first bad value.
    if (q && numerics::firstNonFinite(q->scales.data(), q->scales.size()) >= 0)
      return std::nullopt;
    return q;
  }

private:
  const gguf::GgufFile &file;
};

/// A Hugging Face checkpoint: HF names, and q/k rows permuted from the
/// half-split RoPE order to the adjacent pairs the model IR uses.
class HfSource : public WeightSource {
public:
  HfSource(const safetensors::SafetensorsModel &model,
           const hf::HfLlamaConfig &config)
      : model(model) {
    for (hf::HfLlamaTensor &t : hf::hfLlamaTensors(config))
      byGguf[t.ggufName] = std::move(t);
  }
  llvm::Error read(const std::string &name, std::vector<float> &out) override {
    auto it = byGguf.find(name);
    if (it == byGguf.end())
      return fail("internal error: no Hugging Face name for '" + name + "'");
    const hf::HfLlamaTensor &want = it->second;
    const safetensors::TensorInfo *t = model.findTensor(want.hfName);
    if (!t)
      return fail(model.shards().front()->getPath() + ": tensor '" +
                  want.hfName + "' is missing");
    if (llvm::ArrayRef<int64_t>(t->shape) != llvm::ArrayRef<int64_t>(want.shape))
      return fail(model.fileOf(*t).getPath() + ": tensor '" + want.hfName +
                  "' does not have the shape config.json implies");
    out.resize(t->numElements);
    llvm::Error e = model.toFloat(*t, out.data());
    model.release(*t);
    if (!e)
      e = checkFinite(model.fileOf(*t).getPath(), want.hfName, out.data(),
                      t->numElements, t->shape.back());
    if (!e && want.ropeHeads)
      hf::permuteForAdjacentRope(out.data(), want.shape[0], want.shape[1],
                                 want.ropeHeads);
    return e;
  }

private:
  const safetensors::SafetensorsModel &model;
  std::map<std::string, hf::HfLlamaTensor> byGguf;
};

/// Streams the tensors of the plan from the source into the weights file,
/// one at a time, checking that each lands where the plan says.
class WeightStreamer {
public:
  WeightStreamer(WeightSource &source, runtime::WeightsWriter &writer,
                 MemoryReport &memory)
      : source(source), writer(writer), memory(memory) {}

  /// Writes a plan block's tensors for layer `layer` (-1: the globals),
  /// whose offsets are relative to `base`.
  llvm::Error block(const std::vector<StoredTensor> &tensors,
                    llvm::ArrayRef<const LinearPlan *> linears, int layer,
                    uint64_t base);

private:
  std::string rename(const std::string &name, int layer) const {
    if (layer < 0 || name.rfind("blk.0.", 0) != 0)
      return name;
    return "blk." + std::to_string(layer) + "." + name.substr(6);
  }
  llvm::Error put(const StoredTensor &st, int layer, uint64_t base,
                  const void *data, uint64_t bytes);
  llvm::Error read(const std::string &name, std::vector<float> &out) {
    if (llvm::Error e = source.read(name, out))
      return e;
    memory.parameters += out.size();
    return llvm::Error::success();
  }

  WeightSource &source;
  runtime::WeightsWriter &writer;
  MemoryReport &memory;

public:
  /// Linear layers copied from the source's own encoding (no requantizing).
  int64_t keptAsStored = 0;
};

llvm::Error WeightStreamer::put(const StoredTensor &st, int layer,
                                uint64_t base, const void *data,
                                uint64_t bytes) {
  if (bytes != st.bytes)
    return fail("internal error: tensor '" + rename(st.name, layer) +
                "' has " + llvm::Twine(bytes) + " bytes, the plan " +
                llvm::Twine(st.bytes));
  uint64_t offset =
      writer.add(rename(st.name, layer), st.type, st.shape, data, bytes);
  if (offset != base + st.offset)
    return fail("internal error: tensor '" + rename(st.name, layer) +
                "' landed at offset " + llvm::Twine(offset) +
                " instead of " + llvm::Twine(base + st.offset));
  memory.storedBytes += bytes;
  return llvm::Error::success();
}

llvm::Error WeightStreamer::block(const std::vector<StoredTensor> &tensors,
                                  llvm::ArrayRef<const LinearPlan *> linears,
                                  int layer, uint64_t base) {
  std::vector<float> values;
  // Tensors that are not parts of a linear layer are f32 vectors (norms).
  std::vector<bool> done(tensors.size(), false);
  for (const LinearPlan *lin : linears)
    for (size_t p : lin->parts)
      done[p] = true;
  size_t next = 0;
  auto flushVectorsBefore = [&](size_t end) -> llvm::Error {
    for (; next < end; ++next) {
      if (done[next])
        continue;
      const StoredTensor &st = tensors[next];
      if (llvm::Error e = read(rename(st.name, layer), values))
        return e;
      if (llvm::Error e = put(st, layer, base, values.data(),
                              values.size() * sizeof(float)))
        return e;
    }
    return llvm::Error::success();
  };
  for (const LinearPlan *lin : linears) {
    if (llvm::Error e = flushVectorsBefore(lin->parts.front()))
      return e;
    std::string source = rename(lin->source, layer);
    std::optional<numerics::QuantizedWeight> stored;
    if (lin->scheme)
      stored = this->source.readAs(source, *lin->scheme, lin->n, lin->k);
    if (stored) {
      memory.parameters += lin->n * lin->k;
      ++keptAsStored;
    } else if (llvm::Error e = read(source, values)) {
      return e;
    }
    if (!lin->scheme) {
      if (llvm::Error e = put(tensors[lin->parts[0]], layer, base,
                              values.data(), values.size() * sizeof(float)))
        return e;
    } else {
      numerics::QuantizedWeight q =
          stored ? std::move(*stored)
                 : numerics::quantize(*lin->scheme, values.data(), lin->n,
                                      lin->k);
      std::vector<std::pair<const void *, uint64_t>> parts = {
          {q.codes.data(), q.codes.size()}};
      if (lin->scheme->doubleQuant)
        parts.push_back({q.dqCodes.data(), q.dqCodes.size()});
      else
        parts.push_back({q.scales.data(), q.scales.size() * sizeof(float)});
      if (!q.zeroPoints.empty())
        parts.push_back({q.zeroPoints.data(), q.zeroPoints.size()});
      if (lin->scheme->doubleQuant) {
        parts.push_back({q.dqScales.data(), q.dqScales.size() * sizeof(float)});
        parts.push_back({&q.dqOffset, sizeof(float)});
      }
      if (parts.size() != lin->parts.size())
        return fail("internal error: tensor '" + source + "' has " +
                    llvm::Twine(parts.size()) + " parts, the plan " +
                    llvm::Twine(lin->parts.size()));
      for (size_t i = 0; i < parts.size(); ++i)
        if (llvm::Error e = put(tensors[lin->parts[i]], layer, base,
                                parts[i].first, parts[i].second))
          return e;
    }
    next = lin->parts.back() + 1;
  }
  return flushVectorsBefore(tensors.size());
}

/// C declarations of the entry points (memref descriptors by pointer).
std::string headerText(const model::LlamaConfig &c,
                       const model::CompileOptions &o) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << "/* Generated by quant-compile: the entry points of model.so. */\n"
        "#ifndef QMLIR_MODEL_H\n#define QMLIR_MODEL_H\n#include <stdint.h>\n\n"
        "/* MLIR memref descriptors (the C interface of the entry points). */\n"
        "typedef struct { int8_t *alloc, *data; int64_t offset, size[1], "
        "stride[1]; } qmlir_memref_i8_1d;\n"
        "typedef struct { int32_t *alloc, *data; int64_t offset, size[1], "
        "stride[1]; } qmlir_memref_i32_1d;\n"
        "typedef struct { float *alloc, *data; int64_t offset, size[2], "
        "stride[2]; } qmlir_memref_f32_2d;\n"
        "typedef struct { float *alloc, *data; int64_t offset, size[4], "
        "stride[4]; } qmlir_memref_f32_4d;\n\n";
  os << "enum {\n  QMLIR_LAYERS = " << c.layers << ",\n  QMLIR_DIM = " << c.dim
     << ",\n  QMLIR_KV_HEADS = " << c.kvHeads
     << ",\n  QMLIR_HEAD_DIM = " << c.headDim << ",\n  QMLIR_VOCAB = " << c.vocab
     << ",\n  QMLIR_MAX_CONTEXT = " << o.maxContext
     << ",\n  QMLIR_PREFILL_TOKENS = " << o.prefillChunk << "\n};\n\n";
  os << "/* weights: weights.bin's data section; caches: [LAYERS][MAX_CONTEXT]"
        "[KV_HEADS][HEAD_DIM] f32;\n   tokens: PREFILL_TOKENS (prefill) or 1 "
        "(decode) ids at positions pos..; logits: [tokens][VOCAB]. */\n";
  for (const char *name : {"qmlir_prefill", "qmlir_decode"})
    os << "void _mlir_ciface_" << name
       << "(qmlir_memref_i8_1d *weights, qmlir_memref_f32_4d *k_cache,\n"
          "    qmlir_memref_f32_4d *v_cache, qmlir_memref_i32_1d *tokens, "
          "int64_t pos,\n    qmlir_memref_f32_2d *logits);\n";
  os << "/* version, layers, dim, heads, kv heads, head dim, vocab, max "
        "context, prefill tokens, layout hash */\nextern const int64_t "
        "qmlir_model_info[10];\n\n#endif\n";
  return s;
}

} // namespace

void driver::printMemoryTable(llvm::raw_ostream &os, const MemoryReport &m,
                              llvm::StringRef scheme) {
  // GB for models, MB for small modules.
  bool gb = m.fp32Bytes >= 100'000'000;
  auto row = [&](llvm::StringRef name, uint64_t bytes) {
    os << llvm::format("  %-14s %9.3f %s  %6.2f %% of FP32\n",
                       name.str().c_str(), bytes / (gb ? 1e9 : 1e6),
                       gb ? "GB" : "MB", 100.0 * bytes / double(m.fp32Bytes));
  };
  os << llvm::format("  %.1f M parameters\n", m.parameters / 1e6);
  row("FP32", m.fp32Bytes);
  row("FP16", m.fp16Bytes);
  row(scheme, m.storedBytes);
}

namespace {
/// A GGUF or Hugging Face Llama into request.writeDir().
llvm::Expected<CompileResult> compileLlama(const CompileRequest &request);
} // namespace

llvm::Expected<CompileResult>
driver::compileModel(const CompileRequest &request) {
  StagedDirectory out(request.outDir);
  if (llvm::Error e = out.begin())
    return std::move(e);
  CompileRequest staged = request;
  staged.stagingDir = out.path();
  llvm::Expected<CompileResult> result =
      llvm::StringRef(request.modelPath).ends_with(".mlir")
          ? compileMlirModule(staged)
          : compileLlama(staged);
  if (!result)
    return result.takeError();
  if (llvm::Error e = out.commit())
    return std::move(e);
  return result;
}

namespace {
llvm::Expected<CompileResult> compileLlama(const CompileRequest &request) {
  auto start = std::chrono::steady_clock::now();
  llvm::raw_ostream &log = request.log ? *request.log : llvm::nulls();

  // A GGUF file, or a Hugging Face directory (config.json, tokenizer.json,
  // model.safetensors or its index).
  std::unique_ptr<gguf::GgufFile> ggufFile;
  std::unique_ptr<safetensors::SafetensorsModel> hfModel;
  std::unique_ptr<WeightSource> source;
  model::LlamaConfig c;
  std::optional<runtime::Tokenizer> tokenizer;
  if (llvm::sys::fs::is_directory(request.modelPath)) {
    auto inDir = [&](llvm::StringRef name) {
      return joinPath(request.modelPath, name);
    };
    llvm::Expected<hf::HfLlamaConfig> hc =
        hf::readHfLlamaConfig(inDir("config.json"));
    if (!hc)
      return hc.takeError();
    llvm::Expected<model::LlamaConfig> config =
        model::llamaConfigFromHf(*hc, inDir("config.json"));
    if (!config)
      return config.takeError();
    c = *config;
    llvm::Expected<std::unique_ptr<safetensors::SafetensorsModel>> m =
        safetensors::SafetensorsModel::openModelDir(request.modelPath);
    if (!m)
      return m.takeError();
    hfModel = std::move(*m);
    source = std::make_unique<HfSource>(*hfModel, *hc);
    int32_t bos = hc->bosTokenId ? int32_t(*hc->bosTokenId) : -1;
    int32_t eos = hc->eosTokenIds.empty() ? -1 : int32_t(hc->eosTokenIds[0]);
    llvm::Expected<runtime::Tokenizer> t =
        hf::tokenizerFromJson(inDir("tokenizer.json"), bos, eos);
    if (!t)
      return t.takeError();
    tokenizer = std::move(*t);
  } else {
    llvm::Expected<std::unique_ptr<gguf::GgufFile>> file =
        gguf::GgufFile::open(request.modelPath);
    if (!file)
      return file.takeError();
    ggufFile = std::move(*file);
    llvm::Expected<model::LlamaConfig> config =
        model::readLlamaConfig(*ggufFile);
    if (!config)
      return config.takeError();
    c = *config;
    source = std::make_unique<GgufSource>(*ggufFile);
    llvm::Expected<runtime::Tokenizer> t = gguf::tokenizerFromGguf(*ggufFile);
    if (!t)
      return t.takeError();
    tokenizer = std::move(*t);
  }

  DialectRegistry registry;
  qmlir::registerAllDialects(registry);
  MLIRContext ctx(registry);
  ctx.loadAllAvailableDialects();
  llvm::Expected<model::ModelPlan> plan =
      model::planModel(&ctx, c, request.options);
  if (!plan)
    return plan.takeError();

  if (llvm::Error e = createDirectory(request.writeDir()))
    return std::move(e);
  auto path = [&](llvm::StringRef name) {
    return joinPath(request.writeDir(), name);
  };

  std::string scheme = schemeName(request.options.scheme);
  log << "quant-compile: " << request.modelPath << " (llama, " << c.layers
      << " layers, dim " << c.dim << ", vocab " << c.vocab << ") -> "
      << scheme << ", " << request.target << "\n";

  // Weights: one tensor at a time.
  CompileResult result;
  result.config = c;
  std::string error;
  runtime::WeightsWriter writer;
  if (!writer.open(path("weights.bin"), error))
    return fail(error);
  WeightStreamer streamer(*source, writer, result.memory);
  const model::ModelPlan &p = *plan;
  const LinearPlan *layerLinears[] = {&p.q,    &p.k,  &p.v,   &p.o,
                                      &p.gate, &p.up, &p.down};
  for (int64_t l = 0; l < c.layers; ++l) {
    auto t0 = std::chrono::steady_clock::now();
    uint64_t base = p.layerBase + l * p.layerStride;
    writer.align();
    if (llvm::Error e = streamer.block(p.layerTensors, layerLinears, l, base))
      return std::move(e);
    writer.align();
    log << llvm::format("  [%2lld/%lld] blk.%lld  %.2f s\n", (long long)l + 1,
                        (long long)c.layers, (long long)l, since(t0));
  }
  std::vector<const LinearPlan *> globalLinears = {&p.embedding};
  if (!c.tiedHead)
    globalLinears.push_back(&p.head);
  writer.align();
  if (llvm::Error e = streamer.block(p.globals, globalLinears, -1, 0))
    return std::move(e);
  if (!writer.finish(p.layoutHash, error))
    return fail(error);
  if (streamer.keptAsStored)
    log << "  " << streamer.keptAsStored
        << " linear layers kept as stored in the GGUF (no requantization)\n";
  result.memory.fp32Bytes = uint64_t(result.memory.parameters) * 4;
  result.memory.fp16Bytes = uint64_t(result.memory.parameters) * 2;
  result.weightSeconds = since(start);

  // Code.
  auto t0 = std::chrono::steady_clock::now();
  OwningOpRef<ModuleOp> module =
      model::buildLlamaModule(&ctx, c, p, request.options);
  if (failed(verify(*module)))
    return fail("internal error: the generated module does not verify");
  std::string text;
  {
    llvm::raw_string_ostream os(text);
    module->print(os);
  }
  if (llvm::Error e = writeText(path("model.mlir"), text))
    return std::move(e);
  if (llvm::Error e = emitSharedLibrary(*module, request, path("model.so")))
    return std::move(e);
  if (llvm::Error e = writeText(path("model.h"), headerText(c, request.options)))
    return std::move(e);
  if (!tokenizer->save(path("tokenizer.bin"), error))
    return fail(error);
  result.codegenSeconds = since(t0);

  // Manifest.
  llvm::json::Object manifest{
      {"format", "quant-mlir model 1"},
      {"source", request.modelPath},
      {"architecture", "llama"},
      {"scheme", scheme},
      {"target", request.target},
      {"cpu", request.cpu},
      {"int_dot", request.intDot},
      {"compute_type", request.options.computeType},
      {"act_int8", request.options.actInt8},
      {"outlier_threshold", request.options.outlierThreshold},
      {"keep_float", request.options.keepFloat},
      {"config", llvm::json::Object{{"layers", c.layers},
                                    {"dim", c.dim},
                                    {"heads", c.heads},
                                    {"kv_heads", c.kvHeads},
                                    {"head_dim", c.headDim},
                                    {"ffn", c.ffn},
                                    {"vocab", c.vocab},
                                    {"rope_base", c.ropeBase},
                                    {"rms_eps", c.rmsEps},
                                    {"tied_head", c.tiedHead}}},
      {"max_context", request.options.maxContext},
      {"prefill_tokens", request.options.prefillChunk},
      {"layout_hash", int64_t(p.layoutHash)},
      {"files", llvm::json::Object{{"library", "model.so"},
                                   {"weights", "weights.bin"},
                                   {"header", "model.h"},
                                   {"tokenizer", "tokenizer.bin"},
                                   {"mlir", "model.mlir"}}},
      {"memory", memoryJson(result.memory)}};
  if (llvm::Error e = writeJson(path("manifest.json"), std::move(manifest)))
    return std::move(e);

  result.seconds = since(start);
  log << "memory (weights of the linear layers, embeddings and norms):\n";
  printMemoryTable(log, result.memory, scheme);
  log << llvm::format("compiled in %.1f s (weights %.1f s, code %.1f s) -> ",
                      result.seconds, result.weightSeconds,
                      result.codegenSeconds)
      << request.outDir << "\n";
  return result;
}
} // namespace
