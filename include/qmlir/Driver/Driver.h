//===- Driver.h - Whole-model ahead-of-time compilation ---------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What quant-compile (and the Python bindings) run: a GGUF model or a
// Hugging Face checkpoint directory in, a directory out with
//   model.so       the compiled entry points (Llama.h)
//   weights.bin    the weights the plan lays out (WeightsFile.h), mmap'able
//   model.h        C declarations of the entry points
//   model.mlir     the module before the pipeline (quant-opt replays it)
//   manifest.json  scheme, shapes, files and the memory report
// The weights stream from the source through the numerics library into
// weights.bin one tensor at a time.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_DRIVER_DRIVER_H
#define QMLIR_DRIVER_DRIVER_H

#include "qmlir/Model/Llama.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

namespace qmlir::driver {

/// Where and how to compile.
struct CompileRequest {
  std::string modelPath, outDir;
  /// Where the files are written: a sibling of outDir that compileModel
  /// renames into place once everything is written; empty: outDir itself.
  std::string stagingDir;
  const std::string &writeDir() const {
    return stagingDir.empty() ? outDir : stagingDir;
  }
  model::CompileOptions options;
  /// "cpu" or "cuda:sm_XX".
  std::string target = "cpu";
  /// LLVM CPU name for the code ("native": this machine's CPU and features;
  /// "x86-64": any x86-64).
  std::string cpu = "native";
  /// CPU kernels on the integer path of Numerics/IntDot.h (14-bit
  /// activations, exact integer sums).
  bool intDot = true;
  /// Progress and the memory table go here (null: quiet).
  llvm::raw_ostream *log = nullptr;
};

/// Sizes for the memory report.
struct MemoryReport {
  int64_t parameters = 0;
  uint64_t fp32Bytes = 0, fp16Bytes = 0, storedBytes = 0;
};

/// What a compile produced.
struct CompileResult {
  model::LlamaConfig config;
  MemoryReport memory;
  double seconds = 0, weightSeconds = 0, codegenSeconds = 0;
};

/// Runs the whole compile; the error names the file, tensor or option at
/// fault. The output is atomic: everything is written into the sibling
/// `outDir.partial` (a stale one, left by a killed compile, is removed
/// first) and swapped into place at the end (renameat2 RENAME_EXCHANGE), so
/// an error, a full disk or a kill leaves an existing outDir as it was and
/// no half-written one. (Two compiles into one outDir at once are not
/// supported.)
/// Compiles a model: a GGUF file or a Hugging Face directory (a Llama, with
/// its weights streamed into weights.bin), or an MLIR module (.mlir: any
/// module with linear layers, see compileMlirModule).
llvm::Expected<CompileResult> compileModel(const CompileRequest &request);

/// Compiles a generic MLIR module: quantizes its constant weights, lowers
/// it to model.so, and exports its public functions (model.h, manifest.json).
llvm::Expected<CompileResult> compileMlirModule(const CompileRequest &request);

/// A compile as the user spells it: quant-compile's flags or the Python
/// keyword arguments. buildCompileRequest validates it into a request.
struct CompileArgs {
  std::string modelPath, outDir;
  /// f32 (unquantized), int8, int4, nf4 or fp4.
  std::string scheme = "nf4";
  /// Values per scale along K; 0: per channel; -1: the scheme's default
  /// (64 for int4/nf4/fp4, per channel for int8).
  int64_t groupSize = -1;
  bool asymmetric = false, doubleQuant = false;
  /// f32, bf16 or f16; empty: bf16 for quantized layers on CUDA, else f32.
  std::string computeType, target = "cpu", cpu = "native";
  bool intDot = true;
  /// W8A8 (int8 activations per token), and LLM.int8's outlier threshold
  /// (0: none); scheme int8 (symmetric), cpu target.
  bool actInt8 = false;
  double outlierThreshold = 0.0;
  std::string keepFloat;
  int64_t maxContext = 1024, prefillTokens = 64;
};

/// How errors name an option: "--group-size" (Flags) or "group_size"
/// (Keywords).
enum class OptionSpelling { Flags, Keywords };

/// Checks every option; the error is one line naming the option and value.
llvm::Expected<CompileRequest> buildCompileRequest(const CompileArgs &args,
                                                   OptionSpelling spelling);

/// "sm_90" for the target "cuda:sm_90"; empty for "cpu" (or anything else).
llvm::StringRef cudaChip(llvm::StringRef target);

/// Lowers `module` (qnt + linalg on tensors) for `request.target` and links
/// it into the shared library `soPath` (an object file through LLVM, linked
/// by the system C compiler, $QMLIR_CC or cc):
/// - cpu: qnt-cpu-pipeline with OpenMP, for `request.cpu` ("native" or an
///   LLVM CPU name); `runnerUtils` links MLIR's runner utilities too
///   (printMemrefF32, ...), for generic modules that call them;
/// - cuda:sm_XX: qnt-cuda-pipeline, the kernels embedded as a fatbin, the
///   host code for generic x86-64 (unless `request.cpu` names a CPU),
///   linked against the quant-mlir CUDA runtime, which is copied next to
///   the library.
llvm::Error emitSharedLibrary(mlir::ModuleOp module,
                              const CompileRequest &request,
                              llvm::StringRef soPath, bool runnerUtils = false);

/// MLIR's parser recurses once per nesting level of ( [ { <, with no limit:
/// deep enough nesting overflows the stack (found by fuzz/mlir-fuzzer).
/// Untrusted MLIR text is checked first: an error naming the line where
/// the nesting (outside strings and comments) first exceeds `limit`.
constexpr unsigned kMaxMlirNesting = 512;
llvm::Error checkMlirNesting(llvm::StringRef text, llvm::StringRef name,
                             unsigned limit = kMaxMlirNesting);

/// The seed-style table: FP32 / FP16 / this scheme, GB and %.
void printMemoryTable(llvm::raw_ostream &os, const MemoryReport &memory,
                      llvm::StringRef schemeName);

} // namespace qmlir::driver

#endif // QMLIR_DRIVER_DRIVER_H
