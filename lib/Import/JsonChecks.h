//===- JsonChecks.h - Checks llvm::json::parse leaves out -------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Private helpers of the safetensors and config.json readers. llvm::json's
// parser recurses once per nesting level (a file of a million '[' would
// overflow the stack) and keeps the last of duplicate object keys silently;
// these scans of the raw text close both gaps.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_IMPORT_JSONCHECKS_H
#define QMLIR_LIB_IMPORT_JSONCHECKS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace qmlir::import_detail {

/// Deeper nesting is refused before llvm::json::parse sees the text. The
/// formats read here need three levels.
constexpr unsigned kMaxJsonDepth = 32;

/// The byte offset of the first '[' or '{' that opens level `maxDepth + 1`,
/// counting brackets outside strings. Works on any text, valid JSON or not.
std::optional<size_t> findTooDeepNesting(llvm::StringRef text,
                                         unsigned maxDepth = kMaxJsonDepth);

/// A key that appears twice in one JSON object.
struct DuplicateKey {
  /// The keys of the enclosing objects, outermost first (array levels are
  /// skipped), then the duplicate key itself; all decoded.
  std::vector<std::string> path;
  /// Byte offset of the second occurrence.
  size_t offset = 0;
};

/// The first duplicate key of any object of `text`, which must be valid
/// JSON (llvm::json::parse accepted it). Keys compare after unescaping, so
/// "a" and "\u0061" are the same key.
std::optional<DuplicateKey> findDuplicateKey(llvm::StringRef text);

/// "null", "a boolean", "a number", "a string", "an array", "an object".
const char *describeKind(const llvm::json::Value &value);

/// `text` in single quotes, with non-printable bytes escaped (\XX), so that
/// messages stay on one line whatever a file holds.
std::string quote(llvm::StringRef text);

/// A JSON value printed compactly (keys sorted), for messages; cut to
/// `maxChars` characters and "..." when longer.
std::string printJson(const llvm::json::Value &value, size_t maxChars = 80);

/// "duplicate key 'k'", or "duplicate key 'k' in 'a.b'" naming the
/// enclosing keys.
std::string describeDuplicate(const DuplicateKey &duplicate);

} // namespace qmlir::import_detail

#endif // QMLIR_LIB_IMPORT_JSONCHECKS_H
