//===- ModelRunner.cpp - Load and run a compiled model --------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/ModelRunner.h"
#include "qmlir/Runtime/CpuDispatch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <dlfcn.h>
#include <type_traits>

using namespace qmlir::runtime;

namespace {

/// MLIR's memref descriptor (the C interface of the entry points).
template <typename T, int N> struct MemRef {
  T *allocated;
  T *aligned;
  int64_t offset;
  int64_t sizes[N];
  int64_t strides[N];
};

template <typename T, int N>
MemRef<T, N> describe(T *data, const int64_t (&sizes)[N]) {
  MemRef<T, N> m{data, data, 0, {}, {}};
  int64_t stride = 1;
  for (int i = N - 1; i >= 0; --i) {
    m.sizes[i] = sizes[i];
    m.strides[i] = stride;
    stride *= sizes[i];
  }
  return m;
}

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

} // namespace

/// A CUDA model's buffers in device memory, managed through the quant-mlir
/// CUDA runtime that the model library links (the gpu-to-llvm host ABI).
struct ModelRunner::Device {
  void *(*alloc)(uint64_t, void *, bool) = nullptr;
  void (*free)(void *, void *) = nullptr;
  void (*copy)(void *, void *, size_t, void *) = nullptr;
  void (*fill)(void *, unsigned, size_t, void *) = nullptr;
  void (*sync)(void *) = nullptr;
  void *(*createStream)() = nullptr;
  void (*destroyStream)(void *) = nullptr;
  void (*bindStream)(void *, void *, size_t) = nullptr;
  size_t (*workspaceAsked)() = nullptr;
  bool (*captureBegin)(void *) = nullptr;
  bool (*captureLaunch)(void *, void **) = nullptr;
  void (*destroyGraph)(void *) = nullptr;
  const char *(*lastError)() = nullptr;
  void *weights = nullptr, *kCache = nullptr, *vCache = nullptr,
       *tokens = nullptr, *logits = nullptr;
  /// Where an entry point runs: every stream of the compiled host code is
  /// this one (bound around the call), so the layers follow each other on
  /// the GPU with no synchronization between them.
  void *stream = nullptr;
  /// Decode steps: their temporaries in one workspace (grown to what the
  /// last step asked for), each step captured into a CUDA graph that
  /// updates the previous one (QMLIR_CUDA_GRAPHS=0: launched one by one).
  void *workspace = nullptr, *decodeGraph = nullptr;
  size_t workspaceBytes = 0;
  bool graphs = true;

  ~Device() {
    if (decodeGraph)
      destroyGraph(decodeGraph);
    for (void *p : {weights, kCache, vCache, tokens, logits, workspace})
      if (p)
        free(p, nullptr);
    if (stream)
      destroyStream(stream);
  }

  /// Looks the runtime up in `library`; false if it is not there.
  bool bind(void *library) {
    auto get = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(library, name));
      return fn != nullptr;
    };
    return get(alloc, "mgpuMemAlloc") && get(free, "mgpuMemFree") &&
           get(copy, "mgpuMemcpy") && get(fill, "mgpuMemset32") &&
           get(sync, "mgpuStreamSynchronize") &&
           get(createStream, "mgpuStreamCreate") &&
           get(destroyStream, "mgpuStreamDestroy") &&
           get(bindStream, "qmlirCudaBindStream") &&
           get(workspaceAsked, "qmlirCudaWorkspaceAsked") &&
           get(captureBegin, "qmlirCudaCaptureBegin") &&
           get(captureLaunch, "qmlirCudaCaptureLaunch") &&
           get(destroyGraph, "qmlirCudaGraphDestroy") &&
           get(lastError, "qmlirCudaLastError");
  }

  /// Waits for the copies and reports the runtime's first error (the driver
  /// call, what it was for and the driver's message).
  bool check(const std::string &what, std::string &error) {
    sync(nullptr);
    return noError(what, error);
  }
  /// The runtime's first error, if any, as what + ": " + it.
  bool noError(const std::string &what, std::string &error) {
    if (const char *e = lastError()) {
      error = what + ": " + e;
      return false;
    }
    return true;
  }

  void *allocate(size_t bytes) { return alloc(bytes, nullptr, false); }
};

std::unique_ptr<ModelRunner> ModelRunner::load(const std::string &dir,
                                               std::string &error,
                                               bool dummyWeights) {
  std::unique_ptr<ModelRunner> m(new ModelRunner());
  std::string so = dir + "/model.so";
  m->library = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!m->library) {
    const char *why = dlerror();
    error = so + ": cannot load the compiled model: " +
            (why ? why : "unknown error");
    return nullptr;
  }
  auto *info = static_cast<const int64_t *>(
      dlsym(m->library, "qmlir_model_info"));
  m->prefill = reinterpret_cast<Entry>(
      dlsym(m->library, "_mlir_ciface_qmlir_prefill"));
  m->decode =
      reinterpret_cast<Entry>(dlsym(m->library, "_mlir_ciface_qmlir_decode"));
  if (!info || !m->prefill || !m->decode) {
    error = so + ": not a quant-compile model library (entry points missing)";
    return nullptr;
  }
  if (info[kInfoVersion] != kModelInfoVersion) {
    error = so + ": model library version " +
            std::to_string(info[kInfoVersion]) + ", this runtime reads " +
            std::to_string(kModelInfoVersion) + " (recompile the model)";
    return nullptr;
  }
  std::copy(info, info + kInfoCount, m->info);
  if (!initCpuDispatch(m->library, m->cpuKernelsRun, error)) {
    error = so + ": " + error;
    return nullptr;
  }

  std::string weights = dir + "/weights.bin";
  // (The layout hash check below also means weights.bin holds this many.)
  uint64_t weightBytes = uint64_t(m->info[kInfoWeightsBytes]);
  size_t dummyWords = (weightBytes + 3) / 4;
  if (!dummyWeights) {
    if (!m->weights.open(weights, error))
      return nullptr;
    if (int64_t(m->weights.layoutHash()) != m->info[kInfoLayoutHash]) {
      error = weights + ": does not belong to " + so +
              " (layout hash mismatch: recompile, or use the weights.bin the "
              "library was compiled with)";
      return nullptr;
    }
    if (!m->weights.verify(error))
      return nullptr;
    m->hostWeights = m->weights.data();
  }

  std::optional<Tokenizer> t = Tokenizer::load(dir + "/tokenizer.bin", error);
  if (!t)
    return nullptr;
  m->tok = std::make_unique<Tokenizer>(std::move(*t));
  if (int64_t(m->tok->vocabSize()) > m->vocab()) {
    error = dir + "/tokenizer.bin: " + std::to_string(m->tok->vocabSize()) +
            " tokens for a model with a vocabulary of " +
            std::to_string(m->vocab());
    return nullptr;
  }
  for (const char *end : {"<|im_end|>", "<|endoftext|>", "<|eot_id|>"})
    if (std::optional<int32_t> id = m->tok->tokenId(end))
      m->endIds.push_back(*id);
  if (m->tok->eos() >= 0)
    m->endIds.push_back(m->tok->eos());

  size_t cache = size_t(m->info[kInfoLayers]) * m->maxContext() *
                 m->info[kInfoKvHeads] * m->info[kInfoHeadDim];
  if (m->info[kInfoMemory] == kHostMemory) {
    if (dummyWeights) {
      m->dummyWeights.assign(dummyWords, kDummyWord);
      m->hostWeights = reinterpret_cast<uint8_t *>(m->dummyWeights.data());
    }
    m->kCache.assign(cache, 0.0f);
    m->vCache.assign(cache, 0.0f);
    return m;
  }
  // A CUDA model: weights, caches, tokens and logits live on the device.
  m->device = std::make_unique<Device>();
  Device &d = *m->device;
  if (m->info[kInfoMemory] != kCudaMemory || !d.bind(m->library)) {
    m->device.reset();
    error = so + ": compiled for device memory kind " +
            std::to_string(m->info[kInfoMemory]) +
            " but its library does not provide the quant-mlir CUDA runtime";
    return nullptr;
  }
  size_t chunk = m->prefillTokens();
  d.weights = d.allocate(dummyWords * 4);
  d.kCache = d.allocate(cache * 4);
  d.vCache = d.allocate(cache * 4);
  d.tokens = d.allocate(chunk * 4);
  d.logits = d.allocate(chunk * m->vocab() * 4);
  d.stream = d.createStream();
  if (const char *env = std::getenv("QMLIR_CUDA_GRAPHS"))
    d.graphs = std::string(env) != "0";
  if (!d.check(so + ": cannot allocate the model's device memory", error))
    return nullptr;
  if (dummyWeights)
    d.fill(d.weights, kDummyWord, dummyWords, nullptr);
  else
    d.copy(d.weights, const_cast<uint8_t *>(m->hostWeights), weightBytes,
           nullptr);
  d.fill(d.kCache, 0, cache, nullptr);
  d.fill(d.vCache, 0, cache, nullptr);
  if (!d.check(weights + ": cannot upload the weights to the GPU", error))
    return nullptr;
  return m;
}

ModelRunner::~ModelRunner() {
  device.reset(); // Its runtime lives in the library.
  if (library)
    dlclose(library);
}

bool ModelRunner::isEnd(int32_t id) const {
  return std::find(endIds.begin(), endIds.end(), id) != endIds.end();
}

std::vector<int32_t> ModelRunner::encodePrompt(const std::string &prompt,
                                               bool chat) const {
  // Instruct models get their chat template (ChatML).
  std::string text = prompt;
  if (chat && tok->tokenId("<|im_start|>"))
    text = "<|im_start|>user\n" + prompt +
           "<|im_end|>\n<|im_start|>assistant\n";
  std::vector<int32_t> ids = tok->encode(text, /*parseSpecial=*/true);
  if (tok->specialIds().addBos && tok->bos() >= 0)
    ids.insert(ids.begin(), tok->bos());
  return ids;
}

bool ModelRunner::forward(const std::vector<int32_t> &ids, int64_t pos,
                          std::vector<float> &logits, std::string &error) {
  int64_t n = ids.size(), v = vocab();
  if (pos < 0 || pos + n > maxContext()) {
    error = "positions " + std::to_string(pos) + ".." +
            std::to_string(pos + n - 1) + " do not fit the KV cache of " +
            std::to_string(maxContext()) +
            " positions (quant-compile --max-context)";
    return false;
  }
  for (int32_t id : ids)
    if (id < 0 || id >= v) {
      error = "token id " + std::to_string(id) + " is outside the vocabulary";
      return false;
    }
  logits.resize(size_t(n) * v);
  // Decode steps one token at a time; longer runs go through prefill in
  // chunks, the last one padded (padding positions are overwritten before
  // any later token can see them).
  int64_t chunk = prefillTokens();
  std::vector<int32_t> tokens;
  std::vector<float> out;
  for (int64_t done = 0; done < n;) {
    bool single = n - done == 1 || chunk == 1;
    int64_t count = single ? 1 : std::min(chunk, n - done);
    int64_t width = single ? 1 : chunk;
    if (!single && pos + done + width > maxContext()) {
      // A padded chunk would run past the cache: finish token by token.
      single = true;
      count = width = 1;
    }
    tokens.assign(ids.begin() + done, ids.begin() + done + count);
    tokens.resize(width, ids[done + count - 1]);
    if (!run(single, tokens, pos + done, out, error))
      return false;
    std::copy(out.begin(), out.begin() + size_t(count) * v,
              logits.begin() + size_t(done) * v);
    done += count;
  }
  return true;
}

bool ModelRunner::run(bool single, const std::vector<int32_t> &tokens,
                      int64_t pos, std::vector<float> &out,
                      std::string &error) {
  int64_t width = tokens.size(), v = vocab();
  out.resize(size_t(width) * v);
  int64_t cacheSizes[4] = {info[kInfoLayers], maxContext(), info[kInfoKvHeads],
                           info[kInfoHeadDim]};
  Entry entry = single ? decode : prefill;
  // Host buffers, or for a CUDA model their device copies (tokens in,
  // logits out around the call).
  Device *d = device.get();
  // A decode step of a CUDA model: captured into a graph once its
  // temporaries fit the workspace (the first step measures them).
  bool graph = false;
  if (d) {
    d->bindStream(d->stream, single ? d->workspace : nullptr,
                  single ? d->workspaceBytes : 0);
    d->copy(d->tokens, const_cast<int32_t *>(tokens.data()), width * 4,
            d->stream);
    graph = single && d->graphs && d->workspace && d->captureBegin(d->stream);
  }
  auto w = describe(d ? static_cast<uint8_t *>(d->weights)
                      : const_cast<uint8_t *>(hostWeights),
                    {info[kInfoWeightsBytes]});
  auto kc =
      describe(d ? static_cast<float *>(d->kCache) : kCache.data(), cacheSizes);
  auto vc =
      describe(d ? static_cast<float *>(d->vCache) : vCache.data(), cacheSizes);
  auto t = describe(d ? static_cast<int32_t *>(d->tokens)
                      : const_cast<int32_t *>(tokens.data()),
                    {width});
  auto l =
      describe(d ? static_cast<float *>(d->logits) : out.data(), {width, v});
  entry(&w, &kc, &vc, &t, pos, &l);
  if (!d)
    return true;
  if (graph)
    d->captureLaunch(d->stream, &d->decodeGraph);
  d->copy(out.data(), d->logits, out.size() * 4, d->stream);
  size_t asked = d->workspaceAsked();
  d->bindStream(nullptr, nullptr, 0);
  d->sync(d->stream);
  if (single && asked > d->workspaceBytes) {
    // Room for longer caches (the attention's temporaries grow with them).
    if (d->workspace)
      d->free(d->workspace, nullptr);
    d->workspaceBytes = 2 * asked;
    d->workspace = d->allocate(d->workspaceBytes);
  }
  return d->noError(std::string("running qmlir_") +
                        (single ? "decode" : "prefill") + " on the GPU",
                    error);
}

/// The next token from one row of logits.
static int32_t sample(const float *logits, int64_t vocab,
                      const SamplingOptions &o, std::mt19937_64 &rng) {
  if (o.temperature <= 0.0f)
    return std::max_element(logits, logits + vocab) - logits;
  int k = std::clamp<int64_t>(o.topK > 0 ? o.topK : vocab, 1, vocab);
  std::vector<int32_t> order(vocab);
  for (int64_t i = 0; i < vocab; ++i)
    order[i] = i;
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  std::vector<double> p(k);
  double top = logits[order[0]], sum = 0;
  for (int i = 0; i < k; ++i)
    sum += p[i] = std::exp((logits[order[i]] - top) / o.temperature);
  double r = std::uniform_real_distribution<double>(0, sum)(rng);
  for (int i = 0; i < k; ++i)
    if ((r -= p[i]) <= 0)
      return order[i];
  return order[k - 1];
}

bool ModelRunner::generate(const std::vector<int32_t> &prompt,
                           const SamplingOptions &o,
                           const std::function<void(int32_t)> &emit,
                           GenerationStats &stats, std::string &error) {
  if (prompt.empty()) {
    error = "the prompt has no tokens";
    return false;
  }
  std::mt19937_64 rng(o.seed);
  std::vector<float> logits;
  auto start = std::chrono::steady_clock::now();
  if (!forward(prompt, 0, logits, error))
    return false;
  stats.promptTokens = prompt.size();
  stats.prefillSeconds = since(start);
  int64_t v = vocab(), pos = prompt.size();
  std::vector<float> row(logits.end() - v, logits.end());
  std::vector<int32_t> history(prompt);
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < o.maxNewTokens; ++i) {
    if (o.repeatPenalty != 1.0f) {
      std::vector<bool> seen(v, false);
      for (size_t j = history.size() - std::min<size_t>(history.size(),
                                                         o.repeatWindow);
           j < history.size(); ++j)
        if (!seen[history[j]]) {
          seen[history[j]] = true;
          float &l = row[history[j]];
          l = l > 0 ? l / o.repeatPenalty : l * o.repeatPenalty;
        }
    }
    int32_t next = sample(row.data(), v, o, rng);
    if (isEnd(next) && !o.ignoreEos)
      break;
    emit(next);
    ++stats.newTokens;
    if (pos >= maxContext())
      break;
    history.push_back(next);
    if (!forward({next}, pos++, logits, error))
      return false;
    row.assign(logits.begin(), logits.begin() + v);
  }
  stats.decodeSeconds = since(start);
  return true;
}

bool ModelRunner::perplexity(
    const std::vector<int32_t> &ids, int64_t ctx, int64_t maxWindows,
    PerplexityResult &result, std::string &error,
    const std::function<void(int64_t, double)> &progress) {
  if (ctx < 2 || ctx > maxContext()) {
    error = "--ctx " + std::to_string(ctx) + " must be in [2, " +
            std::to_string(maxContext()) + "] (the compiled --max-context)";
    return false;
  }
  int64_t windows = int64_t(ids.size()) / ctx;
  if (maxWindows > 0)
    windows = std::min(windows, maxWindows);
  if (windows == 0) {
    error = "the text has " + std::to_string(ids.size()) +
            " tokens, fewer than one window of " + std::to_string(ctx);
    return false;
  }
  auto start = std::chrono::steady_clock::now();
  double nll = 0;
  int64_t scored = 0, v = vocab();
  std::vector<float> logits;
  for (int64_t w = 0; w < windows; ++w) {
    std::vector<int32_t> window(ids.begin() + w * ctx,
                                ids.begin() + (w + 1) * ctx);
    if (!forward(window, 0, logits, error))
      return false;
    for (int64_t j = ctx / 2; j + 1 < ctx; ++j) {
      const float *row = logits.data() + j * v;
      double mx = *std::max_element(row, row + v), sum = 0;
      for (int64_t i = 0; i < v; ++i)
        sum += std::exp(double(row[i]) - mx);
      nll += std::log(sum) + mx - row[window[j + 1]];
      ++scored;
    }
    if (progress)
      progress(w + 1, std::exp(nll / scored));
  }
  result.windows = windows;
  result.scoredTokens = scored;
  result.totalTokens = ids.size();
  result.perplexity = std::exp(nll / scored);
  result.seconds = since(start);
  return true;
}
