//===- QmlirModule.cpp - Python bindings of quant-mlir (nanobind) ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The native module `qmlir._qmlir`. It is thin on purpose: every formula is
// the numerics library's, every compile option is checked by the driver's
// buildCompileRequest, and models run through the runtime's ModelRunner, as
// in quant-compile and quant-run. qmlir/__init__.py gives it its Python
// shape (argument normalization, QuantizedTensor, MemoryReport).
//
// Arrays cross without copies where the layout allows: a C-contiguous
// float32 input is read in place, and the outputs are numpy arrays over the
// C++ vectors that hold them (owned by a capsule). Errors are exceptions:
// ValueError for bad arguments, qmlir.Error (a RuntimeError) for what the
// compiler or the runtime refuses, with their one-line messages.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Driver/Driver.h"
#include "qmlir/InitAll.h"
#include "qmlir/Numerics/Gptq.h"
#include "qmlir/Numerics/Quantize.h"
#include "qmlir/Runtime/CpuDispatch.h"
#include "qmlir/Runtime/ModelRunner.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <mutex>
#include <stdexcept>

namespace nb = nanobind;
using namespace nb::literals;
using namespace qmlir;

namespace {

/// What the compiler or the runtime refused (qmlir.Error in Python).
struct QmlirError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename T>
using Array = nb::ndarray<nb::numpy, T>;
template <typename T>
using Input = nb::ndarray<const T, nb::c_contig, nb::device::cpu>;

/// A numpy array over `values` without a copy: the vector moves to the heap
/// and a capsule frees it with the array.
template <typename T>
Array<T> toNumpy(std::vector<T> &&values, std::initializer_list<size_t> shape) {
  auto *owned = new std::vector<T>(std::move(values));
  nb::capsule owner(owned, [](void *p) noexcept {
    delete static_cast<std::vector<T> *>(p);
  });
  return Array<T>(owned->data(), shape.size(), shape.begin(), owner);
}

template <typename T>
std::vector<T> toVector(const Input<T> &a) {
  return std::vector<T>(a.data(), a.data() + a.size());
}

/// The scheme of keyword arguments, checked for a weight with K columns.
numerics::Scheme makeScheme(const std::string &kind, int64_t groupSize,
                            bool symmetric, bool doubleQuant,
                            const std::optional<std::vector<float>> &codebook,
                            int64_t k) {
  numerics::Scheme s;
  if (!numerics::parseKind(kind, s.kind))
    throw nb::value_error(
        ("scheme '" + kind + "' is not one of int8, int4, nf4, fp4").c_str());
  bool table = numerics::isTableKind(s.kind);
  if (!symmetric && table)
    throw nb::value_error(
        ("asymmetric does not apply to scheme " + kind).c_str());
  if (doubleQuant && !table)
    throw nb::value_error(
        ("double_quant applies to nf4 and fp4, not " + kind).c_str());
  if (codebook && !table)
    throw nb::value_error(
        ("codebook applies to nf4 and fp4, not " + kind).c_str());
  if (codebook && codebook->size() != 16)
    throw nb::value_error(("codebook has " + std::to_string(codebook->size()) +
                           " values; a 4-bit code book has 16")
                              .c_str());
  s.symmetric = symmetric;
  s.doubleQuant = doubleQuant;
  s.groupSize = groupSize;
  if (codebook)
    s.codebook = *codebook;
  std::string why = numerics::validate(s, k, /*allowPartialGroups=*/true);
  if (!why.empty())
    throw nb::value_error(why.c_str());
  return s;
}

nb::dict quantize(const Input<float> &w, const std::string &kind,
                  int64_t groupSize, bool symmetric, bool doubleQuant,
                  const std::optional<std::vector<float>> &codebook,
                  const std::optional<Input<double>> &hessian, double damp,
                  bool actOrder, bool searchClip) {
  if (w.ndim() != 2 || w.shape(0) == 0 || w.shape(1) == 0)
    throw nb::value_error("quantize: the weight must be a non-empty [N, K] "
                          "array");
  int64_t n = w.shape(0), k = w.shape(1);
  numerics::Scheme s =
      makeScheme(kind, groupSize, symmetric, doubleQuant, codebook, k);
  if (hessian && (hessian->ndim() != 2 || int64_t(hessian->shape(0)) != k ||
                  int64_t(hessian->shape(1)) != k))
    throw nb::value_error(("quantize: the hessian must be [K, K] = [" +
                           std::to_string(k) + ", " + std::to_string(k) +
                           "] for this weight")
                              .c_str());
  numerics::QuantizedWeight q;
  std::string error;
  {
    nb::gil_scoped_release release;
    if (hessian)
      numerics::quantizeGptq(s, w.data(), n, k, hessian->data(),
                             numerics::GptqOptions{damp, actOrder, searchClip},
                             q, error);
    else
      q = numerics::quantize(s, w.data(), n, k);
  }
  if (!error.empty())
    throw nb::value_error(("quantize (GPTQ): " + error).c_str());
  int64_t g = q.groups();
  size_t codeCols = numerics::rowBytes(s.kind, k);
  nb::dict out;
  out["codes"] = toNumpy(std::move(q.codes), {size_t(n), codeCols});
  if (!s.doubleQuant)
    out["scales"] = toNumpy(std::move(q.scales), {size_t(n), size_t(g)});
  if (!s.symmetric)
    out["zero_points"] =
        toNumpy(std::move(q.zeroPoints), {size_t(n), size_t(g)});
  if (s.doubleQuant) {
    size_t blocks = q.dqScales.size();
    out["dq_codes"] = toNumpy(std::move(q.dqCodes), {size_t(n), size_t(g)});
    out["dq_scales"] = toNumpy(std::move(q.dqScales), {blocks});
    out["dq_offset"] = q.dqOffset;
  }
  return out;
}

nb::tuple quantizeInt8Outliers(const Input<float> &w, float threshold) {
  if (w.ndim() != 2 || w.shape(0) == 0 || w.shape(1) == 0)
    throw nb::value_error("quantize: the weight must be a non-empty [N, K] "
                          "array");
  size_t n = w.shape(0), k = w.shape(1);
  std::vector<int64_t> cols;
  numerics::QuantizedWeight q;
  {
    nb::gil_scoped_release release;
    q = numerics::quantizeInt8WithOutliers(w.data(), n, k, threshold, cols);
  }
  size_t count = cols.size();
  return nb::make_tuple(toNumpy(std::move(q.codes), {n, k}),
                        toNumpy(std::move(q.scales), {n, size_t(1)}),
                        toNumpy(std::move(cols), {count}));
}

/// Checks that an array given back to dequantize has the size the scheme
/// stores.
template <typename T>
void expectSize(const char *name, const std::optional<Input<T>> &a,
                size_t expected) {
  size_t got = a ? a->size() : 0;
  if (got != expected)
    throw nb::value_error(("dequantize: " + std::string(name) + " has " +
                           std::to_string(got) + " values; the scheme stores " +
                           std::to_string(expected))
                              .c_str());
}

Array<float> dequantize(const std::string &kind, int64_t groupSize,
                        bool symmetric, bool doubleQuant,
                        const std::optional<std::vector<float>> &codebook,
                        int64_t n, int64_t k, const Input<uint8_t> &codes,
                        const std::optional<Input<float>> &scales,
                        const std::optional<Input<uint8_t>> &zeroPoints,
                        const std::optional<Input<uint8_t>> &dqCodes,
                        const std::optional<Input<float>> &dqScales,
                        float dqOffset) {
  if (n <= 0 || k <= 0)
    throw nb::value_error("dequantize: the shape must be positive");
  numerics::QuantizedWeight q;
  q.scheme = makeScheme(kind, groupSize, symmetric, doubleQuant, codebook, k);
  q.n = n;
  q.k = k;
  size_t g = q.groups(), ng = size_t(n) * g;
  size_t codeBytes = size_t(n) * numerics::rowBytes(q.scheme.kind, k);
  expectSize("codes", std::optional<Input<uint8_t>>(codes), codeBytes);
  expectSize("scales", scales, doubleQuant ? 0 : ng);
  expectSize("zero_points", zeroPoints, symmetric ? 0 : ng);
  expectSize("dq_codes", dqCodes, doubleQuant ? ng : 0);
  expectSize("dq_scales", dqScales,
             doubleQuant ? (ng + numerics::kDoubleQuantBlock - 1) /
                               numerics::kDoubleQuantBlock
                         : 0);
  q.codes = toVector(codes);
  if (scales)
    q.scales = toVector(*scales);
  if (zeroPoints)
    q.zeroPoints = toVector(*zeroPoints);
  if (dqCodes)
    q.dqCodes = toVector(*dqCodes);
  if (dqScales)
    q.dqScales = toVector(*dqScales);
  q.dqOffset = dqOffset;
  std::vector<float> w;
  {
    nb::gil_scoped_release release;
    w = numerics::dequantize(q);
  }
  return toNumpy(std::move(w), {size_t(n), size_t(k)});
}

nb::tuple quantizeBlockwise(const Input<float> &x, int64_t blockSize) {
  if (x.size() == 0)
    throw nb::value_error("quantize_blockwise: the array is empty");
  if (blockSize <= 0)
    throw nb::value_error(("quantize_blockwise: block size " +
                           std::to_string(blockSize) + " is not positive")
                              .c_str());
  std::vector<uint8_t> codes;
  std::vector<float> absmax;
  numerics::quantizeBlockwiseDynamic(x.data(), x.size(), blockSize, codes,
                                     absmax);
  size_t count = codes.size(), blocks = absmax.size();
  return nb::make_tuple(toNumpy(std::move(codes), {count}),
                        toNumpy(std::move(absmax), {blocks}));
}

Array<float> codeTable(const std::string &kind) {
  numerics::Kind k;
  if (kind == "dynamic") {
    const auto &map = numerics::dynamicMap();
    return toNumpy(std::vector<float>(map.begin(), map.end()), {map.size()});
  }
  if (!numerics::parseKind(kind, k) || !numerics::isTableKind(k))
    throw nb::value_error(
        ("code_table: '" + kind + "' is not one of nf4, fp4, dynamic").c_str());
  const auto &t = numerics::tableFor(k);
  return toNumpy(std::vector<float>(t.begin(), t.end()), {t.size()});
}

nb::dict storage(const std::string &kind, int64_t groupSize, bool symmetric,
                 bool doubleQuant, int64_t n, int64_t k) {
  if (n <= 0 || k <= 0)
    throw nb::value_error(("memory_report: shape [" + std::to_string(n) +
                           ", " + std::to_string(k) + "] is not positive")
                              .c_str());
  numerics::StorageBreakdown b = numerics::storageFor(
      makeScheme(kind, groupSize, symmetric, doubleQuant, std::nullopt, k), n,
      k);
  nb::dict out;
  out["codes"] = b.codeBytes;
  out["scales"] = b.scaleBytes;
  out["zero_points"] = b.zeroPointBytes;
  out["double_quant"] = b.dqBytes;
  out["total"] = b.total();
  return out;
}

std::string memoryTable(int64_t parameters, uint64_t fp32, uint64_t fp16,
                        uint64_t stored, const std::string &scheme) {
  driver::MemoryReport m;
  m.parameters = parameters;
  m.fp32Bytes = fp32;
  m.fp16Bytes = fp16;
  m.storedBytes = stored;
  std::string text;
  llvm::raw_string_ostream os(text);
  driver::printMemoryTable(os, m, scheme);
  return text;
}

/// quant-opt in process: parses `source`, runs `pipeline` (a textual pass
/// pipeline on builtin.module, with or without the anchor) and prints the
/// result.
std::string runPipeline(const std::string &source, const std::string &pipeline,
                        const std::string &sourceName) {
  static std::once_flag once;
  std::call_once(once, [] { qmlir::registerAllPasses(); });
  mlir::DialectRegistry registry;
  qmlir::registerAllDialects(registry);
  mlir::MLIRContext context(registry);

  std::string diagnostics;
  llvm::raw_string_ostream diagOs(diagnostics);
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    if (d.getSeverity() == mlir::DiagnosticSeverity::Error) {
      if (!diagnostics.empty())
        diagOs << "; ";
      // "file:line:col: message", or the message alone when the location
      // names no place in the source.
      if (auto flc = llvm::dyn_cast<mlir::FileLineColLoc>(d.getLocation());
          flc && flc.getLine() > 0)
        diagOs << flc.getFilename().getValue() << ":" << flc.getLine() << ":"
               << flc.getColumn() << ": ";
      diagOs << d;
    }
    return mlir::success();
  });

  std::string text = pipeline;
  llvm::StringRef anchored(text);
  if (anchored.consume_front("builtin.module(") &&
      anchored.consume_back(")"))
    text = anchored.str();
  mlir::PassManager pm(&context);
  std::string pipelineError;
  llvm::raw_string_ostream pipelineOs(pipelineError);
  if (mlir::failed(mlir::parsePassPipeline(text, pm, pipelineOs))) {
    llvm::StringRef first = llvm::StringRef(pipelineError).split('\n').first;
    throw nb::value_error(("invalid pipeline '" + pipeline + "': " +
                           first.trim().str())
                              .c_str());
  }
  mlir::OwningOpRef<mlir::ModuleOp> module;
  {
    nb::gil_scoped_release release;
    module = mlir::parseSourceString<mlir::ModuleOp>(
        source, mlir::ParserConfig(&context), sourceName);
    if (module && mlir::failed(pm.run(*module)))
      module = nullptr, diagnostics = diagnostics.empty()
                                          ? "the pipeline failed"
                                          : diagnostics;
  }
  if (!module)
    throw QmlirError(diagnostics.empty() ? sourceName + ": cannot parse"
                                         : diagnostics);
  std::string out;
  llvm::raw_string_ostream os(out);
  module->print(os);
  return out;
}

nb::dict compile(const driver::CompileArgs &args, bool verbose) {
  llvm::Expected<driver::CompileRequest> request =
      driver::buildCompileRequest(args, driver::OptionSpelling::Keywords);
  if (!request)
    throw nb::value_error(llvm::toString(request.takeError()).c_str());
  request->log = verbose ? &llvm::outs() : nullptr;
  llvm::Expected<driver::CompileResult> result = [&] {
    nb::gil_scoped_release release;
    return driver::compileModel(*request);
  }();
  if (verbose)
    llvm::outs().flush();
  if (!result)
    throw QmlirError(llvm::toString(result.takeError()));
  nb::dict out;
  out["parameters"] = result->memory.parameters;
  out["fp32_bytes"] = result->memory.fp32Bytes;
  out["fp16_bytes"] = result->memory.fp16Bytes;
  out["stored_bytes"] = result->memory.storedBytes;
  out["seconds"] = result->seconds;
  out["out_dir"] = args.outDir;
  return out;
}

/// A compiled model (quant-run's ModelRunner).
class Model {
public:
  static Model load(const std::string &dir) {
    std::string error;
    Model m;
    m.runner = runtime::ModelRunner::load(dir, error);
    if (!m.runner)
      throw QmlirError(error);
    return m;
  }

  std::string cpuKernels() const { return runner->cpuKernels(); }

  Array<float> forward(const std::vector<int32_t> &ids, int64_t pos) {
    if (ids.empty())
      throw nb::value_error("forward: no tokens given");
    std::vector<float> logits;
    std::string error;
    bool ok;
    {
      nb::gil_scoped_release release;
      ok = runner->forward(ids, pos, logits, error);
    }
    if (!ok)
      throw QmlirError(error);
    return toNumpy(std::move(logits),
                   {ids.size(), size_t(runner->vocab())});
  }

  std::string generate(const std::string &prompt, int64_t maxNewTokens,
                       double temperature, int64_t topK, uint64_t seed,
                       double repeatPenalty, bool chat,
                       const std::optional<nb::callable> &onText) {
    if (maxNewTokens < 0)
      throw nb::value_error("generate: max_new_tokens is negative");
    if (!(temperature >= 0) || !std::isfinite(temperature))
      throw nb::value_error("generate: temperature must be >= 0");
    if (topK < 0)
      throw nb::value_error("generate: top_k is negative");
    if (!(repeatPenalty > 0) || !std::isfinite(repeatPenalty))
      throw nb::value_error("generate: repeat_penalty must be > 0");
    runtime::SamplingOptions o;
    o.maxNewTokens = maxNewTokens;
    o.temperature = temperature;
    o.topK = topK;
    o.seed = seed;
    o.repeatPenalty = repeatPenalty;
    std::vector<int32_t> ids = runner->encodePrompt(prompt, chat);
    std::vector<int32_t> generated;
    std::string error;
    bool ok;
    {
      nb::gil_scoped_release release;
      ok = runner->generate(
          ids, o,
          [&](int32_t id) {
            generated.push_back(id);
            if (onText) {
              nb::gil_scoped_acquire acquire;
              std::string_view piece = runner->tokenizer().piece(id);
              (*onText)(nb::bytes(piece.data(), piece.size()));
            }
          },
          stats, error);
    }
    if (!ok)
      throw QmlirError(error);
    return runner->tokenizer().decode(generated, /*skipSpecial=*/true);
  }

  nb::dict lastStats() const {
    nb::dict d;
    d["prompt_tokens"] = stats.promptTokens;
    d["new_tokens"] = stats.newTokens;
    d["prefill_seconds"] = stats.prefillSeconds;
    d["decode_seconds"] = stats.decodeSeconds;
    return d;
  }

  nb::dict perplexity(const std::string &text, int64_t ctx,
                      int64_t maxWindows) {
    std::vector<int32_t> ids =
        runner->tokenizer().encode(text, /*parseSpecial=*/false);
    runtime::PerplexityResult r;
    std::string error;
    bool ok;
    {
      nb::gil_scoped_release release;
      ok = runner->perplexity(ids, ctx, maxWindows, r, error);
    }
    if (!ok)
      throw QmlirError(error);
    nb::dict d;
    d["perplexity"] = r.perplexity;
    d["windows"] = r.windows;
    d["scored_tokens"] = r.scoredTokens;
    d["total_tokens"] = r.totalTokens;
    d["seconds"] = r.seconds;
    return d;
  }

  std::vector<int32_t> tokenize(const std::string &text, bool special) const {
    return runner->tokenizer().encode(text, special);
  }

  std::string detokenize(const std::vector<int32_t> &ids) const {
    int64_t v = runner->tokenizer().vocabSize();
    for (int32_t id : ids)
      if (id < 0 || id >= v)
        throw nb::value_error(("detokenize: token id " + std::to_string(id) +
                               " is out of range [0, " + std::to_string(v) +
                               ")")
                                  .c_str());
    return runner->tokenizer().decode(ids);
  }

  int64_t vocab() const { return runner->vocab(); }
  int64_t maxContext() const { return runner->maxContext(); }

private:
  std::unique_ptr<runtime::ModelRunner> runner;
  runtime::GenerationStats stats;
};

} // namespace

NB_MODULE(_qmlir, m) {
  m.doc() = "quant-mlir native module (use the qmlir package)";
  nb::exception<QmlirError>(m, "Error", PyExc_RuntimeError);

  m.def("quantize", &quantize, "w"_a, "kind"_a, "group_size"_a, "symmetric"_a,
        "double_quant"_a, "codebook"_a.none(), "hessian"_a.none(), "damp"_a,
        "act_order"_a, "search_clip"_a);
  m.def("dequantize", &dequantize, "kind"_a, "group_size"_a, "symmetric"_a,
        "double_quant"_a, "codebook"_a.none(), "n"_a, "k"_a, "codes"_a,
        "scales"_a.none(), "zero_points"_a.none(), "dq_codes"_a.none(),
        "dq_scales"_a.none(), "dq_offset"_a);
  m.def("quantize_blockwise", &quantizeBlockwise, "x"_a, "block_size"_a);
  m.def("quantize_int8_outliers", &quantizeInt8Outliers, "w"_a, "threshold"_a);
  m.def("code_table", &codeTable, "kind"_a);
  m.def("storage", &storage, "kind"_a, "group_size"_a, "symmetric"_a,
        "double_quant"_a, "n"_a, "k"_a);
  m.def("memory_table", &memoryTable, "parameters"_a, "fp32_bytes"_a,
        "fp16_bytes"_a, "stored_bytes"_a, "scheme"_a);
  m.def("run_pipeline", &runPipeline, "source"_a, "pipeline"_a,
        "source_name"_a);

  nb::class_<driver::CompileArgs>(m, "CompileArgs")
      .def(nb::init<>())
      .def_rw("model_path", &driver::CompileArgs::modelPath)
      .def_rw("out_dir", &driver::CompileArgs::outDir)
      .def_rw("scheme", &driver::CompileArgs::scheme)
      .def_rw("group_size", &driver::CompileArgs::groupSize)
      .def_rw("asymmetric", &driver::CompileArgs::asymmetric)
      .def_rw("double_quant", &driver::CompileArgs::doubleQuant)
      .def_rw("compute_type", &driver::CompileArgs::computeType)
      .def_rw("act_int8", &driver::CompileArgs::actInt8)
      .def_rw("outlier_threshold", &driver::CompileArgs::outlierThreshold)
      .def_rw("target", &driver::CompileArgs::target)
      .def_rw("cpu", &driver::CompileArgs::cpu)
      .def_rw("int_dot", &driver::CompileArgs::intDot)
      .def_rw("keep_float", &driver::CompileArgs::keepFloat)
      .def_rw("max_context", &driver::CompileArgs::maxContext)
      .def_rw("prefill_tokens", &driver::CompileArgs::prefillTokens);
  m.def("compile", &compile, "args"_a, "verbose"_a);

  nb::class_<Model>(m, "Model")
      .def_static("load", &Model::load, "out_dir"_a)
      .def("forward", &Model::forward, "tokens"_a, "pos"_a = 0)
      .def("generate", &Model::generate, "prompt"_a, "max_new_tokens"_a,
           "temperature"_a, "top_k"_a, "seed"_a, "repeat_penalty"_a, "chat"_a,
           "on_text"_a.none())
      .def_prop_ro("last_stats", &Model::lastStats)
      .def("perplexity", &Model::perplexity, "text"_a, "ctx"_a, "max_windows"_a)
      .def("tokenize", &Model::tokenize, "text"_a, "special"_a = false)
      .def("detokenize", &Model::detokenize, "ids"_a)
      .def_prop_ro("vocab_size", &Model::vocab)
      .def_prop_ro("max_context", &Model::maxContext)
      .def_prop_ro("cpu_kernels", &Model::cpuKernels);
  // For qmlir.Module: a library loaded by ctypes (its dlopen handle).
  m.def("init_cpu_dispatch", [](uintptr_t handle) {
    std::string description, error;
    if (!runtime::initCpuDispatch(reinterpret_cast<void *>(handle), description,
                                  error))
      throw QmlirError(error);
    return description;
  });
}
