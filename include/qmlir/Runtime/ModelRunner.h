//===- ModelRunner.h - Load and run a compiled model ------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The runtime side of quant-compile's output directory (Driver.h): loads
// model.so, maps weights.bin (checking that its layout is the one the
// library was compiled for), loads tokenizer.bin, owns the KV caches, and
// runs the entry points: logits of token runs, greedy or sampled
// generation, perplexity. Plain C++ (dlopen, mmap): no MLIR at run time.
// A model compiled for a CUDA GPU gets its weights, caches and I/O buffers
// in device memory through the CUDA runtime that its library links (looked
// up in the library), so this code needs no CUDA either.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_MODELRUNNER_H
#define QMLIR_RUNTIME_MODELRUNNER_H

#include "qmlir/Runtime/ModelInfo.h"
#include "qmlir/Runtime/Tokenizer.h"
#include "qmlir/Runtime/WeightsFile.h"

#include <functional>
#include <memory>
#include <random>

namespace qmlir::runtime {

/// Sampling settings: temperature 0 is greedy. The repetition penalty
/// (llama.cpp's repeat_penalty) divides the positive logits and multiplies
/// the negative ones of the tokens among the last `repeatWindow` tokens.
struct SamplingOptions {
  float temperature = 0.0f;
  float repeatPenalty = 1.1f;
  int repeatWindow = 64;
  int topK = 40;
  uint64_t seed = 0;
  int maxNewTokens = 64;
  /// Keep generating past end-of-generation tokens (llama.cpp's
  /// --ignore-eos; benchmarks).
  bool ignoreEos = false;
};

/// Timings of a generation.
struct GenerationStats {
  int promptTokens = 0, newTokens = 0;
  double prefillSeconds = 0, decodeSeconds = 0;
};

/// Result of a perplexity run.
struct PerplexityResult {
  double perplexity = 0, seconds = 0;
  int64_t windows = 0, scoredTokens = 0, totalTokens = 0;
};

class ModelRunner {
public:
  /// Loads a compiled model directory; the error is one line naming the
  /// file and what is wrong. With `dummyWeights` (vLLM's `--load-format
  /// dummy`, for benchmarks of models whose weights cannot travel) no
  /// weights.bin is read: the weights' memory (host, or the device for a
  /// CUDA model, filled there) holds the word 0x3C003C00 everywhere, valid
  /// codes and finite scales and norms (f32 ~0.0079, f16 1.0, bf16 ~0.0078)
  /// for every scheme; deterministic, and its logits mean nothing.
  static std::unique_ptr<ModelRunner> load(const std::string &dir,
                                           std::string &error,
                                           bool dummyWeights = false);
  ~ModelRunner();

  const Tokenizer &tokenizer() const { return *tok; }
  int64_t vocab() const { return info[kInfoVocab]; }
  int64_t maxContext() const { return info[kInfoMaxContext]; }
  int64_t prefillTokens() const { return info[kInfoPrefillChunk]; }
  /// Which CPU kernels run (see CpuDispatch.h), for --verbose.
  const std::string &cpuKernels() const { return cpuKernelsRun; }

  /// Runs `ids` at positions pos.. (the cache must hold positions < pos);
  /// returns their logits, row-major [ids.size(), vocab]. False with
  /// `error` set when the run would not fit the cache or an id is out of
  /// range.
  bool forward(const std::vector<int32_t> &ids, int64_t pos,
               std::vector<float> &logits, std::string &error);

  /// Generates after `prompt` (ids); calls `emit` with each new token's
  /// id; stops at an end-of-generation token or maxNewTokens.
  bool generate(const std::vector<int32_t> &prompt,
                const SamplingOptions &options,
                const std::function<void(int32_t)> &emit,
                GenerationStats &stats, std::string &error);

  /// llama.cpp's perplexity: non-overlapping windows of `ctx` tokens, each
  /// from position 0, scoring the predictions of the second half.
  bool perplexity(const std::vector<int32_t> &ids, int64_t ctx,
                  int64_t maxWindows, PerplexityResult &result,
                  std::string &error,
                  const std::function<void(int64_t, double)> &progress = {});

  /// The ids of a prompt: wrapped in the model's chat template (ChatML)
  /// when `chat` is set and the vocabulary has one, with BOS if the model
  /// wants it; special tokens in the text are parsed.
  std::vector<int32_t> encodePrompt(const std::string &prompt,
                                    bool chat) const;

  /// The word dummy weights hold (see load).
  static constexpr uint32_t kDummyWord = 0x3C003C00u;

  /// Whether `id` ends a generation (eos, <|im_end|>, <|endoftext|>).
  bool isEnd(int32_t id) const;

private:
  ModelRunner() = default;
  using Entry = void (*)(void *, void *, void *, void *, int64_t, void *);

  struct Device;

  /// Runs one entry point on `width` tokens; `out` gets width rows of
  /// logits.
  bool run(bool single, const std::vector<int32_t> &tokens, int64_t pos,
           std::vector<float> &out, std::string &error);

  void *library = nullptr;
  Entry prefill = nullptr, decode = nullptr;
  int64_t info[kInfoCount] = {};
  WeightsFile weights;
  /// The weights the entry points read on the host: weights.bin's mapped
  /// data, or dummyWeights.
  const uint8_t *hostWeights = nullptr;
  std::vector<uint32_t> dummyWeights;
  std::unique_ptr<Tokenizer> tok;
  std::vector<float> kCache, vCache;
  std::vector<int32_t> endIds;
  std::string cpuKernelsRun;
  /// The device buffers of a CUDA model (null for the CPU).
  std::unique_ptr<Device> device;
};

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_MODELRUNNER_H
