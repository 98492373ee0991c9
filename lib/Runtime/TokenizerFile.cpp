//===- TokenizerFile.cpp - Saving and loading the tokenizer ---------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The self-contained tokenizer file that a compiled model directory carries
// (format in Tokenizer.h). The file stores what create() takes, not the
// derived tables, so that loading re-validates everything; the checksum
// catches corruption that would still parse.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/Tokenizer.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace qmlir::runtime {

namespace {

constexpr std::string_view kMagic(kTokenizerFileMagic, 8);
constexpr uint32_t kVersion = 1;
/// magic, version, reserved, size, checksum.
constexpr size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8;

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001B3ull;
  }
  return hash;
}

void putLE(std::string &out, uint64_t value, unsigned bytes) {
  for (unsigned i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

void putString(std::string &out, const std::string &s) {
  putLE(out, s.size(), 4);
  out += s;
}

/// A bounds-checked little-endian cursor over the body.
class Reader {
public:
  explicit Reader(std::string_view bytes) : bytes(bytes) {}

  bool u64(uint64_t &value, unsigned width = 8) {
    if (bytes.size() - pos < width)
      return false;
    value = 0;
    for (unsigned i = 0; i < width; ++i)
      value |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[pos + i]))
               << (8 * i);
    pos += width;
    return true;
  }
  bool u32(uint32_t &value) {
    uint64_t v;
    if (!u64(v, 4))
      return false;
    value = static_cast<uint32_t>(v);
    return true;
  }
  bool i32(int32_t &value) {
    uint32_t v;
    if (!u32(v))
      return false;
    value = static_cast<int32_t>(v);
    return true;
  }
  bool string(std::string &s) {
    uint32_t len;
    if (!u32(len) || bytes.size() - pos < len)
      return false;
    s.assign(bytes.substr(pos, len));
    pos += len;
    return true;
  }
  size_t left() const { return bytes.size() - pos; }

private:
  std::string_view bytes;
  size_t pos = 0;
};

} // namespace

std::string Tokenizer::serialize() const {
  std::string body;
  putString(body, preTypeName);
  for (int32_t id :
       {special.bos, special.eos, special.unknown, special.padding})
    putLE(body, static_cast<uint32_t>(id), 4);
  putLE(body, special.addBos ? 1 : 0, 1);
  putLE(body, tokens.size(), 4);
  for (size_t i = 0; i < tokens.size(); ++i) {
    putLE(body, static_cast<uint32_t>(types[i]), 4);
    putString(body, tokens[i]);
  }
  putLE(body, merges.size(), 4);
  for (const std::string &merge : merges)
    putString(body, merge);

  std::string file(kMagic);
  putLE(file, kVersion, 4);
  putLE(file, 0, 4);
  putLE(file, body.size(), 8);
  putLE(file, fnv1a64(body), 8);
  return file + body;
}

std::optional<Tokenizer> Tokenizer::deserialize(std::string_view bytes,
                                                const std::string &name,
                                                std::string &error) {
  auto fail = [&](const std::string &why) {
    error = name + ": " + why;
    return std::nullopt;
  };
  if (bytes.substr(0, kMagic.size()) != kMagic)
    return fail("not a quant-mlir tokenizer file (bad magic)");
  Reader header(bytes.substr(kMagic.size()));
  uint32_t version, reserved;
  uint64_t size, checksum;
  if (!header.u32(version) || !header.u32(reserved) || !header.u64(size) ||
      !header.u64(checksum))
    return fail("truncated header (" + std::to_string(bytes.size()) +
                " bytes)");
  if (version != kVersion)
    return fail("unsupported tokenizer file version " +
                std::to_string(version) + " (expected " +
                std::to_string(kVersion) + ")");
  if (reserved != 0)
    return fail("reserved header field is " + std::to_string(reserved) +
                ", expected 0");
  std::string_view body = bytes.substr(kHeaderBytes);
  if (body.size() != size)
    return fail(std::string(body.size() < size ? "truncated" : "corrupt") +
                ": the header gives " + std::to_string(size) +
                " body bytes, the file has " + std::to_string(body.size()));
  if (fnv1a64(body) != checksum)
    return fail("checksum mismatch (the file is corrupt)");

  Reader in(body);
  std::string preType;
  SpecialIds ids;
  uint64_t addBos;
  if (!in.string(preType) || !in.i32(ids.bos) || !in.i32(ids.eos) ||
      !in.i32(ids.unknown) || !in.i32(ids.padding) || !in.u64(addBos, 1))
    return fail("truncated settings");
  ids.addBos = addBos != 0;
  uint32_t numTokens;
  // Each token takes at least 8 bytes: a corrupt count fails here instead
  // of reserving gigabytes.
  if (!in.u32(numTokens) || numTokens > in.left() / 8)
    return fail("bad token count");
  std::vector<std::string> tokens(numTokens);
  std::vector<int32_t> types(numTokens);
  for (uint32_t i = 0; i < numTokens; ++i)
    if (!in.i32(types[i]) || !in.string(tokens[i]))
      return fail("truncated token " + std::to_string(i));
  uint32_t numMerges;
  if (!in.u32(numMerges) || numMerges > in.left() / 4)
    return fail("bad merge count");
  std::vector<std::string> merges(numMerges);
  for (uint32_t i = 0; i < numMerges; ++i)
    if (!in.string(merges[i]))
      return fail("truncated merge " + std::to_string(i));
  if (in.left() != 0)
    return fail(std::to_string(in.left()) + " unexpected bytes after the " +
                "merges");

  std::string why;
  std::optional<Tokenizer> tok =
      create(std::move(tokens), std::move(types), std::move(merges), ids,
             std::move(preType), why);
  if (!tok)
    return fail(why);
  return tok;
}

bool Tokenizer::save(const std::string &path, std::string &error) const {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  std::string bytes = serialize();
  if (out)
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (out)
    out.close();
  if (!out) {
    error = path + ": cannot write the tokenizer file: " + std::strerror(errno);
    return false;
  }
  return true;
}

std::optional<Tokenizer> Tokenizer::load(const std::string &path,
                                         std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open: " + std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) {
    error = path + ": cannot read: " + std::strerror(errno);
    return std::nullopt;
  }
  return deserialize(bytes.str(), path, error);
}

} // namespace qmlir::runtime
