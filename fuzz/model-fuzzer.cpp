//===- model-fuzzer.cpp - libFuzzer target: a compiled model's files ------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What quant-run reads besides model.so: the first byte picks the file, the
// rest is its content: bit 0 clear, weights.bin (opened, table and bounds
// checked, checksums verified); set, tokenizer.bin (parsed, a text encoded
// and decoded). With bit 1 set the tokenizer file's size and checksum
// fields are first made to match its body, so that mutations reach the
// parser behind the checksum. (The runtime reads no manifest.json: the
// library's qmlir_model_info carries what it needs.)
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "qmlir/Runtime/Tokenizer.h"
#include "qmlir/Runtime/WeightsFile.h"

#include <string>

using namespace qmlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  std::string error;
  if ((data[0] & 1) == 0) {
    fuzz::MemFile file(data + 1, size - 1);
    runtime::WeightsFile weights;
    if (weights.open(file.path(), error))
      (void)weights.verify(error);
    return 0;
  }
  std::string bytes(reinterpret_cast<const char *>(data + 1), size - 1);
  // Header (TokenizerFile.cpp): magic 8, version 4, reserved 4, body size
  // 8, FNV-1a 64 of the body 8; then the body.
  constexpr size_t kHeader = 32;
  if ((data[0] & 2) && bytes.size() >= kHeader) {
    uint64_t body = bytes.size() - kHeader, hash = 0xCBF29CE484222325ull;
    for (size_t i = kHeader; i < bytes.size(); ++i)
      hash = (hash ^ static_cast<uint8_t>(bytes[i])) * 0x100000001B3ull;
    for (int i = 0; i < 8; ++i) {
      bytes[16 + i] = static_cast<char>(body >> (8 * i));
      bytes[24 + i] = static_cast<char>(hash >> (8 * i));
    }
  }
  std::optional<runtime::Tokenizer> tok =
      runtime::Tokenizer::deserialize(bytes, "fuzz/tokenizer.bin", error);
  if (tok) {
    std::vector<int32_t> ids =
        tok->encode("Hello, world 123 <|im_start|>", true);
    (void)tok->decode(ids);
  }
  return 0;
}
