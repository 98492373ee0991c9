//===- Gguf.h - Strict reader for GGUF model files --------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Reads GGUF v2 and v3 files (little-endian): the metadata key/value pairs,
// the tensor table, and the tensor bytes, which stay in the memory-mapped
// file. Every read is bounds-checked and every inconsistency (truncation,
// duplicate names, misaligned or overlapping tensors, bad shapes, unknown
// types) is an llvm::Error with a one-line message that starts with the file
// name. Tensors of the types in qmlir/Numerics/Ggml.h that canDequantize()
// accepts can be dequantized to fp32 exactly as ggml does.
//
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_IMPORT_GGUF_H
#define QMLIR_IMPORT_GGUF_H

#include "qmlir/Numerics/Ggml.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/MemoryBuffer.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace qmlir::gguf {

/// Metadata value types; the values are GGUF's gguf_type ids.
enum class ValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

/// "uint8", "int32", "float32", "bool", "string", "array", ...
const char *valueTypeName(ValueType type);
/// True for the eight integer types (not bool).
bool isIntegerType(ValueType type);
/// True for float32 and float64.
bool isFloatType(ValueType type);

/// One metadata value. Strings and array elements point into the mapped
/// file, which lives as long as the GgufFile.
struct Value {
  ValueType type = ValueType::UInt8;
  /// Integer and bool scalars: the value, sign-extended to 64 bits for the
  /// signed types (so int64 -1 and uint64 2^64-1 share bits; see `type`).
  uint64_t integer = 0;
  /// Float scalars, widened exactly to double.
  double floating = 0.0;
  /// String scalars.
  llvm::StringRef string;

  /// Arrays: the element type and count.
  ValueType elementType = ValueType::UInt8;
  uint64_t count = 0;
  /// Arrays of numbers or bools: `count` little-endian elements, unaligned.
  const uint8_t *rawElements = nullptr;
  /// Arrays of strings.
  std::vector<llvm::StringRef> strings;
  /// Arrays of arrays.
  std::vector<Value> arrays;
};

/// A metadata entry, in file order.
struct MetadataEntry {
  llvm::StringRef key;
  Value value;
};

/// One entry of the tensor table.
struct TensorInfo {
  llvm::StringRef name;
  /// ggml order: shape[0] (ne[0]) is the contiguous dimension, so a
  /// [rows, cols] row-major weight has shape {cols, rows}.
  llvm::SmallVector<int64_t, 4> shape;
  numerics::ggml::Type type = numerics::ggml::Type::F32;
  /// Offset of the bytes from the start of the data section.
  uint64_t offset = 0;
  int64_t numElements = 0;
  uint64_t numBytes = 0;
  /// The tensor's bytes in the mapped file (no alignment guaranteed in
  /// memory; offsets are aligned within the file).
  const uint8_t *data = nullptr;

  /// Elements of a row (ne[0]).
  int64_t rowLength() const { return shape[0]; }
  /// Rows: the product of ne[1..].
  int64_t numRows() const { return numElements / shape[0]; }
};

/// A parsed GGUF file. Immutable; holds the mapping of the file.
class GgufFile {
public:
  /// Maps and parses the file at `path`.
  static llvm::Expected<std::unique_ptr<GgufFile>> open(llvm::StringRef path);
  /// Parses an in-memory file; its buffer identifier names it in messages.
  static llvm::Expected<std::unique_ptr<GgufFile>>
  parse(std::unique_ptr<llvm::MemoryBuffer> buffer);

  /// The file name used in messages.
  llvm::StringRef getPath() const { return buffer->getBufferIdentifier(); }
  uint32_t getVersion() const { return version; }
  /// `general.alignment`, or 32 when absent.
  uint64_t getAlignment() const { return alignment; }
  /// File offset of the data section.
  uint64_t getDataOffset() const { return dataOffset; }

  //===--------------------------------------------------------------------===//
  // Metadata
  //===--------------------------------------------------------------------===//

  llvm::ArrayRef<MetadataEntry> metadata() const { return entries; }
  /// The value of `key`, or null.
  const Value *lookup(llvm::StringRef key) const;
  bool hasKey(llvm::StringRef key) const { return lookup(key) != nullptr; }

  /// The typed getters fail with "<file>: metadata key '<key>' is missing"
  /// or "... has type <t>, expected <what>".
  llvm::Expected<llvm::StringRef> getString(llvm::StringRef key) const;
  /// Any integer type; fails on negative values.
  llvm::Expected<uint64_t> getUInt(llvm::StringRef key) const;
  /// Any integer type; fails on uint64 values above INT64_MAX.
  llvm::Expected<int64_t> getInt(llvm::StringRef key) const;
  /// float32 or float64.
  llvm::Expected<double> getFloat(llvm::StringRef key) const;
  llvm::Expected<bool> getBool(llvm::StringRef key) const;
  /// An array of strings (tokenizer.ggml.tokens, tokenizer.ggml.merges).
  llvm::Expected<llvm::ArrayRef<llvm::StringRef>>
  getStringArray(llvm::StringRef key) const;
  /// An array of any integer type (tokenizer.ggml.token_type), as int64.
  llvm::Expected<std::vector<int64_t>> getIntArray(llvm::StringRef key) const;
  /// An array of float32 or float64 (tokenizer.ggml.scores), widened exactly.
  llvm::Expected<std::vector<double>> getFloatArray(llvm::StringRef key) const;

  //===--------------------------------------------------------------------===//
  // Tensors
  //===--------------------------------------------------------------------===//

  /// The tensor table in file order.
  llvm::ArrayRef<TensorInfo> tensors() const { return tensorInfos; }
  /// The tensor named `name`, or null.
  const TensorInfo *findTensor(llvm::StringRef name) const;

  /// Dequantizes all of `tensor` (a tensor of this file) into `dst`, which
  /// holds tensor.numElements floats. Fails for types that
  /// numerics::ggml::canDequantize rejects.
  llvm::Error dequantize(const TensorInfo &tensor, float *dst) const;
  /// Dequantizes rows [firstRow, firstRow + numRows) into `dst`
  /// (numRows * rowLength() floats).
  llvm::Error dequantizeRows(const TensorInfo &tensor, int64_t firstRow,
                             int64_t numRows, float *dst) const;
  /// Drops the mapped pages of `tensor` from this process (a hint: the
  /// data stays readable, reread from the file on access), so that
  /// streaming a model keeps about one tensor resident.
  void release(const TensorInfo &tensor) const;

private:
  explicit GgufFile(std::unique_ptr<llvm::MemoryBuffer> buffer)
      : buffer(std::move(buffer)) {}
  friend class GgufParser;

  /// "<file>: <message>" as an llvm::Error.
  llvm::Error fail(const llvm::Twine &message) const;
  /// The value of `key`, or a "missing" error.
  llvm::Expected<const Value *> lookupOrFail(llvm::StringRef key) const;
  llvm::Error typeMismatch(llvm::StringRef key, const Value &value,
                           llvm::StringRef expected) const;

  std::unique_ptr<llvm::MemoryBuffer> buffer;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t dataOffset = 0;
  std::vector<MetadataEntry> entries;
  llvm::StringMap<size_t> keyIndex;
  std::vector<TensorInfo> tensorInfos;
  llvm::StringMap<size_t> tensorIndex;
};

} // namespace qmlir::gguf

#endif // QMLIR_IMPORT_GGUF_H
