//===- Common.cpp - Helpers shared by the model and module compiles -------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "Common.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>

using namespace qmlir;

std::string driver::detail::schemeName(
    const std::optional<numerics::Scheme> &s) {
  if (!s)
    return "f32";
  std::string name = numerics::kindName(s->kind);
  if (!s->symmetric)
    name += "-asym";
  if (s->groupSize)
    name += "-g" + std::to_string(s->groupSize);
  if (s->doubleQuant)
    name += "+dq";
  return name;
}

llvm::Error driver::detail::writeText(const std::string &path,
                                      const std::string &text) {
  std::error_code ec;
  {
    llvm::raw_fd_ostream os(path + ".part", ec);
    if (ec)
      return fail(path + ": " + ec.message());
    os << text;
  }
  if (std::error_code rc = llvm::sys::fs::rename(path + ".part", path))
    return fail(path + ": " + rc.message());
  return llvm::Error::success();
}

llvm::json::Object driver::detail::memoryJson(const MemoryReport &m) {
  return llvm::json::Object{{"parameters", m.parameters},
                            {"fp32_bytes", int64_t(m.fp32Bytes)},
                            {"fp16_bytes", int64_t(m.fp16Bytes)},
                            {"weights_bytes", int64_t(m.storedBytes)}};
}

llvm::Error driver::detail::writeJson(const std::string &path,
                                      llvm::json::Object object) {
  std::string json;
  {
    llvm::raw_string_ostream os(json);
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(object)))
       << "\n";
  }
  return writeText(path, json);
}

llvm::Error driver::detail::createDirectory(const std::string &dir) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return fail(dir + ": cannot create the directory: " + ec.message());
  return llvm::Error::success();
}

driver::detail::StagedDirectory::StagedDirectory(std::string path)
    : dir(std::move(path)) {
  // "out/" names out: its sibling is out.partial, not out/.partial.
  while (dir.size() > 1 && dir.back() == '/')
    dir.pop_back();
  staging = dir + ".partial";
}

llvm::Error driver::detail::StagedDirectory::begin() {
  if (llvm::sys::fs::exists(dir) && !llvm::sys::fs::is_directory(dir))
    return fail(dir + ": exists and is not a directory");
  // A stale sibling from a compile that was killed.
  if (std::error_code ec = llvm::sys::fs::remove_directories(staging))
    return fail(staging + ": cannot remove: " + ec.message());
  return createDirectory(staging);
}

llvm::Error driver::detail::StagedDirectory::commit() {
  if (!llvm::sys::fs::exists(dir)) {
    if (std::rename(staging.c_str(), dir.c_str()) != 0)
      return fail(staging + ": cannot rename to " + dir + ": " +
                  std::strerror(errno));
    committed = true;
    return llvm::Error::success();
  }
  // Swap the two in one step, then remove the old output (now at staging).
  // Where the file system cannot exchange, two renames (a kill between
  // them leaves the old output at OUTDIR.old).
  if (renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, dir.c_str(),
                RENAME_EXCHANGE) != 0) {
    std::string old = dir + ".old";
    if ((errno != EINVAL && errno != ENOSYS) ||
        llvm::sys::fs::remove_directories(old) ||
        std::rename(dir.c_str(), old.c_str()) != 0 ||
        std::rename(staging.c_str(), dir.c_str()) != 0)
      return fail(dir + ": cannot replace with " + staging + ": " +
                  std::strerror(errno));
    committed = true;
    (void)llvm::sys::fs::remove_directories(old);
    return llvm::Error::success();
  }
  committed = true;
  (void)llvm::sys::fs::remove_directories(staging);
  return llvm::Error::success();
}

driver::detail::StagedDirectory::~StagedDirectory() {
  if (!committed)
    (void)llvm::sys::fs::remove_directories(staging);
}

std::string driver::detail::joinPath(llvm::StringRef dir,
                                     llvm::StringRef name) {
  llvm::SmallString<256> p(dir);
  llvm::sys::path::append(p, name);
  return std::string(p);
}

llvm::Error driver::detail::checkFinite(llvm::StringRef file,
                                        llvm::StringRef tensor,
                                        const float *values, int64_t count,
                                        int64_t rowLength) {
  int64_t bad = numerics::firstNonFinite(values, count);
  if (bad < 0)
    return llvm::Error::success();
  return fail(file + ": tensor '" + tensor + "' holds " +
              numerics::nonFiniteName(values[bad]) + " at index " +
              llvm::Twine(bad) + " (row " + llvm::Twine(bad / rowLength) +
              ", column " + llvm::Twine(bad % rowLength) +
              "); the file is damaged");
}
