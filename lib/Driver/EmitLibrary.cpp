//===- EmitLibrary.cpp - Lower a module to a shared library ---------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Driver/Driver.h"

#include "Common.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "qmlir/Pipelines/Pipelines.h"
#include "qmlir/Runtime/CpuDispatch.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace mlir;
using namespace qmlir;
using qmlir::driver::detail::fail;
using qmlir::driver::detail::joinPath;

/// The CUDA runtime library that GPU models link (lib/Runtime/CUDA).
static constexpr const char *kCudaRuntimeName = "libQMLIRCudaRuntime.so";

/// The first error diagnostic of a failed pass pipeline, for the message.
static std::string firstError(const std::vector<std::string> &errors) {
  return errors.empty() ? std::string("(no diagnostic)") : errors.front();
}

llvm::StringRef driver::cudaChip(llvm::StringRef target) {
  return target.starts_with("cuda:") ? target.drop_front(5) : llvm::StringRef();
}

llvm::Error driver::emitSharedLibrary(ModuleOp module,
                                      const CompileRequest &request,
                                      llvm::StringRef soPath,
                                      bool runnerUtils) {
  MLIRContext *ctx = module.getContext();
  std::vector<std::string> errors;
  ScopedDiagnosticHandler handler(ctx, [&](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      errors.push_back(diag.str());
    return success();
  });
  llvm::StringRef chip = cudaChip(request.target);
  PassManager pm(ctx);
  if (chip.empty()) {
    QntCpuPipelineOptions cpuOptions;
    cpuOptions.openmp = true;
    // Kernels for this machine's best level (AMX included: the runtime that
    // loads the library requests its tile state), or, for a named CPU,
    // every level, chosen among at load.
    cpuOptions.isa = request.cpu == "native"
                         ? runtime::cpuLevelName(runtime::detectCpuLevel())
                         : "dispatch";
    cpuOptions.intDot = request.intDot;
    buildQntCpuPipeline(pm, cpuOptions);
  } else {
    // Entry points see strided views and dynamic sizes (the KV cache):
    // kernels take memref descriptors.
    QntCudaPipelineOptions cudaOptions;
    cudaOptions.chip = chip.str();
    cudaOptions.barePointers = false;
    buildQntCudaPipeline(pm, cudaOptions);
  }
  if (failed(pm.run(module)))
    return fail("the " +
                (chip.empty() ? std::string("CPU") : "CUDA " + chip.str()) +
                " pipeline failed: " + firstError(errors));

  DialectRegistry translations;
  registerAllToLLVMIRTranslations(translations);
  ctx->appendDialectRegistry(translations);
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "qmlir_model");
  if (!llvmModule)
    return fail("translation to LLVM IR failed: " + firstError(errors));

  // The host code of a GPU model runs on the GPU machine's CPU: generic
  // x86-64 unless a CPU is named.
  llvm::StringRef cpu = request.cpu;
  if (!chip.empty() && cpu == "native")
    cpu = "x86-64";
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  std::string error;
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return fail("no LLVM target for " + triple.str() + ": " + error);
  std::string cpuName = cpu.str(), features;
  if (cpu == "native") {
    cpuName = llvm::sys::getHostCPUName().str();
    llvm::SubtargetFeatures f;
    for (const auto &[name, on] : llvm::sys::getHostCPUFeatures())
      f.AddFeature(name, on);
    features = f.getString();
  }
  std::unique_ptr<llvm::TargetMachine> tm(target->createTargetMachine(
      triple, cpuName, features, llvm::TargetOptions(), llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!tm)
    return fail("cannot create a target machine for cpu '" + cpu + "'");
  llvmModule->setDataLayout(tm->createDataLayout());
  llvmModule->setTargetTriple(triple);
  if (llvm::Error e = makeOptimizingTransformer(3, 0, tm.get())(
          llvmModule.get()))
    return e;

  std::string objPath = (soPath + ".o").str(), partPath = (soPath + ".part").str();
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(objPath, ec, llvm::sys::fs::OF_None);
    if (ec)
      return fail(objPath + ": " + ec.message());
    llvm::legacy::PassManager codegen;
    if (tm->addPassesToEmitFile(codegen, os, nullptr,
                                llvm::CodeGenFileType::ObjectFile))
      return fail("the target cannot emit object files");
    codegen.run(*llvmModule);
  }

  // Link with the system C compiler: math functions from libm; for the CPU
  // the OpenMP runtime of the parallel loops (LLVM's libomp, found next to
  // LLVM), for CUDA the quant-mlir CUDA runtime, copied next to the library.
  const char *env = std::getenv("QMLIR_CC");
  llvm::ErrorOr<std::string> cc =
      llvm::sys::findProgramByName(env && *env ? env : "cc");
  if (!cc) {
    llvm::sys::fs::remove(objPath);
    return fail(std::string("no C compiler to link the model with (") +
                (env && *env ? env : "cc") + " not found; set QMLIR_CC)");
  }
  std::string libDir =
      chip.empty() ? QMLIR_OPENMP_LIBDIR : QMLIR_CUDA_RUNTIME_DIR;
  std::string libPath = "-L" + libDir,
              rpath = "-Wl,-rpath," + (chip.empty() ? libDir : "$ORIGIN");
  llvm::StringRef runtimeLib = chip.empty() ? "-lomp" : "-lQMLIRCudaRuntime";
  llvm::SmallVector<llvm::StringRef> args = {
      *cc, "-shared", "-o", partPath, objPath, libPath, rpath, runtimeLib,
      "-lm"};
  if (runnerUtils) // printMemrefF32 and friends, next to libomp.
    args.append({"-lmlir_c_runner_utils", "-lmlir_runner_utils"});
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0,
                                     &message);
  llvm::sys::fs::remove(objPath);
  if (rc != 0) {
    llvm::sys::fs::remove(partPath);
    return fail("linking " + soPath + " with " + *cc + " failed" +
                (message.empty() ? "" : ": " + message));
  }
  if (std::error_code ec = llvm::sys::fs::rename(partPath, soPath))
    return fail(soPath + ": " + ec.message());
  if (!chip.empty()) {
    std::string runtime =
        joinPath(llvm::sys::path::parent_path(soPath), kCudaRuntimeName);
    std::string from = joinPath(QMLIR_CUDA_RUNTIME_DIR, kCudaRuntimeName);
    if (std::error_code ec = llvm::sys::fs::copy_file(from, runtime + ".part"))
      return fail("copying " + from + ": " + ec.message());
    if (std::error_code ec = llvm::sys::fs::rename(runtime + ".part", runtime))
      return fail(runtime + ": " + ec.message());
  }
  return llvm::Error::success();
}
