//===- Common.h - Helpers shared by the model and module compiles -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_DRIVER_COMMON_H
#define QMLIR_LIB_DRIVER_COMMON_H

#include "qmlir/Driver/Driver.h"
#include "qmlir/Numerics/Quantize.h"

#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <chrono>
#include <optional>
#include <string>

namespace qmlir::driver::detail {

inline llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 message.str());
}

inline double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                       start)
      .count();
}

/// "f32", "nf4-g64+dq", "int8-asym", ... (the memory table and manifests).
std::string schemeName(const std::optional<numerics::Scheme> &s);

/// An error naming the first NaN / inf among a tensor's `count` values (row
/// and column for rows of `rowLength`), or success when all are finite:
/// "<file>: tensor '<name>' holds NaN at index I (row R, column C); the
/// file is damaged".
llvm::Error checkFinite(llvm::StringRef file, llvm::StringRef tensor,
                        const float *values, int64_t count, int64_t rowLength);

/// Writes `text` to `path` through `path.part` and a rename, so that a
/// failure never leaves a half-written file under the final name.
llvm::Error writeText(const std::string &path, const std::string &text);

/// Creates the output directory (and its parents) or says why not.
llvm::Error createDirectory(const std::string &dir);

/// A compile's output written through a sibling directory: begin() makes
/// `dir.partial` (removing a stale one); commit() swaps it with `dir`
/// (which may not exist yet) and removes what was there; the destructor
/// removes the sibling unless committed.
class StagedDirectory {
public:
  explicit StagedDirectory(std::string dir);
  ~StagedDirectory();
  llvm::Error begin();
  llvm::Error commit();
  const std::string &path() const { return staging; }

private:
  std::string dir, staging;
  bool committed = false;
};

/// dir/name.
std::string joinPath(llvm::StringRef dir, llvm::StringRef name);

/// The manifest's "memory" object.
llvm::json::Object memoryJson(const MemoryReport &memory);

/// Writes a manifest (pretty-printed JSON) as writeText does.
llvm::Error writeJson(const std::string &path, llvm::json::Object object);

} // namespace qmlir::driver::detail

#endif // QMLIR_LIB_DRIVER_COMMON_H
