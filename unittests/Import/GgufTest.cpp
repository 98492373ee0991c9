//===- GgufTest.cpp - Tests for reading GGUF metadata and tensors ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Files are built by GgufTestWriter.h; expected values are written out by
// hand from the GGUF and GGML format definitions. The SmolLM2 test runs when
// QMLIR_SMOLLM2_GGUF names SmolLM2-135M-Instruct.Q4_1.gguf; its spot values
// come from the `gguf` Python package (gguf.quants.dequantize).
//
//===----------------------------------------------------------------------===//

#include "GgufTestWriter.h"

#include "qmlir/Import/Gguf.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace qmlir::gguf;
using namespace qmlir::gguf::testing;
namespace ggml = qmlir::numerics::ggml;

namespace {

std::unique_ptr<GgufFile> parseOrFail(const std::string &bytes) {
  auto file =
      GgufFile::parse(llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.gguf"));
  if (!file) {
    ADD_FAILURE() << llvm::toString(file.takeError());
    return nullptr;
  }
  return std::move(*file);
}

/// The message of an error, or "" on success.
std::string errorOf(llvm::Error err) {
  return err ? llvm::toString(std::move(err)) : "";
}
template <typename T> std::string errorOf(llvm::Expected<T> value) {
  return value ? "" : llvm::toString(value.takeError());
}

/// Two's complement bytes of a signed value.
std::string sle(int64_t v, unsigned bytes) {
  return le(static_cast<uint64_t>(v), bytes);
}

std::string halves(std::initializer_list<uint16_t> values) {
  std::string s;
  for (uint16_t v : values)
    s += le(v, 2);
  return s;
}

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

/// A file with one metadata entry of every type and of every array kind.
std::string allTypesFile() {
  GgufWriter w;
  w.add("t.u8", kU8, le(200, 1))
      .add("t.i8", kI8, sle(-100, 1))
      .add("t.u16", kU16, le(60000, 2))
      .add("t.i16", kI16, sle(-30000, 2))
      .add("t.u32", kU32, le(4000000000u, 4))
      .add("t.i32", kI32, sle(-2000000000, 4))
      .add("t.f32", kF32, f32(1.5f))
      .add("t.true", kBool, le(1, 1))
      .add("t.false", kBool, le(0, 1))
      .add("t.string", kString, str("h\xC3\xA9llo"))
      .add("t.empty", kString, str(""))
      .add("t.u64", kU64, le(9223372036854775813ull, 8))
      .add("t.i64", kI64, sle(-1099511627776, 8))
      .add("t.f64", kF64, f64(0.1))
      .add("a.u8", kArray, array(kU8, {le(1, 1), le(2, 1), le(255, 1)}))
      .add("a.i8", kArray, array(kI8, {sle(-5, 1)}))
      .add("a.i32", kArray,
           array(kI32, {sle(-1, 4), sle(2, 4), sle(-2147483648ll, 4)}))
      .add("a.u64", kArray, array(kU64, {le(9223372036854775808ull, 8)}))
      .add("a.f32", kArray, array(kF32, {f32(0.5f), f32(-2.25f)}))
      .add("a.f64", kArray, array(kF64, {f64(0.1)}))
      .add("a.bool", kArray, array(kBool, {le(1, 1), le(0, 1)}))
      .add("a.str", kArray, array(kString, {str("a"), str(""), str("bc")}))
      .add("a.nested", kArray,
           array(kArray,
                 {array(kU16, {le(1, 2), le(2, 2)}), array(kU16, {le(3, 2)})}))
      .add("a.empty", kArray, array(kI32, {}));
  return w.build();
}

TEST(GgufTest, EmptyFile) {
  // Header only: no metadata, no tensors.
  auto file = parseOrFail(GgufWriter().build());
  ASSERT_TRUE(file);
  EXPECT_EQ(file->getVersion(), 3u);
  EXPECT_EQ(file->getAlignment(), 32u);
  EXPECT_TRUE(file->metadata().empty());
  EXPECT_TRUE(file->tensors().empty());
}

TEST(GgufTest, Version2) {
  GgufWriter w;
  w.version = 2;
  w.addString("general.architecture", "llama");
  auto file = parseOrFail(w.build());
  ASSERT_TRUE(file);
  EXPECT_EQ(file->getVersion(), 2u);
  EXPECT_EQ(*file->getString("general.architecture"), "llama");
}

TEST(GgufTest, ScalarMetadata) {
  auto file = parseOrFail(allTypesFile());
  ASSERT_TRUE(file);
  ASSERT_EQ(file->metadata().size(), 24u);
  EXPECT_EQ(file->metadata()[0].key, "t.u8");
  EXPECT_EQ(file->metadata()[23].key, "a.empty");

  EXPECT_EQ(*file->getUInt("t.u8"), 200u);
  EXPECT_EQ(*file->getInt("t.i8"), -100);
  EXPECT_EQ(*file->getUInt("t.u16"), 60000u);
  EXPECT_EQ(*file->getInt("t.i16"), -30000);
  EXPECT_EQ(*file->getUInt("t.u32"), 4000000000u);
  EXPECT_EQ(*file->getInt("t.u32"), 4000000000);
  EXPECT_EQ(*file->getInt("t.i32"), -2000000000);
  EXPECT_EQ(*file->getUInt("t.u64"), 9223372036854775813ull);
  EXPECT_EQ(*file->getInt("t.i64"), -1099511627776);
  EXPECT_EQ(*file->getFloat("t.f32"), 1.5);
  EXPECT_EQ(*file->getFloat("t.f64"), 0.1);
  EXPECT_TRUE(*file->getBool("t.true"));
  EXPECT_FALSE(*file->getBool("t.false"));
  EXPECT_EQ(*file->getString("t.string"), "h\xC3\xA9llo");
  EXPECT_EQ(*file->getString("t.empty"), "");

  const Value *value = file->lookup("t.i16");
  ASSERT_NE(value, nullptr);
  EXPECT_EQ(value->type, ValueType::Int16);
  EXPECT_EQ(value->integer, static_cast<uint64_t>(-30000));
  EXPECT_EQ(file->lookup("t.f32")->type, ValueType::Float32);
  EXPECT_EQ(file->lookup("t.u64")->type, ValueType::UInt64);
}

TEST(GgufTest, ArrayMetadata) {
  auto file = parseOrFail(allTypesFile());
  ASSERT_TRUE(file);
  EXPECT_EQ(*file->getIntArray("a.u8"), (std::vector<int64_t>{1, 2, 255}));
  EXPECT_EQ(*file->getIntArray("a.i8"), (std::vector<int64_t>{-5}));
  EXPECT_EQ(*file->getIntArray("a.i32"),
            (std::vector<int64_t>{-1, 2, -2147483648ll}));
  EXPECT_TRUE(file->getIntArray("a.empty")->empty());
  EXPECT_EQ(*file->getFloatArray("a.f32"), (std::vector<double>{0.5, -2.25}));
  EXPECT_EQ(*file->getFloatArray("a.f64"), (std::vector<double>{0.1}));

  auto strings = file->getStringArray("a.str");
  ASSERT_TRUE(bool(strings));
  ASSERT_EQ(strings->size(), 3u);
  EXPECT_EQ((*strings)[0], "a");
  EXPECT_EQ((*strings)[1], "");
  EXPECT_EQ((*strings)[2], "bc");

  const Value *bools = file->lookup("a.bool");
  ASSERT_NE(bools, nullptr);
  EXPECT_EQ(bools->elementType, ValueType::Bool);
  ASSERT_EQ(bools->count, 2u);
  EXPECT_EQ(bools->rawElements[0], 1);
  EXPECT_EQ(bools->rawElements[1], 0);

  // [[1, 2], [3]] as uint16.
  const Value *nested = file->lookup("a.nested");
  ASSERT_NE(nested, nullptr);
  EXPECT_EQ(nested->type, ValueType::Array);
  EXPECT_EQ(nested->elementType, ValueType::Array);
  ASSERT_EQ(nested->arrays.size(), 2u);
  EXPECT_EQ(nested->arrays[0].elementType, ValueType::UInt16);
  ASSERT_EQ(nested->arrays[0].count, 2u);
  EXPECT_EQ(nested->arrays[0].rawElements[2], 2);
  ASSERT_EQ(nested->arrays[1].count, 1u);
  EXPECT_EQ(nested->arrays[1].rawElements[0], 3);
}

TEST(GgufTest, MetadataErrors) {
  auto file = parseOrFail(allTypesFile());
  ASSERT_TRUE(file);
  EXPECT_FALSE(file->hasKey("llama.block_count"));
  EXPECT_EQ(file->lookup("llama.block_count"), nullptr);
  EXPECT_EQ(errorOf(file->getUInt("llama.block_count")),
            "test.gguf: metadata key 'llama.block_count' is missing");
  EXPECT_EQ(errorOf(file->getString("t.u32")),
            "test.gguf: metadata key 't.u32' has type uint32, expected a "
            "string");
  EXPECT_EQ(errorOf(file->getUInt("t.string")),
            "test.gguf: metadata key 't.string' has type string, expected an "
            "integer");
  EXPECT_EQ(errorOf(file->getInt("t.true")),
            "test.gguf: metadata key 't.true' has type bool, expected an "
            "integer");
  EXPECT_EQ(errorOf(file->getUInt("t.i8")),
            "test.gguf: metadata key 't.i8' has negative value -100, expected "
            "an unsigned integer");
  EXPECT_EQ(errorOf(file->getInt("t.u64")),
            "test.gguf: metadata key 't.u64' has value 9223372036854775813, "
            "which does not fit in int64");
  EXPECT_EQ(errorOf(file->getFloat("t.u32")),
            "test.gguf: metadata key 't.u32' has type uint32, expected a "
            "float");
  EXPECT_EQ(errorOf(file->getBool("t.u8")),
            "test.gguf: metadata key 't.u8' has type uint8, expected a bool");
  EXPECT_EQ(errorOf(file->getStringArray("a.i32")),
            "test.gguf: metadata key 'a.i32' has type array of int32, "
            "expected an array of strings");
  EXPECT_EQ(errorOf(file->getIntArray("a.f32")),
            "test.gguf: metadata key 'a.f32' has type array of float32, "
            "expected an array of integers");
  EXPECT_EQ(errorOf(file->getIntArray("a.nested")),
            "test.gguf: metadata key 'a.nested' has type array of array, "
            "expected an array of integers");
  EXPECT_EQ(errorOf(file->getIntArray("a.u64")),
            "test.gguf: metadata key 'a.u64' has element 0 = "
            "9223372036854775808, which does not fit in int64");
  EXPECT_EQ(errorOf(file->getFloatArray("t.f32")),
            "test.gguf: metadata key 't.f32' has type float32, expected an "
            "array of floats");
}

/// One tensor of every dequantizable type, plus a q6_K one.
std::string allTensorsFile() {
  GgufWriter w;
  w.addString("general.architecture", "test");
  // f32 [2, 3] (ne = {3, 2}).
  w.addTensor({"f32",
               {3, 2},
               0,
               f32(1.0f) + f32(-2.0f) + f32(0.5f) + f32(3.0f) + f32(-0.25f) +
                   f32(1e-3f)});
  // f16: 1, -0, +inf, 2^-24.
  w.addTensor({"f16", {4}, 1, halves({0x3C00, 0x8000, 0x7C00, 0x0001})});
  // bf16: 1, -3.
  w.addTensor({"bf16", {2}, 30, halves({0x3F80, 0xC040})});
  // q8_0 [2, 32]: row 0 d = 1, q = j - 16; row 1 d = -0.5, q = 4j - 64.
  std::string q8 = le(0x3C00, 2);
  for (int j = 0; j < 32; ++j)
    q8 += sle(j - 16, 1);
  q8 += le(0xB800, 2);
  for (int j = 0; j < 32; ++j)
    q8 += sle(4 * j - 64, 1);
  w.addTensor({"q8_0", {32, 2}, 8, q8});
  // q4_0 [64]: block 0 d = 0.5, bytes 0xA3 (low 3, high 10); block 1 d = 3,
  // byte j = j (low j, high 0).
  std::string q40 = le(0x3800, 2) + std::string(16, '\xA3') + le(0x4200, 2);
  for (int j = 0; j < 16; ++j)
    q40 += le(j, 1);
  w.addTensor({"q4_0", {64}, 2, q40});
  // q4_1 [1, 1, 32]: d = 0.125, m = 10, byte j: low 15 - j, high j.
  std::string q41 = le(0x3000, 2) + le(0x4900, 2);
  for (int j = 0; j < 16; ++j)
    q41 += le((j << 4) | (15 - j), 1);
  w.addTensor({"q4_1", {32, 1, 1}, 3, q41});
  w.addTensor({"q6_k", {256}, 14, std::string(210, '\0')});
  return w.build();
}

TEST(GgufTest, TensorTable) {
  std::string bytes = allTensorsFile();
  auto file = parseOrFail(bytes);
  ASSERT_TRUE(file);
  ASSERT_EQ(file->tensors().size(), 7u);
  EXPECT_EQ(file->getDataOffset() % 32, 0u);

  struct Want {
    const char *name;
    std::vector<int64_t> shape;
    ggml::Type type;
    uint64_t offset, bytes;
  } want[] = {
      {"f32", {3, 2}, ggml::Type::F32, 0, 24},
      {"f16", {4}, ggml::Type::F16, 32, 8},
      {"bf16", {2}, ggml::Type::BF16, 64, 4},
      {"q8_0", {32, 2}, ggml::Type::Q8_0, 96, 68},
      {"q4_0", {64}, ggml::Type::Q4_0, 192, 36},
      {"q4_1", {32, 1, 1}, ggml::Type::Q4_1, 256, 20},
      {"q6_k", {256}, ggml::Type::Q6_K, 288, 210},
  };
  for (size_t i = 0; i < 7; ++i) {
    const TensorInfo &t = file->tensors()[i];
    EXPECT_EQ(t.name, want[i].name);
    EXPECT_EQ(std::vector<int64_t>(t.shape.begin(), t.shape.end()),
              want[i].shape)
        << t.name.str();
    EXPECT_EQ(t.type, want[i].type) << t.name.str();
    EXPECT_EQ(t.offset, want[i].offset) << t.name.str();
    EXPECT_EQ(t.numBytes, want[i].bytes) << t.name.str();
    // The pointer is into the file, at the data section plus the offset.
    ASSERT_LE(file->getDataOffset() + t.offset + t.numBytes, bytes.size());
    EXPECT_EQ(std::memcmp(t.data,
                          bytes.data() + file->getDataOffset() + t.offset,
                          t.numBytes),
              0)
        << t.name.str();
    EXPECT_EQ(file->findTensor(want[i].name), &t);
  }
  EXPECT_EQ(file->tensors()[3].numElements, 64);
  EXPECT_EQ(file->tensors()[3].rowLength(), 32);
  EXPECT_EQ(file->tensors()[3].numRows(), 2);
  EXPECT_EQ(file->findTensor("missing"), nullptr);
}

TEST(GgufTest, DequantizeTensors) {
  auto file = parseOrFail(allTensorsFile());
  ASSERT_TRUE(file);
  auto read = [&](const char *name) {
    const TensorInfo *t = file->findTensor(name);
    std::vector<float> out(t ? t->numElements : 0);
    if (t) {
      EXPECT_EQ(errorOf(file->dequantize(*t, out.data())), "") << name;
    }
    return out;
  };
  EXPECT_EQ(read("f32"),
            (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f, -0.25f, 1e-3f}));

  std::vector<float> f16 = read("f16");
  ASSERT_EQ(f16.size(), 4u);
  EXPECT_EQ(bitsOf(f16[0]), 0x3F800000u);
  EXPECT_EQ(bitsOf(f16[1]), 0x80000000u);
  EXPECT_EQ(bitsOf(f16[2]), 0x7F800000u);
  EXPECT_EQ(bitsOf(f16[3]), 0x33800000u);

  EXPECT_EQ(read("bf16"), (std::vector<float>{1.0f, -3.0f}));

  std::vector<float> q8 = read("q8_0");
  ASSERT_EQ(q8.size(), 64u);
  for (int j = 0; j < 32; ++j) {
    EXPECT_EQ(q8[j], j - 16.0f) << j;
    EXPECT_EQ(q8[32 + j], 32.0f - 2.0f * j) << j;
  }

  std::vector<float> q40 = read("q4_0");
  ASSERT_EQ(q40.size(), 64u);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(q40[j], -2.5f) << j;     // (3 - 8) * 0.5
    EXPECT_EQ(q40[16 + j], 1.0f) << j; // (10 - 8) * 0.5
    EXPECT_EQ(q40[32 + j], 3.0f * (j - 8)) << j;
    EXPECT_EQ(q40[48 + j], -24.0f) << j; // (0 - 8) * 3
  }

  std::vector<float> q41 = read("q4_1");
  ASSERT_EQ(q41.size(), 32u);
  for (int j = 0; j < 16; ++j) {
    EXPECT_EQ(q41[j], 10.0f + 0.125f * (15 - j)) << j;
    EXPECT_EQ(q41[16 + j], 10.0f + 0.125f * j) << j;
  }
}

TEST(GgufTest, DequantizeRowsAndErrors) {
  auto file = parseOrFail(allTensorsFile());
  ASSERT_TRUE(file);
  const TensorInfo *q8 = file->findTensor("q8_0");
  ASSERT_NE(q8, nullptr);
  std::vector<float> row(32);
  ASSERT_EQ(errorOf(file->dequantizeRows(*q8, 1, 1, row.data())), "");
  EXPECT_EQ(row[0], 32.0f);
  EXPECT_EQ(row[31], -30.0f);
  EXPECT_EQ(llvm::toString(file->dequantizeRows(*q8, 1, 2, row.data())),
            "test.gguf: rows [1, 3) of tensor 'q8_0' are out of range (it "
            "has 2 rows)");

  std::vector<float> out(256);
  EXPECT_EQ(
      llvm::toString(file->dequantize(*file->findTensor("q6_k"), out.data())),
      "test.gguf: tensor 'q6_k' has type q6_K, which cannot be "
      "dequantized yet");
}

TEST(GgufTest, CustomAlignmentAndOffsetOrder) {
  // general.alignment = 64; the second tensor is stored first.
  GgufWriter w;
  w.alignment = 64;
  w.addU32("general.alignment", 64);
  w.addTensor({"a", {4}, 0, f32(1) + f32(2) + f32(3) + f32(4), 64});
  w.addTensor({"b", {2}, 0, f32(5) + f32(6), 0});
  auto file = parseOrFail(w.build());
  ASSERT_TRUE(file);
  EXPECT_EQ(file->getAlignment(), 64u);
  EXPECT_EQ(file->getDataOffset() % 64, 0u);
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "a");
  EXPECT_EQ(file->tensors()[0].offset, 64u);
  float out[4];
  ASSERT_EQ(errorOf(file->dequantize(file->tensors()[0], out)), "");
  EXPECT_EQ(out[3], 4.0f);
  ASSERT_EQ(errorOf(file->dequantize(file->tensors()[1], out)), "");
  EXPECT_EQ(out[1], 6.0f);
}

TEST(GgufTest, OpenFromDisk) {
  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(
      llvm::sys::fs::createTemporaryFile("gguf-test", "gguf", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << allTensorsFile();
  }
  auto file = GgufFile::open(path);
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_EQ((*file)->getPath(), path);
  EXPECT_EQ((*file)->tensors().size(), 7u);
  float out[6];
  ASSERT_EQ(errorOf((*file)->dequantize(*(*file)->findTensor("f32"), out)), "");
  EXPECT_EQ(out[5], 1e-3f);
  file->reset();
  llvm::sys::fs::remove(path);

  EXPECT_EQ(errorOf(GgufFile::open("/nonexistent/model.gguf")),
            "/nonexistent/model.gguf: cannot open: No such file or directory");
}

TEST(GgufSmolLM2Test, ReadsModel) {
  const char *path = std::getenv("QMLIR_SMOLLM2_GGUF");
  if (!path || !*path)
    GTEST_SKIP() << "set QMLIR_SMOLLM2_GGUF to SmolLM2-135M-Instruct.Q4_1.gguf "
                    "to run this test";
  auto opened = GgufFile::open(path);
  ASSERT_TRUE(bool(opened)) << llvm::toString(opened.takeError());
  const GgufFile &file = **opened;

  EXPECT_EQ(*file.getString("general.architecture"), "llama");
  EXPECT_EQ(*file.getUInt("llama.block_count"), 30u);
  EXPECT_EQ(*file.getUInt("llama.embedding_length"), 576u);
  EXPECT_EQ(*file.getUInt("llama.attention.head_count"), 9u);
  EXPECT_EQ(*file.getUInt("llama.attention.head_count_kv"), 3u);
  EXPECT_EQ(*file.getUInt("llama.feed_forward_length"), 1536u);
  EXPECT_EQ(file.getStringArray("tokenizer.ggml.tokens")->size(), 49152u);
  EXPECT_EQ(file.getIntArray("tokenizer.ggml.token_type")->size(), 49152u);
  EXPECT_EQ(file.getStringArray("tokenizer.ggml.merges")->size(), 48900u);
  EXPECT_EQ(*file.getString("tokenizer.ggml.model"), "gpt2");

  ASSERT_EQ(file.tensors().size(), 272u);
  int64_t total = 0;
  std::vector<float> values;
  for (const TensorInfo &t : file.tensors()) {
    values.assign(t.numElements, 0.0f);
    ASSERT_EQ(errorOf(file.dequantize(t, values.data())), "") << t.name.str();
    for (float x : values)
      ASSERT_TRUE(std::isfinite(x)) << t.name.str();
    total += t.numElements;
  }
  EXPECT_EQ(total, 134515008);

  // Spot values from gguf.quants.dequantize (flat element index: bits).
  auto check = [&](const char *name,
                   std::initializer_list<std::pair<int64_t, uint32_t>> want) {
    const TensorInfo *t = file.findTensor(name);
    ASSERT_NE(t, nullptr) << name;
    values.assign(t->numElements, 0.0f);
    ASSERT_EQ(errorOf(file.dequantize(*t, values.data())), "");
    for (auto [index, bits] : want)
      EXPECT_EQ(bitsOf(values[index]), bits) << name << "[" << index << "]";
  };
  check("token_embd.weight", {{0, 0xbdda3400},
                              {1, 0x3d071400},
                              {3, 0xbcbb0800},
                              {576 * 49151 + 575, 0xbd2ad000}});
  check("blk.0.attn_q.weight",
        {{0, 0xbdc54000}, {1, 0x3e212000}, {5 * 576 + 100, 0xbe980000}});
  check("blk.29.ffn_down.weight",
        {{0, 0xbe8bf000}, {1536 * 576 - 1, 0x3d680000}});
  check("output_norm.weight", {{0, 0x3fe10000}, {575, 0x3ffe0000}});
}

} // namespace
