//===- GgufTestWriter.h - Builds small GGUF files for tests -----*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// An independent GGUF encoder for the reader tests, written from the format
// description (docs/gguf.md in ggml), not from the reader. It can also write
// inconsistent files (wrong counts, unaligned or overlapping offsets) so that
// each check of the reader can be triggered.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_UNITTESTS_IMPORT_GGUFTESTWRITER_H
#define QMLIR_UNITTESTS_IMPORT_GGUFTESTWRITER_H

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace qmlir::gguf::testing {

/// gguf_type ids.
enum : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};

/// `v` as `bytes` little-endian bytes (truncated, or zero-extended past 8).
inline std::string le(uint64_t v, unsigned bytes) {
  std::string s;
  for (unsigned i = 0; i < bytes; ++i)
    s.push_back(static_cast<char>(i < 8 ? (v >> (8 * i)) & 0xFF : 0));
  return s;
}

inline std::string f32(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return le(u, 4);
}

inline std::string f64(double f) {
  uint64_t u;
  std::memcpy(&u, &f, 8);
  return le(u, 8);
}

/// A gguf_string: uint64 length, then the bytes.
inline std::string str(const std::string &s) { return le(s.size(), 8) + s; }

/// An array value: element type, count, then the encoded elements.
inline std::string array(uint32_t elementType,
                         const std::vector<std::string> &elements) {
  std::string s = le(elementType, 4) + le(elements.size(), 8);
  for (const std::string &e : elements)
    s += e;
  return s;
}

struct TensorSpec {
  std::string name;
  std::vector<uint64_t> dims;
  uint32_t type = 0;
  /// The tensor's bytes in the data section.
  std::string bytes;
  /// Offset in the data section; by default the next aligned one.
  std::optional<uint64_t> offset;
};

class GgufWriter {
public:
  uint32_t version = 3;
  /// Alignment used to lay the file out; only written as general.alignment
  /// when a test adds that key.
  uint64_t alignment = 32;
  /// Counts written in the header instead of the real ones.
  std::optional<uint64_t> tensorCount, entryCount;

  /// Adds a metadata entry with an already encoded value.
  GgufWriter &add(const std::string &key, uint32_t type,
                  const std::string &value) {
    metadata += str(key) + le(type, 4) + value;
    ++numEntries;
    return *this;
  }
  GgufWriter &addU32(const std::string &key, uint32_t v) {
    return add(key, kU32, le(v, 4));
  }
  GgufWriter &addString(const std::string &key, const std::string &v) {
    return add(key, kString, str(v));
  }

  GgufWriter &addTensor(TensorSpec spec) {
    tensors.push_back(std::move(spec));
    return *this;
  }

  /// The file. The data section ends with the last byte of the tensor that
  /// reaches furthest, so cutting the file anywhere loses something.
  std::string build() const {
    std::string out = "GGUF" + le(version, 4) +
                      le(tensorCount.value_or(tensors.size()), 8) +
                      le(entryCount.value_or(numEntries), 8) + metadata;
    std::vector<uint64_t> offsets;
    uint64_t next = 0;
    for (const TensorSpec &t : tensors) {
      uint64_t offset = t.offset.value_or(alignUp(next));
      offsets.push_back(offset);
      next = std::max(next, offset + t.bytes.size());
      out += str(t.name) + le(t.dims.size(), 4);
      for (uint64_t d : t.dims)
        out += le(d, 8);
      out += le(t.type, 4) + le(offset, 8);
    }
    if (tensors.empty())
      return out;
    std::string data(next, '\0');
    for (size_t i = 0; i < tensors.size(); ++i)
      data.replace(offsets[i], tensors[i].bytes.size(), tensors[i].bytes);
    out.resize(alignUp(out.size()), '\0');
    return out + data;
  }

private:
  uint64_t alignUp(uint64_t x) const {
    return (x + alignment - 1) / alignment * alignment;
  }

  std::string metadata;
  uint64_t numEntries = 0;
  std::vector<TensorSpec> tensors;
};

} // namespace qmlir::gguf::testing

#endif // QMLIR_UNITTESTS_IMPORT_GGUFTESTWRITER_H
