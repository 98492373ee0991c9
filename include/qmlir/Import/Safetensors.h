//===- Safetensors.h - Strict reader for safetensors files ------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Reads safetensors files (Hugging Face's weight format) and sharded models
// (`model.safetensors.index.json`). The tensor bytes stay in the
// memory-mapped file. Every inconsistency is an llvm::Error with a one-line
// message that starts with the file name. F32, F16 and BF16 tensors convert
// exactly to fp32.
//
// Format: an 8-byte little-endian header length N, N bytes of JSON, then
// the data. The JSON maps each tensor name to
//   {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
// (offsets relative to the data start) and may hold "__metadata__", a map of
// strings. https://github.com/huggingface/safetensors
//
// The checks follow the reference (Rust) reader, which is stricter than the
// format description: the tensors must cover the data section exactly, in
// any order but without gaps, overlaps or trailing bytes, and the header
// is at most 100,000,000 bytes. Beyond the reference, this reader refuses
// duplicate names (the reference keeps one silently), unknown fields in a
// tensor entry, and JSON nested deeper than 32 levels. Sizes and offsets
// must be written as integers (2, not 2.0 or 2e0), as the reference wants.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_IMPORT_SAFETENSORS_H
#define QMLIR_IMPORT_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace qmlir::safetensors {

/// The element types of the format, in the reference's order.
enum class Dtype : uint8_t {
  Bool,
  F4,
  F6E2M3,
  F6E3M2,
  U8,
  I8,
  F8E5M2,
  F8E4M3,
  F8E8M0,
  F8E4M3Fnuz,
  F8E5M2Fnuz,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  C64,
  F64,
  I64,
  U64,
};

/// The name as written in files: "F32", "BF16", "F8_E4M3", "BOOL", ...
llvm::StringRef dtypeName(Dtype dtype);
/// The dtype named `name` (case-sensitive), or nullopt.
std::optional<Dtype> parseDtype(llvm::StringRef name);
/// Bits of one element: 4 for F4, 6 for the F6 types, 64 for C64 (two
/// f32), otherwise the byte size times 8.
unsigned dtypeBits(Dtype dtype);

/// One tensor of a file.
struct TensorInfo {
  llvm::StringRef name;
  Dtype dtype = Dtype::F32;
  /// Row-major (C order): the last dimension is contiguous, the reverse of
  /// GGUF's ne[] order, so a [rows, cols] weight here has the same bytes as
  /// GGUF's {cols, rows}. Empty for a scalar (one element).
  llvm::SmallVector<int64_t, 4> shape;
  /// data_offsets: [begin, end) relative to the start of the data section.
  uint64_t begin = 0, end = 0;
  int64_t numElements = 0;
  uint64_t numBytes = 0;
  /// The bytes in the mapped file; no alignment is guaranteed.
  const uint8_t *data = nullptr;
};

/// A parsed safetensors file. Immutable; holds the mapping of the file.
class SafetensorsFile {
public:
  /// Maps and parses the file at `path`.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  open(llvm::StringRef path);
  /// Parses an in-memory file; its buffer identifier names it in messages.
  static llvm::Expected<std::unique_ptr<SafetensorsFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// The file name used in messages.
  llvm::StringRef getPath() const { return buffer->getBufferIdentifier(); }
  /// N, the length of the JSON header.
  uint64_t getHeaderSize() const { return headerSize; }
  /// File offset of the data section (8 + N).
  uint64_t getDataOffset() const { return 8 + headerSize; }

  /// The "__metadata__" map (empty when absent).
  const llvm::StringMap<std::string> &metadata() const { return meta; }

  /// The tensors in the order of their data (by data_offsets).
  llvm::ArrayRef<TensorInfo> tensors() const { return tensorInfos; }
  /// The tensor named `name`, or null.
  const TensorInfo *findTensor(llvm::StringRef name) const;

  /// Converts all of `tensor` (a tensor of this file) to fp32 into `dst`,
  /// which holds tensor.numElements floats; exact for F32, F16 and BF16,
  /// the only dtypes accepted.
  llvm::Error toFloat(const TensorInfo &tensor, float *dst) const;
  /// Drops the mapped pages of `tensor` from this process (a hint: the
  /// data stays readable, reread from the file on access), so that
  /// streaming a model keeps about one tensor resident. Does nothing for a
  /// file read into memory rather than mapped.
  void release(const TensorInfo &tensor) const;

private:
  explicit SafetensorsFile(std::unique_ptr<llvm::MemoryBuffer> buffer)
      : buffer(std::move(buffer)) {}
  friend class SafetensorsParser;

  /// "<file>: <message>" as an llvm::Error.
  llvm::Error fail(const llvm::Twine &message) const;

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint64_t headerSize = 0;
  llvm::StringMap<std::string> meta;
  std::vector<TensorInfo> tensorInfos;
  /// Owns the names that TensorInfo::name points to.
  llvm::StringMap<size_t> tensorIndex;
};

/// A model stored as one safetensors file or as shards listed by a
/// `model.safetensors.index.json`: {"weight_map": {tensor: shard file}}.
class SafetensorsModel {
public:
  /// Opens the shards of an index, each once; shard names are relative to
  /// the index's directory. Every tensor of the weight_map must be in its
  /// shard and every tensor of a shard must be mapped to it. Other keys of
  /// the index ("metadata" with its total_size) are not checked.
  static llvm::Expected<std::unique_ptr<SafetensorsModel>>
  openIndex(llvm::StringRef indexJsonPath);
  /// A model of one file.
  static llvm::Expected<std::unique_ptr<SafetensorsModel>>
  openFile(llvm::StringRef path);
  /// `dir`/model.safetensors, or else `dir`/model.safetensors.index.json
  /// (the order in which transformers looks for them).
  static llvm::Expected<std::unique_ptr<SafetensorsModel>>
  openModelDir(llvm::StringRef dir);

  /// The files, in the order of their names.
  llvm::ArrayRef<std::unique_ptr<SafetensorsFile>> shards() const {
    return files;
  }
  /// All tensors: shard by shard, each shard's in data order.
  llvm::ArrayRef<const TensorInfo *> tensors() const { return allTensors; }
  /// The tensor named `name`, or null.
  const TensorInfo *findTensor(llvm::StringRef name) const;
  /// The shard that holds `tensor` (a tensor of this model).
  const SafetensorsFile &fileOf(const TensorInfo &tensor) const;

  /// SafetensorsFile::toFloat and release on the tensor's shard.
  llvm::Error toFloat(const TensorInfo &tensor, float *dst) const {
    return fileOf(tensor).toFloat(tensor, dst);
  }
  void release(const TensorInfo &tensor) const {
    fileOf(tensor).release(tensor);
  }

private:
  SafetensorsModel() = default;
  /// Fills allTensors and the name index from `files`.
  void indexTensors();

  std::vector<std::unique_ptr<SafetensorsFile>> files;
  std::vector<const TensorInfo *> allTensors;
  llvm::StringMap<const TensorInfo *> byName;
};

} // namespace qmlir::safetensors

#endif // QMLIR_IMPORT_SAFETENSORS_H
