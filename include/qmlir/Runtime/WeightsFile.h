//===- WeightsFile.h - The weights file of a compiled model -----*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A compiled model keeps its (quantized) weights in one file next to its
// shared library, laid out so that the library can use them in place from a
// read-only memory mapping:
//
//   header (64 bytes, little-endian)
//     magic "QMLWGT01", u32 version (1), u32 tensor count,
//     u64 data offset, u64 data bytes, u64 table offset, u64 table bytes,
//     u64 layout hash (the library checks it), 8 reserved bytes
//   data: every tensor at a multiple of kAlignment from the data offset
//   table: per tensor u32 name length, name, u32 element type, u32 rank,
//     i64 dims[rank], u64 offset (from the data offset), u64 bytes,
//     u64 FNV-1a checksum of the bytes
//
// The writer streams tensors one at a time into `<path>.part` and renames it
// to `<path>` only once the table and header are complete, so a failed
// compile never leaves a half-written weights file. Plain C++: the runtime
// that loads compiled models links it without MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_WEIGHTSFILE_H
#define QMLIR_RUNTIME_WEIGHTSFILE_H

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace qmlir::runtime {

/// Element types of stored tensors.
enum class ElementType : uint32_t { F32 = 0, I8 = 1, U8 = 2 };

const char *elementTypeName(ElementType type);

/// One stored tensor.
struct TensorEntry {
  std::string name;
  ElementType type = ElementType::F32;
  std::vector<int64_t> shape;
  uint64_t offset = 0; ///< From the start of the data section.
  uint64_t bytes = 0;
  uint64_t checksum = 0;
};

/// FNV-1a (64-bit) of a byte range.
uint64_t checksum(const void *data, uint64_t bytes);

/// Writes a weights file tensor by tensor.
class WeightsWriter {
public:
  static constexpr uint64_t kAlignment = 64;

  /// Opens `<path>.part`; false with `error` set on failure.
  bool open(const std::string &path, std::string &error);
  /// Pads the data to `alignment` (a multiple of kAlignment) and returns the
  /// offset the next tensor will get.
  uint64_t align(uint64_t alignment = kAlignment);
  /// Appends a tensor (aligned to kAlignment) and returns its offset.
  uint64_t add(const std::string &name, ElementType type,
               std::vector<int64_t> shape, const void *data, uint64_t bytes);
  /// The offset the next tensor would get without padding.
  uint64_t size() const { return dataBytes; }
  /// Writes the table and header and renames the file into place.
  bool finish(uint64_t layoutHash, std::string &error);
  /// Removes the partial file (also done by the destructor if unfinished).
  void abandon();
  ~WeightsWriter() { abandon(); }

  const std::vector<TensorEntry> &entries() const { return tensors; }

private:
  bool write(const void *data, uint64_t bytes);

  std::FILE *file = nullptr;
  std::string path;
  uint64_t dataBytes = 0;
  bool failed = false;
  std::vector<TensorEntry> tensors;
};

/// A weights file mapped read-only.
class WeightsFile {
public:
  /// Maps and validates `path` (header, table bounds, tensor bounds); the
  /// error names the file and what is wrong.
  bool open(const std::string &path, std::string &error);
  /// Recomputes every tensor's checksum.
  bool verify(std::string &error) const;
  ~WeightsFile();

  const uint8_t *data() const { return base + dataOffset; }
  uint64_t dataBytes() const { return dataSize; }
  uint64_t layoutHash() const { return hash; }
  const std::vector<TensorEntry> &entries() const { return tensors; }
  const TensorEntry *find(const std::string &name) const;

private:
  const uint8_t *base = nullptr;
  uint64_t fileSize = 0, dataOffset = 0, dataSize = 0, hash = 0;
  std::string path;
  std::vector<TensorEntry> tensors;
};

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_WEIGHTSFILE_H
