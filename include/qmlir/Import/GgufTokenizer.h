//===- GgufTokenizer.h - The runtime tokenizer of a GGUF model --*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Builds qmlir::runtime::Tokenizer from the tokenizer.ggml.* metadata of a
// GGUF file, so that the compiler can store it next to the compiled model.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_IMPORT_GGUFTOKENIZER_H
#define QMLIR_IMPORT_GGUFTOKENIZER_H

#include "qmlir/Import/Gguf.h"
#include "qmlir/Runtime/Tokenizer.h"

#include "llvm/Support/Error.h"

namespace qmlir::gguf {

/// The tokenizer of `file`, from tokenizer.ggml.model (which must be
/// "gpt2", byte-level BPE), .pre (a pre-tokenizer the runtime implements:
/// "smollm" or "gpt-2"), .tokens, .merges, .token_type (optional: all
/// normal), .bos/eos/unknown/padding_token_id (optional) and .add_bos_token
/// (optional, false). Errors are one line, "<file>: ...", naming the key.
llvm::Expected<runtime::Tokenizer> tokenizerFromGguf(const GgufFile &file);

} // namespace qmlir::gguf

#endif // QMLIR_IMPORT_GGUFTOKENIZER_H
