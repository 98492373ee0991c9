//===- quant-run.cpp - Run a compiled model -------------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
//   quant-run OUTDIR --prompt TEXT [--max-new-tokens N] [--temperature T]
//       [--top-k K] [--seed S] [--repeat-penalty 1.1] [--raw]
//   quant-run OUTDIR --perplexity FILE [--ctx 512] [--max-windows N]
//   quant-run OUTDIR --ids 1,2,3 --logits FILE   (raw f32 [ids, vocab])
//   [--dummy-weights] [--ignore-eos] [--verbose]
//
// No MLIR or LLVM at run time: the runtime library and the model's own
// shared library. Errors are one line and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/ModelRunner.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>

using namespace qmlir::runtime;

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "quant-run: error: %s\n", message.c_str());
  return 1;
}

const char *kUsage =
    "usage: quant-run OUTDIR --prompt TEXT [--max-new-tokens N] "
    "[--temperature T] [--top-k K] [--seed S] [--repeat-penalty R] [--raw]\n"
    "       quant-run OUTDIR --perplexity FILE [--ctx N] [--max-windows N]\n"
    "       quant-run OUTDIR --ids ID,ID,... --logits FILE\n"
    "options: --dummy-weights  no weights.bin: synthetic weights made in "
    "memory\n"
    "                    (benchmarks of a model's speed; its output means "
    "nothing)\n"
    "         --ignore-eos  generate all --max-new-tokens\n"
    "         --verbose  print which CPU kernels run (QMLIR_CPU_ISA=generic|"
    "avx2|avx512|\n"
    "                    avx512vnni|avx512bf16|amx picks them in a library "
    "compiled\n"
    "                    with --cpu NAME)\n";

/// Parses a number flag value; false if it is not one.
template <typename T> bool number(const char *text, T &out) {
  char *end = nullptr;
  errno = 0;
  if constexpr (std::is_floating_point_v<T>)
    out = std::strtod(text, &end);
  else
    out = std::strtoll(text, &end, 10);
  return errno == 0 && end && *end == '\0' && end != text;
}

double peakMemoryMB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

} // namespace

int main(int argc, char **argv) {
  std::string dir, prompt, pplFile, logitsFile;
  std::vector<int32_t> givenIds;
  bool havePrompt = false, raw = false, verbose = false, dummy = false;
  SamplingOptions sampling;
  int64_t ctx = 512, maxWindows = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char * {
      return i + 1 < argc ? argv[++i] : nullptr;
    };
    auto bad = [&](const char *v) {
      return fail(v ? "invalid value '" + std::string(v) + "' for " + a
                    : a + " needs a value");
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--verbose") {
      verbose = true;
    } else if (a == "--dummy-weights") {
      dummy = true;
    } else if (a == "--ignore-eos") {
      sampling.ignoreEos = true;
    } else if (a == "--prompt") {
      const char *v = value();
      if (!v)
        return bad(v);
      prompt = v;
      havePrompt = true;
    } else if (a == "--perplexity") {
      const char *v = value();
      if (!v)
        return bad(v);
      pplFile = v;
    } else if (a == "--max-new-tokens") {
      const char *v = value();
      int64_t n;
      if (!v || !number(v, n) || n < 0 || n > 1000000)
        return bad(v);
      sampling.maxNewTokens = n;
    } else if (a == "--temperature") {
      const char *v = value();
      double t;
      if (!v || !number(v, t) || t < 0 || !std::isfinite(t))
        return bad(v);
      sampling.temperature = t;
    } else if (a == "--repeat-penalty") {
      const char *v = value();
      double r;
      if (!v || !number(v, r) || r <= 0 || !std::isfinite(r))
        return bad(v);
      sampling.repeatPenalty = r;
    } else if (a == "--top-k") {
      const char *v = value();
      int64_t k;
      if (!v || !number(v, k) || k < 0)
        return bad(v);
      sampling.topK = k;
    } else if (a == "--seed") {
      const char *v = value();
      int64_t s;
      if (!v || !number(v, s))
        return bad(v);
      sampling.seed = s;
    } else if (a == "--ctx") {
      const char *v = value();
      if (!v || !number(v, ctx))
        return bad(v);
    } else if (a == "--max-windows") {
      const char *v = value();
      if (!v || !number(v, maxWindows) || maxWindows < 0)
        return bad(v);
    } else if (a == "--ids") {
      const char *v = value();
      if (!v)
        return bad(v);
      std::stringstream list(v);
      std::string item;
      while (std::getline(list, item, ',')) {
        int64_t id;
        if (!number(item.c_str(), id) || id < 0 || id > INT32_MAX)
          return bad(v);
        givenIds.push_back(id);
      }
      if (givenIds.empty())
        return bad(v);
    } else if (a == "--logits") {
      const char *v = value();
      if (!v)
        return bad(v);
      logitsFile = v;
    } else if (a == "--raw") {
      raw = true;
    } else if (!a.empty() && a[0] == '-') {
      return fail("unknown option '" + a + "' (see --help)");
    } else if (dir.empty()) {
      dir = a;
    } else {
      return fail("unexpected argument '" + a + "' (see --help)");
    }
  }
  if (dir.empty())
    return fail("no model directory given (see --help)");
  if (int(havePrompt) + int(!pplFile.empty()) + int(!givenIds.empty()) != 1)
    return fail("give exactly one of --prompt, --perplexity and --ids");
  if (givenIds.empty() != logitsFile.empty())
    return fail("--ids and --logits go together");

  std::string error;
  std::unique_ptr<ModelRunner> model = ModelRunner::load(dir, error, dummy);
  if (!model)
    return fail(error);
  if (verbose)
    std::fprintf(stderr, "cpu kernels: %s\n", model->cpuKernels().c_str());
  const Tokenizer &tok = model->tokenizer();

  if (!givenIds.empty()) {
    std::vector<float> logits;
    if (!model->forward(givenIds, 0, logits, error))
      return fail(error);
    std::FILE *out = std::fopen(logitsFile.c_str(), "wb");
    if (!out || std::fwrite(logits.data(), sizeof(float), logits.size(), out) !=
                    logits.size() || std::fclose(out) != 0)
      return fail(logitsFile + ": cannot write: " + std::strerror(errno));
    return 0;
  }

  if (!pplFile.empty()) {
    std::ifstream in(pplFile, std::ios::binary);
    if (!in)
      return fail(pplFile + ": cannot open: " + std::strerror(errno));
    std::stringstream text;
    text << in.rdbuf();
    std::vector<int32_t> ids = tok.encode(text.str(), /*parseSpecial=*/false);
    PerplexityResult r;
    bool ok = model->perplexity(
        ids, ctx, maxWindows, r, error, [&](int64_t w, double ppl) {
          std::fprintf(stderr, "\r  window %lld: perplexity %.4f",
                       (long long)w, ppl);
        });
    std::fprintf(stderr, "\n");
    if (!ok)
      return fail(error);
    std::printf("perplexity %.4f over %lld windows of %lld tokens (%lld "
                "scored of %lld) in %.1f s (%.1f tokens/s), peak memory "
                "%.0f MB\n",
                r.perplexity, (long long)r.windows, (long long)ctx,
                (long long)r.scoredTokens, (long long)r.totalTokens,
                r.seconds, r.windows * ctx / r.seconds, peakMemoryMB());
    return 0;
  }

  // Instruct models get their chat template unless --raw.
  std::vector<int32_t> ids = model->encodePrompt(prompt, /*chat=*/!raw);
  GenerationStats stats;
  bool ok = model->generate(
      ids, sampling,
      [&](int32_t id) {
        std::string_view piece = tok.piece(id);
        std::fwrite(piece.data(), 1, piece.size(), stdout);
        std::fflush(stdout);
      },
      stats, error);
  std::printf("\n");
  std::fflush(stdout);
  if (!ok)
    return fail(error);
  std::fprintf(stderr,
               "prompt %d tokens: %.1f tokens/s; generated %d tokens: %.2f "
               "tokens/s; peak memory %.0f MB\n",
               stats.promptTokens,
               stats.promptTokens / std::max(stats.prefillSeconds, 1e-9),
               stats.newTokens,
               stats.newTokens / std::max(stats.decodeSeconds, 1e-9),
               peakMemoryMB());
  return 0;
}
