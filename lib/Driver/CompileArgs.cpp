//===- CompileArgs.cpp - Validate the options of a model compile ----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// One set of checks for quant-compile's flags and the Python bindings'
// keyword arguments; only the spelling of the option names differs.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Driver/Driver.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/Regex.h"

#include <algorithm>
#include <cmath>

using namespace qmlir;
using namespace qmlir::driver;

llvm::Expected<CompileRequest>
driver::buildCompileRequest(const CompileArgs &args, OptionSpelling spelling) {
  auto opt = [&](llvm::StringRef flag) {
    if (spelling == OptionSpelling::Flags)
      return "--" + flag.str();
    std::string name = flag.str();
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
  };
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };

  CompileRequest request;
  request.modelPath = args.modelPath;
  request.outDir = args.outDir;
  request.target = args.target;
  request.cpu = args.cpu;
  request.intDot = args.intDot;
  model::CompileOptions &o = request.options;
  o.cuda = !cudaChip(args.target).empty();
  if (args.maxContext < 1 || args.maxContext > (1 << 20))
    return fail(opt("max-context") + " " + llvm::Twine(args.maxContext) +
                " is out of range [1, 1048576]");
  if (args.prefillTokens < 1 || args.prefillTokens > args.maxContext)
    return fail(opt("prefill-tokens") + " " + llvm::Twine(args.prefillTokens) +
                " is out of range [1, " + opt("max-context") + "]");
  o.maxContext = args.maxContext;
  o.prefillChunk = args.prefillTokens;
  if (!args.keepFloat.empty()) {
    std::string why;
    if (!llvm::Regex(args.keepFloat).isValid(why))
      return fail(opt("keep-float") + " '" + args.keepFloat +
                  "' is not a valid regex: " + why);
    o.keepFloat = args.keepFloat;
  }
  // cpu, or cuda:sm_XX (XX >= 80: the kernels use Ampere's instructions).
  if (args.target != "cpu") {
    llvm::StringRef chip = cudaChip(args.target);
    unsigned arch = 0;
    if (chip.empty() ||
        chip.drop_front(3).take_while(llvm::isDigit).getAsInteger(10, arch) ||
        arch < 80 ||
        !llvm::is_contained(llvm::ArrayRef<llvm::StringRef>{"", "a"},
                            chip.drop_front(3).drop_while(llvm::isDigit)))
      return fail(opt("target") + " '" + args.target +
                  "' is not supported (supported: cpu, cuda:sm_XX with XX "
                  ">= 80, e.g. cuda:sm_90)");
    if (!QMLIR_HAS_CUDA_RUNTIME)
      return fail(opt("target") + " '" + args.target +
                  "' needs a quant-mlir built with the CUDA toolkit (this one "
                  "has no CUDA runtime)");
  }
  // bf16 / f16 on CUDA: the tensor-core kernels. Unset: bf16 for quantized
  // layers on CUDA (bitsandbytes' bnb_4bit_compute_dtype), f32 otherwise.
  const std::string computeType =
      !args.computeType.empty() ? args.computeType
      : o.cuda && args.scheme != "f32" ? "bf16"
                                       : "f32";
  if (!llvm::is_contained({"f32", "bf16", "f16"}, computeType))
    return fail(opt("compute-type") + " '" + computeType +
                "' is not one of f32, bf16, f16");
  o.computeType = computeType;
  if (args.outlierThreshold != 0.0 &&
      !(args.outlierThreshold > 0.0 && std::isfinite(args.outlierThreshold))) {
    std::string value;
    llvm::raw_string_ostream(value)
        << llvm::format("%g", args.outlierThreshold);
    return fail(opt("outlier-threshold") + " " + value + " is not positive");
  }
  if (args.outlierThreshold > 0.0 && !args.actInt8)
    return fail(opt("outlier-threshold") + " needs " + opt("act-int8"));
  if (args.actInt8) {
    if (args.scheme != "int8" || args.asymmetric)
      return fail(opt("act-int8") + " needs " + opt("scheme") +
                  " int8 (symmetric), not " + args.scheme +
                  (args.asymmetric ? " " + opt("asymmetric") : ""));
    if (args.target != "cpu")
      return fail(opt("act-int8") + " is not supported by the " + args.target +
                  " target (supported: cpu)");
    if (computeType != "f32")
      return fail(opt("act-int8") + " computes in integers; " +
                  opt("compute-type") + " " + computeType +
                  " does not apply");
  }
  o.actInt8 = args.actInt8;
  o.outlierThreshold = static_cast<float>(args.outlierThreshold);

  if (args.scheme == "f32") {
    if (args.asymmetric || args.doubleQuant || args.groupSize >= 0)
      return fail(opt("scheme") + " f32 takes no " + opt("group-size") + ", " +
                  opt("asymmetric") + " or " + opt("double-quant"));
    if (computeType != "f32")
      return fail(opt("compute-type") + " " + computeType +
                  " applies to quantized layers; " + opt("scheme") +
                  " f32 has none");
    return request;
  }
  numerics::Scheme s;
  if (!numerics::parseKind(args.scheme, s.kind))
    return fail(opt("scheme") + " '" + args.scheme +
                "' is not one of f32, int8, int4, nf4, fp4");
  bool table = numerics::isTableKind(s.kind);
  if (args.asymmetric && table)
    return fail(opt("asymmetric") + " does not apply to " + opt("scheme") +
                " " + args.scheme);
  if (args.doubleQuant && !table)
    return fail(opt("double-quant") + " applies to nf4 and fp4, not " +
                args.scheme);
  if (args.groupSize < -1)
    return fail(opt("group-size") + " " + llvm::Twine(args.groupSize) +
                " is negative");
  s.symmetric = !args.asymmetric;
  s.doubleQuant = args.doubleQuant;
  s.groupSize = args.groupSize >= 0
                    ? args.groupSize
                    : (s.kind == numerics::Kind::Int8 ? 0 : 64);
  if (table && s.groupSize == 0)
    return fail(opt("scheme") + " " + args.scheme + " needs " +
                opt("group-size") + " > 0");
  o.scheme = s;
  return request;
}
