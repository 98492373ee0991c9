//===- quant-compile.cpp - Compile a model ahead of time ------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
//   quant-compile MODEL.gguf|HF_DIR|MODULE.mlir --scheme f32|int8|int4|nf4|fp4
//       [--group-size N]
//       [--asymmetric] [--double-quant] [--compute-type f32|bf16|f16]
//       [--act-int8 [--outlier-threshold T]]
//       [--target cpu|cuda:sm_XX] [--cpu native|NAME] [--keep-float REGEX]
//       [--max-context N] [--prefill-tokens N] -o OUTDIR
//
// Bad input gets one line naming what is wrong and exit code 1.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Driver/Driver.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;
using namespace qmlir;

static cl::OptionCategory category("quant-compile options");
static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("MODEL.gguf, a Hugging Face "
                                               "checkpoint directory, or "
                                               "MODULE.mlir"),
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
static cl::opt<std::string>
    computeType("compute-type",
                cl::desc("Compute type of the quantized layers: f32, "
                         "bf16 or f16: activations and dequantized weights "
                         "in it, f32 sums (CPU bf16: vdpbf16ps on AVX-512 "
                         "BF16; CUDA: the tensor-core kernels). Default: "
                         "bf16 on CUDA, f32 on the CPU"),
                cl::cat(category));
static cl::opt<std::string>
    target("target",
           cl::desc("cpu, or cuda:sm_XX (XX >= 80) for an NVIDIA GPU"),
           cl::init("cpu"), cl::cat(category));
static cl::opt<std::string>
    cpu("cpu",
        cl::desc("CPU to generate code for: native (this machine) or an LLVM "
                 "CPU name such as x86-64"),
        cl::init("native"), cl::cat(category));
static cl::opt<bool> intDot(
    "int-dot",
    cl::desc("CPU (AVX2/AVX-512): quantized layers multiply 14-bit integer "
             "activations with the integer weights (exact int32 sums); "
             "--int-dot=false keeps f32 activations"),
    cl::init(true), cl::cat(category));
static cl::opt<bool>
    actInt8("act-int8",
            cl::desc("W8A8 (scheme int8, cpu): the int8 layers quantize each "
                     "activation row (token) to int8, integer dot products"),
            cl::cat(category));
static cl::opt<double> outlierThreshold(
    "outlier-threshold",
    cl::desc("With --act-int8: LLM.int8's threshold; activations with |x| "
             ">= it multiply the dequantized weights in f32"),
    cl::init(0.0), cl::cat(category));
static cl::opt<std::string>
    keepFloat("keep-float",
              cl::desc("Linear layers whose GGUF name (or, in an MLIR "
                       "module, location) matches stay f32"),
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

  driver::CompileArgs args;
  args.modelPath = modelPath;
  args.outDir = outDir;
  args.scheme = schemeOpt;
  args.groupSize = groupSize;
  args.asymmetric = asymmetric;
  args.doubleQuant = doubleQuant;
  args.computeType = computeType;
  args.target = target;
  args.cpu = cpu;
  args.intDot = intDot;
  args.actInt8 = actInt8;
  args.outlierThreshold = outlierThreshold;
  args.keepFloat = keepFloat;
  args.maxContext = maxContext;
  args.prefillTokens = prefillTokens;
  Expected<driver::CompileRequest> request =
      driver::buildCompileRequest(args, driver::OptionSpelling::Flags);
  if (!request)
    return fail(toString(request.takeError()));
  request->log = quiet ? nullptr : &outs();

  Expected<driver::CompileResult> result = driver::compileModel(*request);
  if (!result)
    return fail(toString(result.takeError()));
  return 0;
}
