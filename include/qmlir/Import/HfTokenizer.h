//===- HfTokenizer.h - The runtime tokenizer from tokenizer.json -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_IMPORT_HFTOKENIZER_H
#define QMLIR_IMPORT_HFTOKENIZER_H

#include "qmlir/Runtime/Tokenizer.h"

#include "llvm/Support/Error.h"

namespace qmlir::hf {

/// The byte-level BPE tokenizer of a Hugging Face `tokenizer.json`: model
/// "BPE" (vocab, merges as "a b" strings or [a, b] pairs), added tokens
/// (special ones become control tokens), and the pre-tokenizer (ByteLevel:
/// "gpt-2"; Digits with individual_digits then ByteLevel: "smollm"); others
/// are refused naming what was found. `bos`/`eos` come from config.json
/// (-1: none). Errors are one line, "<file>: ...".
llvm::Expected<runtime::Tokenizer> tokenizerFromJson(llvm::StringRef path,
                                                     int32_t bos,
                                                     int32_t eos);

} // namespace qmlir::hf

#endif // QMLIR_IMPORT_HFTOKENIZER_H
