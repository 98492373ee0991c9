//===- Gguf.cpp - Strict reader for GGUF model files ----------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The parser reads the header, the metadata and the tensor table with a
// bounds-checked cursor, then checks the tensor data against the data
// section. Counts and lengths are checked against the bytes left before
// anything is allocated, so a corrupt length cannot allocate more than a
// small multiple of the file size.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/Gguf.h"

#include "MappedFile.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cassert>
#include <limits>

using namespace llvm;
namespace ggml = qmlir::numerics::ggml;

namespace qmlir::gguf {

namespace {
constexpr unsigned kMaxDims = 4;
/// Deeper nesting is certainly corrupt and would only grow the stack.
constexpr unsigned kMaxArrayDepth = 8;
/// The smallest encodings: a metadata entry (empty key, type, one byte) and
/// a tensor info (empty name, one dimension, type, offset).
constexpr uint64_t kMinEntryBytes = 8 + 4 + 1;
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;
} // namespace

//===----------------------------------------------------------------------===//
// Value types
//===----------------------------------------------------------------------===//

const char *valueTypeName(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
    return "uint8";
  case ValueType::Int8:
    return "int8";
  case ValueType::UInt16:
    return "uint16";
  case ValueType::Int16:
    return "int16";
  case ValueType::UInt32:
    return "uint32";
  case ValueType::Int32:
    return "int32";
  case ValueType::Float32:
    return "float32";
  case ValueType::Bool:
    return "bool";
  case ValueType::String:
    return "string";
  case ValueType::Array:
    return "array";
  case ValueType::UInt64:
    return "uint64";
  case ValueType::Int64:
    return "int64";
  case ValueType::Float64:
    return "float64";
  }
  return "unknown";
}

bool isIntegerType(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
  case ValueType::Int8:
  case ValueType::UInt16:
  case ValueType::Int16:
  case ValueType::UInt32:
  case ValueType::Int32:
  case ValueType::UInt64:
  case ValueType::Int64:
    return true;
  default:
    return false;
  }
}

bool isFloatType(ValueType type) {
  return type == ValueType::Float32 || type == ValueType::Float64;
}

namespace {

bool isSignedType(ValueType type) {
  return type == ValueType::Int8 || type == ValueType::Int16 ||
         type == ValueType::Int32 || type == ValueType::Int64;
}

bool isKnownValueType(uint32_t id) {
  return id <= static_cast<uint32_t>(ValueType::Float64);
}

/// Bytes of a fixed-size value; 0 for strings and arrays.
unsigned scalarBytes(ValueType type) {
  switch (type) {
  case ValueType::UInt8:
  case ValueType::Int8:
  case ValueType::Bool:
    return 1;
  case ValueType::UInt16:
  case ValueType::Int16:
    return 2;
  case ValueType::UInt32:
  case ValueType::Int32:
  case ValueType::Float32:
    return 4;
  case ValueType::UInt64:
  case ValueType::Int64:
  case ValueType::Float64:
    return 8;
  case ValueType::String:
  case ValueType::Array:
    return 0;
  }
  return 0;
}

/// Smallest encoding of one element: a string is at least its length, an
/// array at least its element type and count.
uint64_t minElementBytes(ValueType type) {
  if (type == ValueType::String)
    return 8;
  if (type == ValueType::Array)
    return 12;
  return scalarBytes(type);
}

uint64_t loadLE(const uint8_t *p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

/// A scalar of fixed size decoded from little-endian bytes: integers (sign-
/// extended) and bools into `integer`, floats into `floating`.
void decodeScalar(ValueType type, const uint8_t *p, Value &value) {
  unsigned bytes = scalarBytes(type);
  uint64_t bits = loadLE(p, bytes);
  value.type = type;
  if (type == ValueType::Float32) {
    value.floating = bit_cast<float>(static_cast<uint32_t>(bits));
  } else if (type == ValueType::Float64) {
    value.floating = bit_cast<double>(bits);
  } else if (isSignedType(type) && bytes < 8) {
    value.integer = static_cast<uint64_t>(SignExtend64(bits, 8 * bytes));
  } else {
    value.integer = bits;
  }
}

/// "string", "array of int32", "array of array".
std::string describe(const Value &value) {
  if (value.type != ValueType::Array)
    return valueTypeName(value.type);
  return std::string("array of ") + valueTypeName(value.elementType);
}

} // namespace

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

/// Reads a GGUF file front to back into a GgufFile.
class GgufParser {
public:
  explicit GgufParser(GgufFile &file)
      : file(file),
        begin(reinterpret_cast<const uint8_t *>(file.buffer->getBufferStart())),
        size(file.buffer->getBufferSize()) {}

  Error parse();

private:
  Error fail(const Twine &message) const { return file.fail(message); }
  Error truncated(uint64_t needed, const Twine &what) const {
    return fail("truncated at offset " + Twine(pos) + " reading " + what +
                " (needs " + Twine(needed) + " bytes, " + Twine(remaining()) +
                " left)");
  }
  uint64_t remaining() const { return size - pos; }

  /// Returns `bytes` bytes at the cursor and advances it.
  Error readBytes(uint64_t bytes, const uint8_t *&out, const Twine &what);
  template <typename T> Error readUInt(T &out, const Twine &what);
  Error readString(StringRef &out, const Twine &what);
  Error readValue(ValueType type, Value &out, const Twine &what,
                  unsigned depth);
  Error readArray(Value &out, const Twine &what, unsigned depth);
  Error readHeader(uint64_t &tensorCount, uint64_t &entryCount);
  Error readMetadata(uint64_t entryCount);
  Error readAlignment();
  Error readTensorInfo(size_t index);
  Error checkTensorData();

  GgufFile &file;
  const uint8_t *begin;
  uint64_t size;
  uint64_t pos = 0;
};

Error GgufParser::readBytes(uint64_t bytes, const uint8_t *&out,
                            const Twine &what) {
  if (bytes > remaining())
    return truncated(bytes, what);
  out = begin + pos;
  pos += bytes;
  return Error::success();
}

template <typename T> Error GgufParser::readUInt(T &out, const Twine &what) {
  const uint8_t *p = nullptr;
  if (Error err = readBytes(sizeof(T), p, what))
    return err;
  out = static_cast<T>(loadLE(p, sizeof(T)));
  return Error::success();
}

Error GgufParser::readString(StringRef &out, const Twine &what) {
  uint64_t length;
  if (Error err = readUInt(length, what))
    return err;
  const uint8_t *p = nullptr;
  if (Error err = readBytes(length, p, what))
    return err;
  out = StringRef(reinterpret_cast<const char *>(p), length);
  return Error::success();
}

Error GgufParser::readValue(ValueType type, Value &out, const Twine &what,
                            unsigned depth) {
  out.type = type;
  if (type == ValueType::String)
    return readString(out.string, what);
  if (type == ValueType::Array)
    return readArray(out, what, depth);
  const uint8_t *p = nullptr;
  if (Error err = readBytes(scalarBytes(type), p, what))
    return err;
  if (type == ValueType::Bool && *p > 1)
    return fail(what + " is a bool with invalid byte " + Twine(unsigned(*p)));
  decodeScalar(type, p, out);
  return Error::success();
}

Error GgufParser::readArray(Value &out, const Twine &what, unsigned depth) {
  if (depth >= kMaxArrayDepth)
    return fail(what + " nests arrays deeper than " + Twine(kMaxArrayDepth) +
                " levels");
  uint32_t elementId;
  if (Error err = readUInt(elementId, "the element type of " + what))
    return err;
  if (!isKnownValueType(elementId))
    return fail(what + " has unknown array element type " + Twine(elementId));
  out.elementType = static_cast<ValueType>(elementId);
  if (Error err = readUInt(out.count, "the length of " + what))
    return err;
  uint64_t minBytes = minElementBytes(out.elementType);
  if (out.count > remaining() / minBytes)
    return fail("truncated: " + what + " declares " + Twine(out.count) +
                " elements of type " + valueTypeName(out.elementType) +
                " but only " + Twine(remaining()) + " bytes are left");

  switch (out.elementType) {
  case ValueType::String:
    out.strings.resize(out.count);
    for (StringRef &element : out.strings)
      if (Error err = readString(element, what))
        return err;
    return Error::success();
  case ValueType::Array:
    out.arrays.resize(out.count);
    for (Value &element : out.arrays) {
      element.type = ValueType::Array;
      if (Error err = readArray(element, what, depth + 1))
        return err;
    }
    return Error::success();
  default:
    if (Error err = readBytes(out.count * minBytes, out.rawElements, what))
      return err;
    if (out.elementType == ValueType::Bool)
      for (uint64_t i = 0; i < out.count; ++i)
        if (out.rawElements[i] > 1)
          return fail(what + " holds a bool with invalid byte " +
                      Twine(unsigned(out.rawElements[i])) + " at index " +
                      Twine(i));
    return Error::success();
  }
}

Error GgufParser::readHeader(uint64_t &tensorCount, uint64_t &entryCount) {
  const uint8_t *magic = nullptr;
  if (Error err = readBytes(4, magic, "the magic"))
    return err;
  StringRef magicText(reinterpret_cast<const char *>(magic), 4);
  if (magicText != "GGUF") {
    std::string shown = all_of(magicText, isPrint)
                            ? ("'" + magicText + "'").str()
                            : "0x" + toHex(magicText);
    return fail("not a GGUF file (magic " + shown + ", expected 'GGUF')");
  }
  uint32_t version;
  if (Error err = readUInt(version, "the version"))
    return err;
  if (version != 2 && version != 3) {
    uint32_t swapped = byteswap(version);
    if (swapped >= 2 && swapped <= 3)
      return fail("unsupported GGUF version " + Twine(version) +
                  " (a big-endian file? only little-endian is supported)");
    return fail("unsupported GGUF version " + Twine(version) +
                " (expected 2 or 3)");
  }
  file.version = version;
  if (Error err = readUInt(tensorCount, "the tensor count"))
    return err;
  return readUInt(entryCount, "the metadata entry count");
}

Error GgufParser::readMetadata(uint64_t entryCount) {
  if (entryCount > remaining() / kMinEntryBytes)
    return fail("truncated: the header declares " + Twine(entryCount) +
                " metadata entries but only " + Twine(remaining()) +
                " bytes are left");
  file.entries.reserve(entryCount);
  for (uint64_t i = 0; i < entryCount; ++i) {
    MetadataEntry entry;
    if (Error err =
            readString(entry.key, "the key of metadata entry " + Twine(i)))
      return err;
    std::string keyName = ("metadata key '" + entry.key + "'").str();
    uint32_t typeId;
    if (Error err = readUInt(typeId, "the type of " + keyName))
      return err;
    if (!isKnownValueType(typeId))
      return fail(keyName + " has unknown value type " + Twine(typeId));
    if (Error err = readValue(static_cast<ValueType>(typeId), entry.value,
                              keyName, /*depth=*/0))
      return err;
    if (!file.keyIndex.try_emplace(entry.key, file.entries.size()).second)
      return fail("duplicate metadata key '" + entry.key + "'");
    file.entries.push_back(std::move(entry));
  }
  return Error::success();
}

Error GgufParser::readAlignment() {
  const Value *value = file.lookup("general.alignment");
  if (!value)
    return Error::success();
  if (value->type != ValueType::UInt32)
    return fail("metadata key 'general.alignment' has type " +
                describe(*value) + ", expected uint32");
  if (!isPowerOf2_64(value->integer))
    return fail("general.alignment " + Twine(value->integer) +
                " is not a nonzero power of two");
  file.alignment = value->integer;
  return Error::success();
}

Error GgufParser::readTensorInfo(size_t index) {
  TensorInfo info;
  if (Error err =
          readString(info.name, "the name of tensor info " + Twine(index)))
    return err;
  std::string tensorName = ("tensor '" + info.name + "'").str();
  uint32_t numDims;
  if (Error err = readUInt(numDims, "the dimension count of " + tensorName))
    return err;
  if (numDims == 0 || numDims > kMaxDims)
    return fail(tensorName + " has " + Twine(numDims) +
                " dimensions, expected 1 to " + Twine(kMaxDims));
  uint64_t numElements = 1;
  for (uint32_t d = 0; d < numDims; ++d) {
    uint64_t dim;
    if (Error err = readUInt(dim, "the dimensions of " + tensorName))
      return err;
    if (dim == 0)
      return fail(tensorName + " has size 0 in dimension " + Twine(d));
    if (dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        numElements >
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / dim)
      return fail(tensorName + " has more than 2^63-1 elements");
    numElements *= dim;
    info.shape.push_back(static_cast<int64_t>(dim));
  }
  info.numElements = static_cast<int64_t>(numElements);

  uint32_t typeId;
  if (Error err = readUInt(typeId, "the type of " + tensorName))
    return err;
  if (!ggml::isKnownType(typeId))
    return fail(tensorName + " has unknown type id " + Twine(typeId));
  info.type = static_cast<ggml::Type>(typeId);
  uint64_t block = ggml::blockSize(info.type);
  if (info.shape[0] % block != 0)
    return fail(tensorName + " has row length " + Twine(info.shape[0]) +
                ", not a multiple of the block size " + Twine(block) + " of " +
                ggml::typeName(info.type));
  // Up to 2^63 blocks of up to 292 bytes: the product can overflow.
  uint64_t blocks = numElements / block;
  uint64_t bytesPerBlock = ggml::blockBytes(info.type);
  if (blocks > std::numeric_limits<uint64_t>::max() / bytesPerBlock)
    return fail(tensorName + " is larger than 2^64 bytes");
  info.numBytes = blocks * bytesPerBlock;

  if (Error err = readUInt(info.offset, "the offset of " + tensorName))
    return err;
  if (info.offset % file.alignment != 0)
    return fail(tensorName + " has offset " + Twine(info.offset) +
                ", not a multiple of the alignment " + Twine(file.alignment));
  if (!file.tensorIndex.try_emplace(info.name, file.tensorInfos.size()).second)
    return fail("duplicate tensor '" + info.name + "'");
  file.tensorInfos.push_back(std::move(info));
  return Error::success();
}

Error GgufParser::checkTensorData() {
  if (file.tensorInfos.empty()) {
    file.dataOffset = std::min<uint64_t>(alignTo(pos, file.alignment), size);
    return Error::success();
  }
  file.dataOffset = alignTo(pos, file.alignment);
  if (file.dataOffset > size)
    return fail("truncated: the data section would start at offset " +
                Twine(file.dataOffset) + " but the file has " + Twine(size) +
                " bytes");
  uint64_t dataSize = size - file.dataOffset;
  for (TensorInfo &info : file.tensorInfos) {
    if (info.offset > dataSize || info.numBytes > dataSize - info.offset)
      return fail("truncated: tensor '" + info.name + "' needs " +
                  Twine(info.numBytes) + " bytes at data offset " +
                  Twine(info.offset) + " but the data section has " +
                  Twine(dataSize) + " bytes");
    info.data = begin + file.dataOffset + info.offset;
  }

  // Sorted by offset, each tensor must end before the next one begins.
  std::vector<const TensorInfo *> byOffset;
  byOffset.reserve(file.tensorInfos.size());
  for (const TensorInfo &info : file.tensorInfos)
    byOffset.push_back(&info);
  llvm::stable_sort(byOffset, [](const TensorInfo *a, const TensorInfo *b) {
    return a->offset < b->offset;
  });
  for (size_t i = 1; i < byOffset.size(); ++i) {
    const TensorInfo &prev = *byOffset[i - 1], &cur = *byOffset[i];
    if (prev.offset + prev.numBytes > cur.offset)
      return fail("tensors '" + prev.name + "' and '" + cur.name +
                  "' overlap (bytes [" + Twine(prev.offset) + ", " +
                  Twine(prev.offset + prev.numBytes) + ") and [" +
                  Twine(cur.offset) + ", " + Twine(cur.offset + cur.numBytes) +
                  ") of the data section)");
  }
  return Error::success();
}

Error GgufParser::parse() {
  uint64_t tensorCount, entryCount;
  if (Error err = readHeader(tensorCount, entryCount))
    return err;
  if (Error err = readMetadata(entryCount))
    return err;
  if (Error err = readAlignment())
    return err;
  if (tensorCount > remaining() / kMinTensorInfoBytes)
    return fail("truncated: the header declares " + Twine(tensorCount) +
                " tensors but only " + Twine(remaining()) + " bytes are left");
  file.tensorInfos.reserve(tensorCount);
  for (uint64_t i = 0; i < tensorCount; ++i)
    if (Error err = readTensorInfo(i))
      return err;
  return checkTensorData();
}

//===----------------------------------------------------------------------===//
// GgufFile
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<GgufFile>> GgufFile::open(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> buffer =
      import::openModelFile(path);
  if (!buffer)
    return buffer.takeError();
  return parse(std::move(*buffer));
}

Expected<std::unique_ptr<GgufFile>>
GgufFile::parse(std::unique_ptr<MemoryBuffer> buffer) {
  std::unique_ptr<GgufFile> file(new GgufFile(std::move(buffer)));
  GgufParser parser(*file);
  if (Error err = parser.parse())
    return std::move(err);
  return std::move(file);
}

Error GgufFile::fail(const Twine &message) const {
  return createStringError(inconvertibleErrorCode(),
                           getPath() + ": " + message);
}

const Value *GgufFile::lookup(StringRef key) const {
  auto it = keyIndex.find(key);
  return it == keyIndex.end() ? nullptr : &entries[it->second].value;
}

Expected<const Value *> GgufFile::lookupOrFail(StringRef key) const {
  if (const Value *value = lookup(key))
    return value;
  return fail("metadata key '" + key + "' is missing");
}

Error GgufFile::typeMismatch(StringRef key, const Value &value,
                             StringRef expected) const {
  return fail("metadata key '" + key + "' has type " + describe(value) +
              ", expected " + expected);
}

Expected<StringRef> GgufFile::getString(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  if ((*value)->type != ValueType::String)
    return typeMismatch(key, **value, "a string");
  return (*value)->string;
}

Expected<uint64_t> GgufFile::getUInt(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  if (!isIntegerType((*value)->type))
    return typeMismatch(key, **value, "an integer");
  uint64_t bits = (*value)->integer;
  if (isSignedType((*value)->type) && static_cast<int64_t>(bits) < 0)
    return fail("metadata key '" + key + "' has negative value " +
                Twine(static_cast<int64_t>(bits)) +
                ", expected an unsigned integer");
  return bits;
}

Expected<int64_t> GgufFile::getInt(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  if (!isIntegerType((*value)->type))
    return typeMismatch(key, **value, "an integer");
  uint64_t bits = (*value)->integer;
  if ((*value)->type == ValueType::UInt64 &&
      bits > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return fail("metadata key '" + key + "' has value " + Twine(bits) +
                ", which does not fit in int64");
  return static_cast<int64_t>(bits);
}

Expected<double> GgufFile::getFloat(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  if (!isFloatType((*value)->type))
    return typeMismatch(key, **value, "a float");
  return (*value)->floating;
}

Expected<bool> GgufFile::getBool(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  if ((*value)->type != ValueType::Bool)
    return typeMismatch(key, **value, "a bool");
  return (*value)->integer != 0;
}

Expected<ArrayRef<StringRef>> GgufFile::getStringArray(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  if ((*value)->type != ValueType::Array ||
      (*value)->elementType != ValueType::String)
    return typeMismatch(key, **value, "an array of strings");
  return ArrayRef<StringRef>((*value)->strings);
}

Expected<std::vector<int64_t>> GgufFile::getIntArray(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  const Value &array = **value;
  if (array.type != ValueType::Array || !isIntegerType(array.elementType))
    return typeMismatch(key, array, "an array of integers");
  std::vector<int64_t> result(array.count);
  unsigned bytes = scalarBytes(array.elementType);
  Value element;
  for (uint64_t i = 0; i < array.count; ++i) {
    decodeScalar(array.elementType, array.rawElements + i * bytes, element);
    if (array.elementType == ValueType::UInt64 &&
        element.integer >
            static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return fail("metadata key '" + key + "' has element " + Twine(i) + " = " +
                  Twine(element.integer) + ", which does not fit in int64");
    result[i] = static_cast<int64_t>(element.integer);
  }
  return result;
}

Expected<std::vector<double>> GgufFile::getFloatArray(StringRef key) const {
  Expected<const Value *> value = lookupOrFail(key);
  if (!value)
    return value.takeError();
  const Value &array = **value;
  if (array.type != ValueType::Array || !isFloatType(array.elementType))
    return typeMismatch(key, array, "an array of floats");
  std::vector<double> result(array.count);
  unsigned bytes = scalarBytes(array.elementType);
  Value element;
  for (uint64_t i = 0; i < array.count; ++i) {
    decodeScalar(array.elementType, array.rawElements + i * bytes, element);
    result[i] = element.floating;
  }
  return result;
}

const TensorInfo *GgufFile::findTensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensorInfos[it->second];
}

void GgufFile::release(const TensorInfo &tensor) const {
  import::releasePages(*buffer, tensor.data, tensor.numBytes);
}

Error GgufFile::dequantize(const TensorInfo &tensor, float *dst) const {
  return dequantizeRows(tensor, 0, tensor.numRows(), dst);
}

Error GgufFile::dequantizeRows(const TensorInfo &tensor, int64_t firstRow,
                               int64_t numRows, float *dst) const {
  assert(&tensor >= tensorInfos.data() &&
         &tensor < tensorInfos.data() + tensorInfos.size() &&
         "tensor of another file");
  if (!ggml::canDequantize(tensor.type))
    return fail("tensor '" + tensor.name + "' has type " +
                ggml::typeName(tensor.type) +
                ", which cannot be dequantized yet");
  int64_t rows = tensor.numRows();
  if (firstRow < 0 || numRows < 0 || firstRow > rows ||
      numRows > rows - firstRow)
    return fail("rows [" + Twine(firstRow) + ", " + Twine(firstRow + numRows) +
                ") of tensor '" + tensor.name + "' are out of range (it has " +
                Twine(rows) + " rows)");
  size_t length = static_cast<size_t>(tensor.rowLength());
  size_t stride = ggml::rowBytes(tensor.type, length);
  for (int64_t r = 0; r < numRows; ++r) {
    const uint8_t *src = tensor.data + (firstRow + r) * stride;
    bool ok = ggml::dequantizeRow(tensor.type, src, length, dst + r * length);
    assert(ok && "row length checked by the parser");
    (void)ok;
  }
  return Error::success();
}

} // namespace qmlir::gguf
