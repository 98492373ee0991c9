//===- GgufErrorTest.cpp - Tests for the checks of the GGUF reader --------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Each check of the reader is triggered by a hand-built file and must give
// its one-line message; every truncation and random corruption of a valid
// file must give an error (or a consistent file), never a crash.
//
//===----------------------------------------------------------------------===//

#include "GgufTestWriter.h"

#include "qmlir/Import/Gguf.h"

#include "gtest/gtest.h"

#include <random>

using namespace qmlir::gguf;
using namespace qmlir::gguf::testing;
namespace ggml = qmlir::numerics::ggml;

namespace {

llvm::Expected<std::unique_ptr<GgufFile>> parse(const std::string &bytes) {
  return GgufFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.gguf"));
}

/// The reader's message for `bytes`, or "" when the file is accepted.
std::string errorOf(const std::string &bytes) {
  auto file = parse(bytes);
  return file ? "" : llvm::toString(file.takeError());
}

std::string header(uint32_t version, uint64_t tensors, uint64_t entries) {
  return "GGUF" + le(version, 4) + le(tensors, 8) + le(entries, 8);
}

std::string withTensor(TensorSpec spec) {
  GgufWriter w;
  w.addTensor(std::move(spec));
  return w.build();
}

TEST(GgufErrorTest, Header) {
  EXPECT_EQ(errorOf(""), "test.gguf: truncated at offset 0 reading the magic "
                         "(needs 4 bytes, 0 left)");
  EXPECT_EQ(errorOf("GGUF"), "test.gguf: truncated at offset 4 reading the "
                             "version (needs 4 bytes, 0 left)");
  EXPECT_EQ(errorOf("GGUF" + le(3, 4) + le(0, 5)),
            "test.gguf: truncated at offset 8 reading the tensor count (needs "
            "8 bytes, 5 left)");
  EXPECT_EQ(errorOf("GGML" + le(3, 4) + le(0, 16)),
            "test.gguf: not a GGUF file (magic 'GGML', expected 'GGUF')");
  EXPECT_EQ(errorOf("\x7F"
                    "ELF" +
                    le(3, 4) + le(0, 16)),
            "test.gguf: not a GGUF file (magic 0x7F454C46, expected 'GGUF')");
  EXPECT_EQ(errorOf(header(1, 0, 0)),
            "test.gguf: unsupported GGUF version 1 (expected 2 or 3)");
  EXPECT_EQ(errorOf(header(0, 0, 0)),
            "test.gguf: unsupported GGUF version 0 (expected 2 or 3)");
  EXPECT_EQ(errorOf(header(4, 0, 0)),
            "test.gguf: unsupported GGUF version 4 (expected 2 or 3)");
  EXPECT_EQ(errorOf(header(0x03000000, 0, 0)),
            "test.gguf: unsupported GGUF version 50331648 (a big-endian file? "
            "only little-endian is supported)");
}

TEST(GgufErrorTest, CountsBeyondTheFile) {
  // Counts and lengths are checked before anything is allocated.
  EXPECT_EQ(errorOf(header(3, 0, 1ull << 40)),
            "test.gguf: truncated: the header declares 1099511627776 metadata "
            "entries but only 0 bytes are left");
  EXPECT_EQ(errorOf(header(3, 1ull << 40, 0)),
            "test.gguf: truncated: the header declares 1099511627776 tensors "
            "but only 0 bytes are left");
  EXPECT_EQ(errorOf(header(3, 0, 1) + le(1ull << 62, 8) + le(0, 8)),
            "test.gguf: truncated at offset 32 reading the key of metadata "
            "entry 0 (needs 4611686018427387904 bytes, 8 left)");
  EXPECT_EQ(errorOf(header(3, 0, 1) + str("a") + le(kArray, 4) + le(kU8, 4) +
                    le(1ull << 60, 8)),
            "test.gguf: truncated: metadata key 'a' declares "
            "1152921504606846976 elements of type uint8 but only 0 bytes are "
            "left");
  EXPECT_EQ(errorOf(header(3, 0, 1) + str("a") + le(kArray, 4) +
                    le(kString, 4) + le(10, 8) + le(0, 16)),
            "test.gguf: truncated: metadata key 'a' declares 10 elements of "
            "type string but only 16 bytes are left");
  EXPECT_EQ(errorOf(header(3, 0, 1) + str("k") + le(kU64, 4) + le(5, 2)),
            "test.gguf: truncated at offset 37 reading metadata key 'k' (needs "
            "8 bytes, 2 left)");
}

TEST(GgufErrorTest, MetadataValues) {
  EXPECT_EQ(errorOf(GgufWriter().add("k", 13, "").build()),
            "test.gguf: metadata key 'k' has unknown value type 13");
  EXPECT_EQ(
      errorOf(GgufWriter().add("k", kArray, le(14, 4) + le(0, 8)).build()),
      "test.gguf: metadata key 'k' has unknown array element type 14");
  EXPECT_EQ(errorOf(GgufWriter().add("b", kBool, le(2, 1)).build()),
            "test.gguf: metadata key 'b' is a bool with invalid byte 2");
  EXPECT_EQ(errorOf(GgufWriter()
                        .add("b", kArray, array(kBool, {le(1, 1), le(7, 1)}))
                        .build()),
            "test.gguf: metadata key 'b' holds a bool with invalid byte 7 at "
            "index 1");
  EXPECT_EQ(errorOf(GgufWriter()
                        .addString("general.name", "a")
                        .addU32("x", 1)
                        .addString("general.name", "b")
                        .build()),
            "test.gguf: duplicate metadata key 'general.name'");
}

TEST(GgufErrorTest, ArrayNesting) {
  // Eight levels of arrays are read; a ninth is refused.
  std::string value = array(kU8, {le(1, 1)});
  for (int level = 2; level <= 8; ++level)
    value = array(kArray, {value});
  EXPECT_EQ(errorOf(GgufWriter().add("deep", kArray, value).build()), "");
  value = array(kArray, {value});
  EXPECT_EQ(errorOf(GgufWriter().add("deep", kArray, value).build()),
            "test.gguf: metadata key 'deep' nests arrays deeper than 8 levels");
}

TEST(GgufErrorTest, Alignment) {
  EXPECT_EQ(
      errorOf(GgufWriter().add("general.alignment", kU64, le(32, 8)).build()),
      "test.gguf: metadata key 'general.alignment' has type uint64, "
      "expected uint32");
  EXPECT_EQ(errorOf(GgufWriter().addU32("general.alignment", 48).build()),
            "test.gguf: general.alignment 48 is not a nonzero power of two");
  EXPECT_EQ(errorOf(GgufWriter().addU32("general.alignment", 0).build()),
            "test.gguf: general.alignment 0 is not a nonzero power of two");

  EXPECT_EQ(errorOf(withTensor({"w", {4}, 0, std::string(16, '\0'), 16})),
            "test.gguf: tensor 'w' has offset 16, not a multiple of the "
            "alignment 32");
  GgufWriter w;
  w.alignment = 8;
  w.addU32("general.alignment", 8);
  w.addTensor({"w", {1}, 0, std::string(4, '\0'), 4});
  EXPECT_EQ(errorOf(w.build()), "test.gguf: tensor 'w' has offset 4, not a "
                                "multiple of the alignment 8");
}

TEST(GgufErrorTest, TensorShapesAndTypes) {
  std::string data(16, '\0');
  EXPECT_EQ(errorOf(withTensor({"w", {}, 0, data})),
            "test.gguf: tensor 'w' has 0 dimensions, expected 1 to 4");
  EXPECT_EQ(errorOf(withTensor({"w", {1, 1, 1, 1, 1}, 0, data})),
            "test.gguf: tensor 'w' has 5 dimensions, expected 1 to 4");
  EXPECT_EQ(errorOf(withTensor({"w", {4, 0}, 0, data})),
            "test.gguf: tensor 'w' has size 0 in dimension 1");
  EXPECT_EQ(errorOf(withTensor({"w", {1ull << 32, 1ull << 32}, 0, data})),
            "test.gguf: tensor 'w' has more than 2^63-1 elements");
  EXPECT_EQ(errorOf(withTensor({"w", {1ull << 31, 1ull << 32}, 24, data})),
            "test.gguf: tensor 'w' has more than 2^63-1 elements");
  EXPECT_EQ(errorOf(withTensor({"w", {1ull << 63}, 24, data})),
            "test.gguf: tensor 'w' has more than 2^63-1 elements");
  // 2^62 f64 elements: 2^65 bytes.
  EXPECT_EQ(errorOf(withTensor({"w", {1ull << 62}, 28, data})),
            "test.gguf: tensor 'w' is larger than 2^64 bytes");
  EXPECT_EQ(errorOf(withTensor({"w", {4}, 4, data})),
            "test.gguf: tensor 'w' has unknown type id 4");
  EXPECT_EQ(errorOf(withTensor({"w", {4}, 99, data})),
            "test.gguf: tensor 'w' has unknown type id 99");
  EXPECT_EQ(errorOf(withTensor({"w", {48, 2}, 2, std::string(54, '\0')})),
            "test.gguf: tensor 'w' has row length 48, not a multiple of the "
            "block size 32 of q4_0");
}

TEST(GgufErrorTest, TensorData) {
  EXPECT_EQ(errorOf(withTensor({"w", {8}, 0, std::string(16, '\0')})),
            "test.gguf: truncated: tensor 'w' needs 32 bytes at data offset 0 "
            "but the data section has 16 bytes");
  // A huge i8 tensor: the bounds check must not overflow.
  EXPECT_EQ(
      errorOf(withTensor(
          {"w", {1ull << 31, (1ull << 32) - 1}, 24, std::string(16, '\0')})),
      "test.gguf: truncated: tensor 'w' needs 9223372034707292160 bytes "
      "at data offset 0 but the data section has 16 bytes");

  // The tensor infos end at byte 57; the data section would start at 64.
  std::string cut = withTensor({"w", {8}, 0, std::string(32, '\0')});
  cut.resize(57);
  EXPECT_EQ(errorOf(cut), "test.gguf: truncated: the data section would start "
                          "at offset 64 but the file has 57 bytes");

  GgufWriter overlap;
  overlap.addTensor({"b", {8}, 0, std::string(32, '\0'), 32});
  overlap.addTensor({"a", {16}, 0, std::string(64, '\0'), 0});
  EXPECT_EQ(errorOf(overlap.build()),
            "test.gguf: tensors 'a' and 'b' overlap (bytes [0, 64) and [32, "
            "64) of the data section)");
  GgufWriter same;
  same.addTensor({"a", {1}, 0, std::string(4, '\0'), 0});
  same.addTensor({"b", {1}, 0, std::string(4, '\0'), 0});
  EXPECT_EQ(errorOf(same.build()), "test.gguf: tensors 'a' and 'b' overlap "
                                   "(bytes [0, 4) and [0, 4) of the data "
                                   "section)");

  GgufWriter duplicate;
  duplicate.addTensor({"w", {1}, 0, std::string(4, '\0')});
  duplicate.addTensor({"w", {1}, 0, std::string(4, '\0')});
  EXPECT_EQ(errorOf(duplicate.build()), "test.gguf: duplicate tensor 'w'");
}

/// A valid file with metadata of every kind and tensors of every
/// dequantizable type; it ends with the last tensor byte.
std::string richFile() {
  GgufWriter w;
  w.alignment = 16;
  w.addU32("general.alignment", 16)
      .addString("general.architecture", "llama")
      .add("i8", kI8, le(0xFF, 1))
      .add("u16", kU16, le(7, 2))
      .add("i16", kI16, le(0xFFFE, 2))
      .add("i32", kI32, le(5, 4))
      .add("f32", kF32, f32(0.5f))
      .add("bool", kBool, le(1, 1))
      .add("u64", kU64, le(1, 8))
      .add("i64", kI64, le(2, 8))
      .add("f64", kF64, f64(2.5))
      .add("tokens", kArray, array(kString, {str("<s>"), str("a b")}))
      .add("types", kArray, array(kI32, {le(1, 4), le(3, 4)}))
      .add("nested", kArray, array(kArray, {array(kU8, {le(1, 1)})}));
  std::string q8 = le(0x3C00, 2) + std::string(32, '\x01');
  std::string q40 = le(0x3800, 2) + std::string(16, '\x5A');
  std::string q41 = le(0x3800, 2) + le(0x3C00, 2) + std::string(16, '\xA5');
  w.addTensor({"f32", {2}, 0, f32(1) + f32(2)})
      .addTensor({"f16", {3}, 1, le(0x3C00, 2) + le(0, 2) + le(0xC000, 2)})
      .addTensor({"q8_0", {32}, 8, q8})
      .addTensor({"q4_0", {32}, 2, q40})
      .addTensor({"q4_1", {32}, 3, q41});
  return w.build();
}

/// Dequantizes every supported tensor of an accepted file; its pointers must
/// stay inside the file (checked by running it).
void touchAllTensors(const GgufFile &file) {
  for (const TensorInfo &t : file.tensors()) {
    if (!ggml::canDequantize(t.type) || t.numElements > (1 << 20))
      continue;
    std::vector<float> out(t.numElements);
    llvm::consumeError(file.dequantize(t, out.data()));
  }
}

TEST(GgufErrorTest, EveryTruncationFails) {
  std::string bytes = richFile();
  auto full = parse(bytes);
  ASSERT_TRUE(bool(full)) << llvm::toString(full.takeError());
  ASSERT_EQ((*full)->tensors().size(), 5u);
  touchAllTensors(**full);
  for (size_t length = 0; length < bytes.size(); ++length) {
    std::string message = errorOf(bytes.substr(0, length));
    ASSERT_NE(message, "") << "accepted a file cut to " << length << " bytes";
    EXPECT_EQ(message.rfind("test.gguf: ", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(GgufErrorTest, CorruptedFilesNeverCrash) {
  // Random byte changes: any outcome but a crash or an out-of-file read.
  std::string bytes = richFile();
  std::mt19937 gen(1234);
  std::uniform_int_distribution<size_t> position(0, bytes.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255), edits(1, 3);
  int rejected = 0;
  for (int iteration = 0; iteration < 4000; ++iteration) {
    std::string corrupt = bytes;
    for (int e = edits(gen); e > 0; --e)
      corrupt[position(gen)] = static_cast<char>(byte(gen));
    auto file = parse(corrupt);
    if (!file) {
      ++rejected;
      std::string message = llvm::toString(file.takeError());
      EXPECT_EQ(message.rfind("test.gguf: ", 0), 0u) << message;
      continue;
    }
    touchAllTensors(**file);
  }
  EXPECT_GT(rejected, 0);
}

} // namespace
