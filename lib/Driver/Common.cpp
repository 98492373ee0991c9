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

std::string driver::detail::joinPath(llvm::StringRef dir,
                                     llvm::StringRef name) {
  llvm::SmallString<256> p(dir);
  llvm::sys::path::append(p, name);
  return std::string(p);
}
