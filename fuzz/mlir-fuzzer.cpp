//===- mlir-fuzzer.cpp - libFuzzer target: MLIR with the qnt dialect -----===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// As upstream's mlir-parser-fuzzer: parses the input as MLIR (qnt and the
// upstream dialects registered), verifies it, then runs what quant-compile
// runs first on a module: qnt-quantize-linear (int4 groups of 32, which
// quantizes matmuls with constant weights) and convert-qnt-to-linalg (the
// reference lowering of every qnt op).
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "qmlir/Driver/Driver.h"
#include "qmlir/InitAll.h"

#include "llvm/Support/SourceMgr.h"

#include <string>

using namespace mlir;

namespace {
MLIRContext &context() {
  static MLIRContext *ctx = [] {
    qmlir::registerQmlirPasses();
    DialectRegistry registry;
    qmlir::registerAllDialects(registry);
    auto *c = new MLIRContext(registry, MLIRContext::Threading::DISABLED);
    // Diagnostics of bad input are expected: drop them.
    c->getDiagEngine().registerHandler([](Diagnostic &) { return success(); });
    return c;
  }();
  return *ctx;
}
/// What MLIR's lexer skips between tokens (not \v or \f).
constexpr llvm::StringLiteral kSpace(" \t\n\r");

/// Whether `text` starts with an integer list `[1, -2, 3]` (or `[]`), as
/// DenseI64ArrayAttr's short form spells it.
bool startsWithIntList(llvm::StringRef text) {
  if (!text.consume_front("["))
    return false;
  text = text.ltrim(kSpace);
  if (text.consume_front("]"))
    return true;
  while (true) {
    text.consume_front("-");
    size_t digits = text.find_first_not_of("0123456789");
    if (digits == 0 || digits == llvm::StringRef::npos)
      return false;
    text = text.drop_front(digits).ltrim(kSpace);
    if (text.consume_front("]"))
      return true;
    if (!text.consume_front(","))
      return false;
    text = text.ltrim(kSpace);
  }
}

/// MLIR 22's linalg parsers (broadcast, transpose, reduce) crash when the
/// integer list after `dimensions =` / `permutation =` does not parse: they
/// store the null attribute that the failed DenseI64ArrayAttr parse
/// returns. That bug is upstream's (quant-compile turns the crash into an
/// error, CompileModule.cpp); such inputs are skipped so that fuzzing goes
/// on into our code. Inputs that found it are in fuzz/regressions/mlir.
bool hitsUpstreamLinalgCrash(llvm::StringRef text) {
  for (llvm::StringRef key : {"dimensions", "permutation"}) {
    for (size_t at = text.find(key); at != llvm::StringRef::npos;
         at = text.find(key, at + key.size())) {
      llvm::StringRef rest = text.substr(at + key.size()).ltrim(kSpace);
      if (rest.consume_front("=") && !startsWithIntList(rest.ltrim(kSpace)))
        return true;
    }
  }
  return false;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  MLIRContext &ctx = context();
  // The MLIR lexer reads up to a terminating NUL (as files are read): a
  // std::string holds one after its bytes.
  std::string text(reinterpret_cast<const char *>(data), size);
  // What quant-compile refuses before parsing (the parser's unbounded
  // recursion), and the upstream crash above.
  if (hitsUpstreamLinalgCrash(text) ||
      !!llvm::errorToBool(qmlir::driver::checkMlirNesting(text, "fuzz")))
    return 0;
  OwningOpRef<ModuleOp> module =
      parseSourceString<ModuleOp>(llvm::StringRef(text), &ctx);
  if (!module || failed(verify(*module)))
    return 0;
  PassManager pm(&ctx);
  if (failed(parsePassPipeline("builtin.module(qnt-quantize-linear{scheme=int4 "
                               "group-size=32},convert-qnt-to-linalg)",
                               pm)))
    std::abort();
  (void)pm.run(*module);
  return 0;
}
