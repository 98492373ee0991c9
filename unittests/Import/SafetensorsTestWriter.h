//===- SafetensorsTestWriter.h - Builds small safetensors files -*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// An independent safetensors encoder for the reader tests, written from the
// format description (the safetensors README), not from the reader: it
// prints the JSON header itself. It can also write inconsistent files
// (wrong offsets, raw entries, a wrong header length) so that each check of
// the reader can be triggered.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_UNITTESTS_IMPORT_SAFETENSORSTESTWRITER_H
#define QMLIR_UNITTESTS_IMPORT_SAFETENSORSTESTWRITER_H

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace qmlir::safetensors::testing {

/// `v` as `bytes` little-endian bytes.
inline std::string le(uint64_t v, unsigned bytes) {
  std::string s;
  for (unsigned i = 0; i < bytes; ++i)
    s.push_back(static_cast<char>(i < 8 ? (v >> (8 * i)) & 0xFF : 0));
  return s;
}

inline std::string f32s(std::initializer_list<float> values) {
  std::string s;
  for (float f : values) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    s += le(u, 4);
  }
  return s;
}

/// 16-bit values (F16 or BF16 bits), little-endian.
inline std::string u16s(std::initializer_list<uint16_t> values) {
  std::string s;
  for (uint16_t v : values)
    s += le(v, 2);
  return s;
}

/// A JSON string literal.
inline std::string jsonString(const std::string &text) {
  std::string s = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      s += '\\';
      s += static_cast<char>(c);
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\u%04x", c);
      s += buffer;
    } else {
      s += static_cast<char>(c);
    }
  }
  return s + "\"";
}

struct TensorSpec {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  /// The tensor's bytes in the data section.
  std::string bytes;
  /// data_offsets written instead of the next free ones; the bytes are
  /// placed at the first offset.
  std::optional<std::pair<uint64_t, uint64_t>> offsets;
  /// The entry's value written verbatim instead of the generated one (the
  /// bytes are still placed).
  std::optional<std::string> rawEntry;
};

class SafetensorsWriter {
public:
  /// "__metadata__" entries, written when not empty.
  std::vector<std::pair<std::string, std::string>> metadata;
  /// Written at the end of the header object verbatim (",\"k\": ...").
  std::string extraMembers;
  /// Pads the header with spaces to a multiple of 8, as the reference does.
  bool pad = true;
  /// The header length written instead of the real one.
  std::optional<uint64_t> headerLength;

  SafetensorsWriter &add(TensorSpec spec) {
    tensors.push_back(std::move(spec));
    return *this;
  }

  /// The JSON header, members in insertion order.
  std::string header() const {
    std::string json = "{";
    bool first = true;
    auto member = [&](const std::string &key, const std::string &value) {
      json += (first ? "" : ",") + jsonString(key) + ":" + value;
      first = false;
    };
    if (!metadata.empty()) {
      std::string object = "{";
      for (size_t i = 0; i < metadata.size(); ++i)
        object += (i ? "," : "") + jsonString(metadata[i].first) + ":" +
                  jsonString(metadata[i].second);
      member("__metadata__", object + "}");
    }
    uint64_t next = 0;
    for (const TensorSpec &t : tensors) {
      auto [begin, end] = t.offsets.value_or(
          std::make_pair(next, next + static_cast<uint64_t>(t.bytes.size())));
      next = std::max(next, begin + t.bytes.size());
      if (t.rawEntry) {
        member(t.name, *t.rawEntry);
        continue;
      }
      std::string shape = "[";
      for (size_t i = 0; i < t.shape.size(); ++i)
        shape += (i ? "," : "") + std::to_string(t.shape[i]);
      member(t.name, "{\"dtype\":" + jsonString(t.dtype) +
                         ",\"shape\":" + shape + "],\"data_offsets\":[" +
                         std::to_string(begin) + "," + std::to_string(end) +
                         "]}");
    }
    json += extraMembers + "}";
    if (pad)
      json.resize((json.size() + 7) / 8 * 8, ' ');
    return json;
  }

  /// The data section: each tensor's bytes at its first offset.
  std::string data() const {
    std::string out;
    uint64_t next = 0;
    for (const TensorSpec &t : tensors) {
      uint64_t begin = t.offsets ? t.offsets->first : next;
      next = std::max(next, begin + t.bytes.size());
      if (out.size() < begin + t.bytes.size())
        out.resize(begin + t.bytes.size(), '\0');
      out.replace(begin, t.bytes.size(), t.bytes);
    }
    return out;
  }

  std::string build() const {
    std::string json = header();
    return le(headerLength.value_or(json.size()), 8) + json + data();
  }

private:
  std::vector<TensorSpec> tensors;
};

} // namespace qmlir::safetensors::testing

#endif // QMLIR_UNITTESTS_IMPORT_SAFETENSORSTESTWRITER_H
