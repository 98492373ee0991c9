//===- quant-compile.cpp - Compile a model ahead of time ------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
//   quant-compile MODEL.gguf|HF_DIR --scheme f32|int8|int4|nf4|fp4
//       [--group-size N]
//       [--asymmetric] [--double-quant] [--compute-type f32]
//       [--target cpu] [--cpu native|NAME] [--keep-float REGEX]
//       [--max-context N] [--prefill-tokens N] -o OUTDIR
//
// Bad input gets one line naming what is wrong and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Driver/Driver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace qmlir;

static cl::OptionCategory category("quant-compile options");
static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("MODEL.gguf or a Hugging Face "
                                               "checkpoint directory"),
                                      cl::Required, cl::cat(category));
static cl::opt<std::string> outDir("o", cl::desc("Output directory"),
                                   cl::value_desc("OUTDIR"), cl::Required,
                                   cl::cat(category));
static cl::opt<std::string>
    schemeOpt("scheme", cl::desc("f32 (unquantized), int8, int4, nf4 or fp4"),
              cl::init("nf4"), cl::cat(category));
static cl::opt<int64_t> groupSize(
    "group-size",
    cl::desc("Values per scale along K (0: per channel; default: 64 for "
             "int4/nf4/fp4, per channel for int8)"),
    cl::init(-1), cl::cat(category));
static cl::opt<bool> asymmetric("asymmetric",
                                cl::desc("Zero points (int8, int4)"),
                                cl::cat(category));
static cl::opt<bool> doubleQuant("double-quant",
                                 cl::desc("Quantize the absmax (nf4, fp4)"),
                                 cl::cat(category));
static cl::opt<std::string> computeType(
    "compute-type", cl::desc("Activation type (the CPU target computes in f32)"),
    cl::init("f32"), cl::cat(category));
static cl::opt<std::string> target("target", cl::desc("cpu"), cl::init("cpu"),
                                   cl::cat(category));
static cl::opt<std::string>
    cpu("cpu",
        cl::desc("CPU to generate code for: native (this machine) or an LLVM "
                 "CPU name such as x86-64"),
        cl::init("native"), cl::cat(category));
static cl::opt<std::string>
    keepFloat("keep-float",
              cl::desc("Linear layers whose GGUF name matches stay f32"),
              cl::value_desc("REGEX"), cl::cat(category));
static cl::opt<int64_t> maxContext("max-context",
                                   cl::desc("KV cache positions"),
                                   cl::init(1024), cl::cat(category));
static cl::opt<int64_t> prefillTokens("prefill-tokens",
                                      cl::desc("Tokens of one prefill call"),
                                      cl::init(64), cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("No progress output"),
                           cl::cat(category));

static int fail(const Twine &message) {
  WithColor::error(errs(), "quant-compile") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv,
                              "quant-mlir ahead-of-time model compiler\n");

  driver::CompileRequest request;
  request.modelPath = modelPath;
  request.outDir = outDir;
  request.target = target;
  request.cpu = cpu;
  request.log = quiet ? nullptr : &outs();
  model::CompileOptions &o = request.options;
  if (maxContext < 1 || maxContext > (1 << 20))
    return fail("--max-context " + Twine(maxContext) +
                " is out of range [1, 1048576]");
  if (prefillTokens < 1 || prefillTokens > maxContext)
    return fail("--prefill-tokens " + Twine(prefillTokens) +
                " is out of range [1, --max-context]");
  o.maxContext = maxContext;
  o.prefillChunk = prefillTokens;
  if (!keepFloat.empty()) {
    std::string why;
    if (!Regex(keepFloat).isValid(why))
      return fail("--keep-float '" + keepFloat + "' is not a valid regex: " +
                  why);
    o.keepFloat = keepFloat;
  }
  if (computeType != "f32")
    return fail("--compute-type '" + computeType +
                "' is not supported by the cpu target (supported: f32)");

  if (schemeOpt != "f32") {
    numerics::Scheme s;
    if (!numerics::parseKind(schemeOpt, s.kind))
      return fail("--scheme '" + schemeOpt +
                  "' is not one of f32, int8, int4, nf4, fp4");
    bool table = numerics::isTableKind(s.kind);
    if (asymmetric && table)
      return fail("--asymmetric does not apply to --scheme " + schemeOpt);
    if (doubleQuant && !table)
      return fail("--double-quant applies to nf4 and fp4, not " + schemeOpt);
    s.symmetric = !asymmetric;
    s.doubleQuant = doubleQuant;
    s.groupSize = groupSize >= 0 ? groupSize
                                 : (s.kind == numerics::Kind::Int8 ? 0 : 64);
    if (table && s.groupSize == 0)
      return fail("--scheme " + schemeOpt + " needs --group-size > 0");
    o.scheme = s;
  } else if (asymmetric || doubleQuant || groupSize >= 0) {
    return fail("--scheme f32 takes no --group-size, --asymmetric or "
                "--double-quant");
  }

  Expected<driver::CompileResult> result = driver::compileModel(request);
  if (!result)
    return fail(toString(result.takeError()));
  return 0;
}
