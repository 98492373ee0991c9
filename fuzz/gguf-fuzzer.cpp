//===- gguf-fuzzer.cpp - libFuzzer target: the GGUF reader ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Parses the input as a GGUF file, then does with it what quant-compile
// does: reads the Llama configuration and the tokenizer (and encodes a
// text with it), and dequantizes every tensor (up to 1M elements each).
//
//===----------------------------------------------------------------------===//

#include "qmlir/Import/Gguf.h"
#include "qmlir/Import/GgufTokenizer.h"
#include "qmlir/Model/Llama.h"

#include <vector>

using namespace qmlir;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto buffer = llvm::MemoryBuffer::getMemBufferCopy(
      llvm::StringRef(reinterpret_cast<const char *>(data), size), "fuzz.gguf");
  auto file = gguf::GgufFile::parse(std::move(buffer));
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  const gguf::GgufFile &f = **file;
  if (auto config = model::readLlamaConfig(f); !config)
    llvm::consumeError(config.takeError());
  if (auto tok = gguf::tokenizerFromGguf(f); !tok) {
    llvm::consumeError(tok.takeError());
  } else {
    std::vector<int32_t> ids = tok->encode("Hello, world 123 <|im_start|>", true);
    (void)tok->decode(ids);
  }
  std::vector<float> values;
  for (const gguf::TensorInfo &t : f.tensors()) {
    if (t.numElements > (1 << 20) || !numerics::ggml::canDequantize(t.type))
      continue;
    values.resize(t.numElements);
    if (llvm::Error e = f.dequantize(t, values.data()))
      llvm::consumeError(std::move(e));
  }
  return 0;
}
