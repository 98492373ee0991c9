//===- Safetensors.cpp - Strict reader for safetensors files --------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The header length is checked against the file before the header is read,
// the nesting of the JSON before it is parsed (llvm::json recurses), and
// every size against overflow before it is used. Entries are checked in
// name order so that a file with several faults always gives the same
// message.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/Safetensors.h"

#include "MappedFile.h"

#include "JsonChecks.h"

#include "qmlir/Numerics/Ggml.h"
#include "qmlir/Numerics/Quantize.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/Twine.h"
#include "llvm/ADT/bit.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <cassert>
#include <limits>

using namespace llvm;
using namespace qmlir::import_detail;

namespace qmlir::safetensors {

namespace {
/// The reference reader's limit (MAX_HEADER_SIZE).
constexpr uint64_t kMaxHeaderBytes = 100000000;
constexpr uint64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

struct DtypeEntry {
  Dtype dtype;
  const char *name;
  unsigned bits;
};

/// Indexed by Dtype.
constexpr DtypeEntry kDtypes[] = {
    {Dtype::Bool, "BOOL", 8},
    {Dtype::F4, "F4", 4},
    {Dtype::F6E2M3, "F6_E2M3", 6},
    {Dtype::F6E3M2, "F6_E3M2", 6},
    {Dtype::U8, "U8", 8},
    {Dtype::I8, "I8", 8},
    {Dtype::F8E5M2, "F8_E5M2", 8},
    {Dtype::F8E4M3, "F8_E4M3", 8},
    {Dtype::F8E8M0, "F8_E8M0", 8},
    {Dtype::F8E4M3Fnuz, "F8_E4M3FNUZ", 8},
    {Dtype::F8E5M2Fnuz, "F8_E5M2FNUZ", 8},
    {Dtype::I16, "I16", 16},
    {Dtype::U16, "U16", 16},
    {Dtype::F16, "F16", 16},
    {Dtype::BF16, "BF16", 16},
    {Dtype::I32, "I32", 32},
    {Dtype::U32, "U32", 32},
    {Dtype::F32, "F32", 32},
    {Dtype::C64, "C64", 64},
    {Dtype::F64, "F64", 64},
    {Dtype::I64, "I64", 64},
    {Dtype::U64, "U64", 64},
};

const DtypeEntry &entryOf(Dtype dtype) {
  const DtypeEntry &entry = kDtypes[static_cast<unsigned>(dtype)];
  assert(entry.dtype == dtype && "kDtypes out of order");
  return entry;
}

/// "[2, 3]".
std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string rangeText(uint64_t begin, uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + ")";
}

/// The keys of `object`, sorted: llvm::json::Object is a hash map, and
/// messages must not depend on its order.
std::vector<StringRef> sortedKeys(const json::Object &object) {
  std::vector<StringRef> keys;
  keys.reserve(object.size());
  for (const auto &member : object)
    keys.push_back(member.first);
  llvm::sort(keys);
  return keys;
}

} // namespace

StringRef dtypeName(Dtype dtype) { return entryOf(dtype).name; }

std::optional<Dtype> parseDtype(StringRef name) {
  for (const DtypeEntry &entry : kDtypes)
    if (name == entry.name)
      return entry.dtype;
  return std::nullopt;
}

unsigned dtypeBits(Dtype dtype) { return entryOf(dtype).bits; }

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

/// Reads the header of a safetensors file into a SafetensorsFile.
class SafetensorsParser {
public:
  explicit SafetensorsParser(SafetensorsFile &file)
      : file(file),
        begin(reinterpret_cast<const uint8_t *>(file.buffer->getBufferStart())),
        size(file.buffer->getBufferSize()) {}

  Error parse();

private:
  Error fail(const Twine &message) const { return file.fail(message); }
  Error readMetadata(const json::Value &value);
  Error readTensor(StringRef name, const json::Value &value, TensorInfo &info);
  Error readShape(const std::string &tensor, const json::Value &value,
                  TensorInfo &info);
  Error readOffsets(const std::string &tensor, const json::Value &value,
                    TensorInfo &info);
  /// The tensors must tile the data section: no overlap, gap or tail.
  Error checkLayout(ArrayRef<TensorInfo> sorted);

  SafetensorsFile &file;
  const uint8_t *begin;
  uint64_t size;
  uint64_t dataSize = 0;
};

Error SafetensorsParser::parse() {
  if (size < 8)
    return fail("truncated: the file has " + Twine(size) +
                " bytes, fewer than the 8 of the header length");
  uint64_t headerSize = support::endian::read64le(begin);
  if (headerSize > size - 8)
    return fail("truncated: the header length is " + Twine(headerSize) +
                " bytes but only " + Twine(size - 8) + " bytes follow it");
  if (headerSize > kMaxHeaderBytes)
    return fail("the header length " + Twine(headerSize) +
                " exceeds the limit of " + Twine(kMaxHeaderBytes) + " bytes");
  file.headerSize = headerSize;
  dataSize = size - 8 - headerSize;

  StringRef text(reinterpret_cast<const char *>(begin + 8), headerSize);
  if (std::optional<size_t> at = findTooDeepNesting(text))
    return fail("the header nests JSON deeper than " + Twine(kMaxJsonDepth) +
                " levels (at byte " + Twine(*at) + " of the header)");
  Expected<json::Value> root = json::parse(text);
  if (!root)
    return fail("invalid JSON in the header: " + toString(root.takeError()));
  const json::Object *object = root->getAsObject();
  if (!object)
    return fail(Twine("the header is ") + describeKind(*root) +
                ", expected a JSON object");
  if (std::optional<DuplicateKey> duplicate = findDuplicateKey(text)) {
    const std::vector<std::string> &path = duplicate->path;
    bool inTensor = path.front() != "__metadata__";
    if (path.size() == 1 && inTensor)
      return fail("duplicate tensor " + quote(path[0]));
    if (path.size() == 2 && inTensor)
      return fail("duplicate key " + quote(path[1]) + " in tensor " +
                  quote(path[0]));
    return fail(describeDuplicate(*duplicate));
  }

  std::vector<TensorInfo> infos;
  infos.reserve(object->size());
  for (StringRef name : sortedKeys(*object)) {
    const json::Value &value = *object->get(name);
    if (name == "__metadata__") {
      if (Error err = readMetadata(value))
        return err;
      continue;
    }
    infos.emplace_back();
    if (Error err = readTensor(name, value, infos.back()))
      return err;
  }

  llvm::sort(infos, [](const TensorInfo &a, const TensorInfo &b) {
    return std::make_tuple(a.begin, a.end, a.name) <
           std::make_tuple(b.begin, b.end, b.name);
  });
  if (Error err = checkLayout(infos))
    return err;

  // The names in `infos` point into `root`; keep copies in the index.
  const uint8_t *data = begin + 8 + headerSize;
  for (size_t i = 0; i < infos.size(); ++i) {
    TensorInfo &info = infos[i];
    info.name = file.tensorIndex.try_emplace(info.name, i).first->first();
    info.data = data + info.begin;
  }
  file.tensorInfos = std::move(infos);
  return Error::success();
}

Error SafetensorsParser::readMetadata(const json::Value &value) {
  const json::Object *object = value.getAsObject();
  if (!object)
    return fail(Twine("'__metadata__' is ") + describeKind(value) +
                ", expected an object of strings");
  for (StringRef key : sortedKeys(*object)) {
    const json::Value &entry = *object->get(key);
    std::optional<StringRef> text = entry.getAsString();
    if (!text)
      return fail("'__metadata__' key " + quote(key) + " is " +
                  describeKind(entry) + ", expected a string");
    file.meta[key] = text->str();
  }
  return Error::success();
}

Error SafetensorsParser::readTensor(StringRef name, const json::Value &value,
                                    TensorInfo &info) {
  info.name = name;
  std::string tensor = "tensor " + quote(name);
  const json::Object *entry = value.getAsObject();
  if (!entry)
    return fail(tensor + " is " + describeKind(value) + ", expected an object");
  for (StringRef field : sortedKeys(*entry))
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      return fail(tensor + " has unknown field " + quote(field));

  const json::Value *dtype = entry->get("dtype");
  if (!dtype)
    return fail(tensor + " has no 'dtype'");
  std::optional<StringRef> dtypeText = dtype->getAsString();
  if (!dtypeText)
    return fail(tensor + " has a 'dtype' that is " + describeKind(*dtype) +
                ", expected a string");
  std::optional<Dtype> parsed = parseDtype(*dtypeText);
  if (!parsed)
    return fail(tensor + " has unknown dtype " + quote(*dtypeText));
  info.dtype = *parsed;

  const json::Value *shape = entry->get("shape");
  if (!shape)
    return fail(tensor + " has no 'shape'");
  if (Error err = readShape(tensor, *shape, info))
    return err;

  const json::Value *offsets = entry->get("data_offsets");
  if (!offsets)
    return fail(tensor + " has no 'data_offsets'");
  return readOffsets(tensor, *offsets, info);
}

Error SafetensorsParser::readShape(const std::string &tensor,
                                   const json::Value &value, TensorInfo &info) {
  const json::Array *dims = value.getAsArray();
  if (!dims)
    return fail(tensor + " has a 'shape' that is " + describeKind(value) +
                ", expected an array");
  uint64_t numElements = 1;
  for (size_t d = 0; d < dims->size(); ++d) {
    const json::Value &dimValue = (*dims)[d];
    // getAsUINT64 refuses negative numbers and any number written with a
    // fraction or exponent (a double to llvm::json).
    std::optional<uint64_t> dim = dimValue.getAsUINT64();
    if (!dim)
      return fail(tensor + " has shape entry " + Twine(d) + " = " +
                  printJson(dimValue) + ", expected a non-negative integer");
    if (*dim > kMaxInt64 || (*dim != 0 && numElements > kMaxInt64 / *dim))
      return fail(tensor + " has more than 2^63-1 elements");
    numElements *= *dim;
    info.shape.push_back(static_cast<int64_t>(*dim));
  }
  info.numElements = static_cast<int64_t>(numElements);

  // bytes = numElements * bits / 8, computed without overflow: at most
  // 2^60 * 64 for the quotient part.
  uint64_t bits = dtypeBits(info.dtype);
  uint64_t tailBits = numElements % 8 * bits;
  if (tailBits % 8 != 0)
    return fail(tensor + " has " + Twine(numElements) + " elements of " +
                dtypeName(info.dtype) + ", which do not fill whole bytes");
  uint64_t quotient = numElements / 8;
  if (quotient > (std::numeric_limits<uint64_t>::max() - tailBits / 8) / bits)
    return fail(tensor + " is larger than 2^64 bytes");
  info.numBytes = quotient * bits + tailBits / 8;
  return Error::success();
}

Error SafetensorsParser::readOffsets(const std::string &tensor,
                                     const json::Value &value,
                                     TensorInfo &info) {
  const json::Array *pair = value.getAsArray();
  std::optional<uint64_t> first, last;
  if (pair && pair->size() == 2) {
    first = (*pair)[0].getAsUINT64();
    last = (*pair)[1].getAsUINT64();
  }
  if (!first || !last)
    return fail(tensor + " has 'data_offsets' " + printJson(value) +
                ", expected [begin, end] with non-negative integers");
  info.begin = *first;
  info.end = *last;
  std::string offsets = "data_offsets [" + std::to_string(info.begin) + ", " +
                        std::to_string(info.end) + "]";
  if (info.end < info.begin)
    return fail(tensor + " has " + offsets + ", which end before they begin");
  if (info.end - info.begin != info.numBytes)
    return fail(tensor + " has " + offsets + " (" +
                Twine(info.end - info.begin) + " bytes) but shape " +
                shapeText(info.shape) + " of " + dtypeName(info.dtype) +
                " needs " + Twine(info.numBytes) + " bytes");
  if (info.end > dataSize)
    return fail("truncated: " + tensor + " has " + offsets +
                " but the data section has " + Twine(dataSize) + " bytes");
  return Error::success();
}

Error SafetensorsParser::checkLayout(ArrayRef<TensorInfo> sorted) {
  uint64_t covered = 0;
  const TensorInfo *last = nullptr;
  for (const TensorInfo &info : sorted) {
    if (info.begin < covered)
      return fail("tensors " + quote(last->name) + " and " + quote(info.name) +
                  " overlap (bytes " + rangeText(last->begin, last->end) +
                  " and " + rangeText(info.begin, info.end) +
                  " of the data section)");
    if (info.begin > covered)
      return fail("bytes " + rangeText(covered, info.begin) +
                  " of the data section belong to no tensor");
    covered = info.end;
    last = &info;
  }
  if (covered != dataSize)
    return fail("bytes " + rangeText(covered, dataSize) +
                " of the data section belong to no tensor");
  return Error::success();
}

//===----------------------------------------------------------------------===//
// SafetensorsFile
//===----------------------------------------------------------------------===//

Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::open(StringRef path) {
  Expected<std::unique_ptr<MemoryBuffer>> buffer =
      import::openModelFile(path);
  if (!buffer)
    return buffer.takeError();
  return parse(std::move(*buffer));
}

Expected<std::unique_ptr<SafetensorsFile>>
SafetensorsFile::parse(std::unique_ptr<MemoryBuffer> buffer) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile(std::move(buffer)));
  SafetensorsParser parser(*file);
  if (Error err = parser.parse())
    return std::move(err);
  return std::move(file);
}

Error SafetensorsFile::fail(const Twine &message) const {
  return createStringError(inconvertibleErrorCode(),
                           getPath() + ": " + message);
}

const TensorInfo *SafetensorsFile::findTensor(StringRef name) const {
  auto it = tensorIndex.find(name);
  return it == tensorIndex.end() ? nullptr : &tensorInfos[it->second];
}

Error SafetensorsFile::toFloat(const TensorInfo &tensor, float *dst) const {
  assert(&tensor >= tensorInfos.data() &&
         &tensor < tensorInfos.data() + tensorInfos.size() &&
         "tensor of another file");
  const uint8_t *src = tensor.data;
  size_t n = static_cast<size_t>(tensor.numElements);
  switch (tensor.dtype) {
  case Dtype::F32:
    for (size_t i = 0; i < n; ++i)
      dst[i] = bit_cast<float>(support::endian::read32le(src + 4 * i));
    return Error::success();
  case Dtype::F16:
    for (size_t i = 0; i < n; ++i)
      dst[i] =
          numerics::ggml::halfToFloat(support::endian::read16le(src + 2 * i));
    return Error::success();
  case Dtype::BF16:
    for (size_t i = 0; i < n; ++i)
      dst[i] =
          numerics::bf16BitsToFloat(support::endian::read16le(src + 2 * i));
    return Error::success();
  default:
    return fail("tensor " + quote(tensor.name) + " has dtype " +
                dtypeName(tensor.dtype) +
                ", which cannot be converted to f32 (only F32, F16 and BF16 "
                "can)");
  }
}

void SafetensorsFile::release(const TensorInfo &tensor) const {
  import::releasePages(*buffer, tensor.data, tensor.numBytes);
}

//===----------------------------------------------------------------------===//
// SafetensorsModel
//===----------------------------------------------------------------------===//

namespace {

Error failAt(StringRef path, const Twine &message) {
  return createStringError(inconvertibleErrorCode(), path + ": " + message);
}

/// A shard name of an index: relative, and not leaving the directory.
bool isPlainRelativePath(StringRef name) {
  if (name.empty() || sys::path::is_absolute(name) ||
      sys::path::is_absolute(name, sys::path::Style::windows))
    return false;
  for (StringRef component :
       make_range(sys::path::begin(name), sys::path::end(name)))
    if (component == "..")
      return false;
  return true;
}

} // namespace

void SafetensorsModel::indexTensors() {
  for (const std::unique_ptr<SafetensorsFile> &file : files)
    for (const TensorInfo &tensor : file->tensors()) {
      allTensors.push_back(&tensor);
      byName[tensor.name] = &tensor;
    }
}

Expected<std::unique_ptr<SafetensorsModel>>
SafetensorsModel::openFile(StringRef path) {
  Expected<std::unique_ptr<SafetensorsFile>> file = SafetensorsFile::open(path);
  if (!file)
    return file.takeError();
  std::unique_ptr<SafetensorsModel> model(new SafetensorsModel());
  model->files.push_back(std::move(*file));
  model->indexTensors();
  return std::move(model);
}

Expected<std::unique_ptr<SafetensorsModel>>
SafetensorsModel::openIndex(StringRef indexJsonPath) {
  ErrorOr<std::unique_ptr<MemoryBuffer>> buffer =
      MemoryBuffer::getFile(indexJsonPath, /*IsText=*/false,
                            /*RequiresNullTerminator=*/false);
  if (std::error_code ec = buffer.getError())
    return createStringError(ec,
                             indexJsonPath + ": cannot open: " + ec.message());
  auto fail = [&](const Twine &message) {
    return failAt(indexJsonPath, message);
  };
  StringRef text = (*buffer)->getBuffer();
  if (std::optional<size_t> at = findTooDeepNesting(text))
    return fail("JSON nests deeper than " + Twine(kMaxJsonDepth) +
                " levels (at byte " + Twine(*at) + ")");
  Expected<json::Value> root = json::parse(text);
  if (!root)
    return fail("invalid JSON: " + toString(root.takeError()));
  const json::Object *object = root->getAsObject();
  if (!object)
    return fail(Twine("the index is ") + describeKind(*root) +
                ", expected a JSON object");
  if (std::optional<DuplicateKey> duplicate = findDuplicateKey(text)) {
    if (duplicate->path.size() == 2 && duplicate->path[0] == "weight_map")
      return fail("duplicate tensor " + quote(duplicate->path[1]) +
                  " in the weight_map");
    return fail(describeDuplicate(*duplicate));
  }
  const json::Value *weightMapValue = object->get("weight_map");
  if (!weightMapValue)
    return fail("no 'weight_map'");
  const json::Object *weightMap = weightMapValue->getAsObject();
  if (!weightMap)
    return fail(Twine("'weight_map' is ") + describeKind(*weightMapValue) +
                ", expected an object");
  if (weightMap->empty())
    return fail("'weight_map' is empty");

  // Tensor -> shard name, and the shard names in order.
  StringMap<std::string> shardOf;
  std::vector<std::string> shardNames;
  StringMap<size_t> shardIndex;
  for (StringRef tensor : sortedKeys(*weightMap)) {
    const json::Value &value = *weightMap->get(tensor);
    std::optional<StringRef> name = value.getAsString();
    if (!name)
      return fail("'weight_map' maps tensor " + quote(tensor) + " to " +
                  describeKind(value) + ", expected a file name");
    if (!isPlainRelativePath(*name))
      return fail("'weight_map' maps tensor " + quote(tensor) + " to " +
                  quote(*name) +
                  ", which is not a file in the index's directory");
    shardOf[tensor] = name->str();
    if (shardIndex.try_emplace(*name, 0).second)
      shardNames.push_back(name->str());
  }
  llvm::sort(shardNames);

  std::unique_ptr<SafetensorsModel> model(new SafetensorsModel());
  StringRef dir = sys::path::parent_path(indexJsonPath);
  for (const std::string &name : shardNames) {
    SmallString<256> path(dir);
    sys::path::append(path, name);
    Expected<std::unique_ptr<SafetensorsFile>> shard =
        SafetensorsFile::open(path);
    if (!shard)
      return shard.takeError();
    shardIndex[name] = model->files.size();
    model->files.push_back(std::move(*shard));
  }

  for (StringRef tensor : sortedKeys(*weightMap)) {
    const std::string &name = shardOf[tensor];
    if (!model->files[shardIndex[name]]->findTensor(tensor))
      return fail("tensor " + quote(tensor) + " is mapped to " + quote(name) +
                  ", which has no such tensor");
  }
  for (size_t i = 0; i < shardNames.size(); ++i)
    for (const TensorInfo &tensor : model->files[i]->tensors()) {
      auto it = shardOf.find(tensor.name);
      if (it == shardOf.end())
        return fail(quote(shardNames[i]) + " holds tensor " +
                    quote(tensor.name) +
                    ", which the weight_map does not list");
      if (it->second != shardNames[i])
        return fail(quote(shardNames[i]) + " holds tensor " +
                    quote(tensor.name) + ", which the weight_map maps to " +
                    quote(it->second));
    }
  model->indexTensors();
  return std::move(model);
}

Expected<std::unique_ptr<SafetensorsModel>>
SafetensorsModel::openModelDir(StringRef dir) {
  sys::fs::file_status status;
  if (std::error_code ec = sys::fs::status(dir, status))
    return createStringError(ec, dir + ": cannot open: " + ec.message());
  if (!sys::fs::is_directory(status))
    return failAt(dir, "not a directory");
  SmallString<256> single(dir), index(dir);
  sys::path::append(single, "model.safetensors");
  sys::path::append(index, "model.safetensors.index.json");
  if (sys::fs::exists(single))
    return openFile(single);
  if (sys::fs::exists(index))
    return openIndex(index);
  return failAt(dir, "has neither model.safetensors nor "
                     "model.safetensors.index.json");
}

const TensorInfo *SafetensorsModel::findTensor(StringRef name) const {
  auto it = byName.find(name);
  return it == byName.end() ? nullptr : it->second;
}

const SafetensorsFile &
SafetensorsModel::fileOf(const TensorInfo &tensor) const {
  for (const std::unique_ptr<SafetensorsFile> &file : files) {
    ArrayRef<TensorInfo> tensors = file->tensors();
    if (&tensor >= tensors.data() && &tensor < tensors.data() + tensors.size())
      return *file;
  }
  llvm_unreachable("tensor of another model");
}

} // namespace qmlir::safetensors
