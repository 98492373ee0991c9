//===- hf-fuzzer.cpp - libFuzzer target: the Hugging Face readers ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The first byte picks the reader, the rest is the file: 0 a safetensors
// file (parsed, every tensor up to 1M elements converted to f32), 1 a
// config.json, 2 a tokenizer.json (then a text encoded and decoded).
//
//===----------------------------------------------------------------------===//

#include "FuzzSupport.h"

#include "qmlir/Import/HfConfig.h"
#include "qmlir/Import/HfTokenizer.h"
#include "qmlir/Import/Safetensors.h"

#include <vector>

using namespace qmlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  llvm::StringRef text(reinterpret_cast<const char *>(data + 1), size - 1);
  switch (data[0] % 3) {
  case 0: {
    auto file = safetensors::SafetensorsFile::parse(
        llvm::MemoryBuffer::getMemBufferCopy(text, "fuzz.safetensors"));
    if (!file) {
      llvm::consumeError(file.takeError());
      return 0;
    }
    std::vector<float> values;
    for (const safetensors::TensorInfo &t : (*file)->tensors()) {
      if (t.numElements > (1 << 20))
        continue;
      values.resize(t.numElements);
      if (llvm::Error e = (*file)->toFloat(t, values.data()))
        llvm::consumeError(std::move(e));
    }
    return 0;
  }
  case 1:
    if (auto config = hf::parseHfLlamaConfig(text, "config.json"); !config)
      llvm::consumeError(config.takeError());
    return 0;
  default: {
    fuzz::MemFile file(data + 1, size - 1);
    auto tok = hf::tokenizerFromJson(file.path(), -1, -1);
    if (!tok) {
      llvm::consumeError(tok.takeError());
      return 0;
    }
    std::vector<int32_t> ids = tok->encode("Hello, world 123 <|im_start|>", true);
    (void)tok->decode(ids);
    return 0;
  }
  }
}
