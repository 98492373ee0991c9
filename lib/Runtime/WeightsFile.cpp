//===- WeightsFile.cpp - The weights file of a compiled model -------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/WeightsFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace qmlir::runtime;

namespace {
constexpr char kMagic[8] = {'Q', 'M', 'L', 'W', 'G', 'T', '0', '1'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kHeaderBytes = 64;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t count;
  uint64_t dataOffset, dataBytes, tableOffset, tableBytes, layoutHash;
  uint64_t reserved;
};
static_assert(sizeof(Header) == kHeaderBytes, "header layout");

/// Appends the little-endian bytes of a value (the build targets are
/// little-endian, as the mapped tensors themselves assume).
template <typename T> void put(std::string &out, T value) {
  out.append(reinterpret_cast<const char *>(&value), sizeof(T));
}

/// Bounds-checked reads of the table.
struct Cursor {
  const uint8_t *p, *end;
  template <typename T> bool get(T &value) {
    if (uint64_t(end - p) < sizeof(T))
      return false;
    std::memcpy(&value, p, sizeof(T));
    p += sizeof(T);
    return true;
  }
};
} // namespace

const char *qmlir::runtime::elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return "f32";
  case ElementType::I8:
    return "i8";
  case ElementType::U8:
    return "u8";
  }
  return "?";
}

uint64_t qmlir::runtime::checksum(const void *data, uint64_t bytes) {
  const uint8_t *p = static_cast<const uint8_t *>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint64_t i = 0; i < bytes; ++i)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

//===----------------------------------------------------------------------===//
// Writer
//===----------------------------------------------------------------------===//

bool WeightsWriter::open(const std::string &target, std::string &error) {
  path = target;
  file = std::fopen((path + ".part").c_str(), "wb");
  if (!file) {
    error = path + ".part: cannot create: " + std::strerror(errno);
    return false;
  }
  Header placeholder{};
  return write(&placeholder, sizeof(placeholder)) ||
         (error = path + ".part: write failed", false);
}

bool WeightsWriter::write(const void *data, uint64_t bytes) {
  if (failed || std::fwrite(data, 1, bytes, file) != bytes)
    failed = true;
  return !failed;
}

uint64_t WeightsWriter::align(uint64_t alignment) {
  static const char zeros[256] = {};
  uint64_t padded = (dataBytes + alignment - 1) / alignment * alignment;
  for (uint64_t left = padded - dataBytes; left > 0;) {
    uint64_t chunk = left < sizeof(zeros) ? left : sizeof(zeros);
    write(zeros, chunk);
    left -= chunk;
  }
  dataBytes = padded;
  return padded;
}

uint64_t WeightsWriter::add(const std::string &name, ElementType type,
                            std::vector<int64_t> shape, const void *data,
                            uint64_t bytes) {
  uint64_t offset = align();
  write(data, bytes);
  dataBytes += bytes;
  tensors.push_back(
      {name, type, std::move(shape), offset, bytes, checksum(data, bytes)});
  return offset;
}

bool WeightsWriter::finish(uint64_t layoutHash, std::string &error) {
  align();
  std::string table;
  for (const TensorEntry &t : tensors) {
    put<uint32_t>(table, t.name.size());
    table += t.name;
    put<uint32_t>(table, uint32_t(t.type));
    put<uint32_t>(table, t.shape.size());
    for (int64_t d : t.shape)
      put<int64_t>(table, d);
    put<uint64_t>(table, t.offset);
    put<uint64_t>(table, t.bytes);
    put<uint64_t>(table, t.checksum);
  }
  write(table.data(), table.size());
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kVersion;
  h.count = tensors.size();
  h.dataOffset = kHeaderBytes;
  h.dataBytes = dataBytes;
  h.tableOffset = kHeaderBytes + dataBytes;
  h.tableBytes = table.size();
  h.layoutHash = layoutHash;
  if (!failed && std::fseek(file, 0, SEEK_SET) != 0)
    failed = true;
  write(&h, sizeof(h));
  bool closed = std::fclose(file) == 0;
  file = nullptr;
  if (failed || !closed) {
    error = path + ".part: write failed: " + std::strerror(errno);
    abandon();
    return false;
  }
  if (std::rename((path + ".part").c_str(), path.c_str()) != 0) {
    error = path + ": cannot rename into place: " + std::strerror(errno);
    abandon();
    return false;
  }
  path.clear();
  return true;
}

void WeightsWriter::abandon() {
  if (file) {
    std::fclose(file);
    file = nullptr;
  }
  if (!path.empty()) {
    std::remove((path + ".part").c_str());
    path.clear();
  }
}

//===----------------------------------------------------------------------===//
// Reader
//===----------------------------------------------------------------------===//

WeightsFile::~WeightsFile() {
  if (base)
    munmap(const_cast<uint8_t *>(base), fileSize);
}

bool WeightsFile::open(const std::string &file, std::string &error) {
  path = file;
  auto fail = [&](const std::string &what) {
    error = path + ": " + what;
    return false;
  };
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return fail(std::string("cannot open weights file: ") +
                std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    return fail("cannot stat weights file");
  }
  fileSize = st.st_size;
  if (fileSize < kHeaderBytes) {
    ::close(fd);
    return fail("not a quant-mlir weights file (" + std::to_string(fileSize) +
                " bytes, shorter than its header)");
  }
  void *m = mmap(nullptr, fileSize, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (m == MAP_FAILED)
    return fail(std::string("cannot map weights file: ") +
                std::strerror(errno));
  base = static_cast<const uint8_t *>(m);

  Header h;
  std::memcpy(&h, base, sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0)
    return fail("not a quant-mlir weights file (bad magic)");
  if (h.version != kVersion)
    return fail("unsupported weights file version " +
                std::to_string(h.version) + " (expected " +
                std::to_string(kVersion) + ")");
  if (h.dataOffset != kHeaderBytes || h.dataBytes > fileSize ||
      h.tableOffset != h.dataOffset + h.dataBytes ||
      h.tableBytes > fileSize - std::min(fileSize, h.tableOffset) ||
      h.tableOffset + h.tableBytes != fileSize)
    return fail("truncated or corrupt weights file (sections do not match "
                "its size of " + std::to_string(fileSize) + " bytes)");
  dataOffset = h.dataOffset;
  dataSize = h.dataBytes;
  hash = h.layoutHash;

  Cursor c{base + h.tableOffset, base + h.tableOffset + h.tableBytes};
  for (uint32_t i = 0; i < h.count; ++i) {
    TensorEntry t;
    uint32_t nameLen, type, rank;
    if (!c.get(nameLen) || nameLen > uint64_t(c.end - c.p))
      return fail("corrupt tensor table (entry " + std::to_string(i) + ")");
    t.name.assign(reinterpret_cast<const char *>(c.p), nameLen);
    c.p += nameLen;
    if (!c.get(type) || type > uint32_t(ElementType::U8) || !c.get(rank) ||
        rank > 8)
      return fail("corrupt tensor table (tensor '" + t.name + "')");
    t.type = ElementType(type);
    t.shape.resize(rank);
    for (int64_t &d : t.shape)
      if (!c.get(d) || d < 0)
        return fail("corrupt tensor table (tensor '" + t.name + "')");
    if (!c.get(t.offset) || !c.get(t.bytes) || !c.get(t.checksum))
      return fail("corrupt tensor table (tensor '" + t.name + "')");
    if (t.offset > dataSize || t.bytes > dataSize - t.offset)
      return fail("tensor '" + t.name + "' lies outside the data section");
    tensors.push_back(std::move(t));
  }
  if (c.p != c.end)
    return fail("corrupt tensor table (trailing bytes)");
  return true;
}

bool WeightsFile::verify(std::string &error) const {
  for (const TensorEntry &t : tensors)
    if (checksum(data() + t.offset, t.bytes) != t.checksum) {
      error = path + ": checksum mismatch in tensor '" + t.name +
              "' (the file is corrupt)";
      return false;
    }
  return true;
}

const TensorEntry *WeightsFile::find(const std::string &name) const {
  for (const TensorEntry &t : tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}
