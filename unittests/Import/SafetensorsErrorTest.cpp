//===- SafetensorsErrorTest.cpp - Checks of the safetensors reader --------===//
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

#include "SafetensorsTestWriter.h"

#include "qmlir/Import/Safetensors.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include "gtest/gtest.h"

#include <random>

using namespace qmlir::safetensors;
using namespace qmlir::safetensors::testing;

namespace {

llvm::Expected<std::unique_ptr<SafetensorsFile>>
parse(const std::string &bytes) {
  return SafetensorsFile::parse(
      llvm::MemoryBuffer::getMemBufferCopy(bytes, "test.safetensors"));
}

/// The reader's message for `bytes`, or "" when the file is accepted.
std::string errorOf(const std::string &bytes) {
  auto file = parse(bytes);
  return file ? "" : llvm::toString(file.takeError());
}

/// A file whose header is `json` verbatim, followed by `data`.
std::string withHeader(const std::string &json, const std::string &data = "") {
  return le(json.size(), 8) + json + data;
}

/// A file with one tensor whose entry is `entry` verbatim.
std::string withEntry(const std::string &entry, const std::string &data = "") {
  return withHeader("{\"w\":" + entry + "}", data);
}

std::string withTensor(TensorSpec spec) {
  SafetensorsWriter w;
  w.add(std::move(spec));
  return w.build();
}

TEST(SafetensorsErrorTest, HeaderLength) {
  EXPECT_EQ(errorOf(""), "test.safetensors: truncated: the file has 0 bytes, "
                         "fewer than the 8 of the header length");
  EXPECT_EQ(errorOf("\x02{}"), "test.safetensors: truncated: the file has 3 "
                               "bytes, fewer than the 8 of the header length");
  EXPECT_EQ(errorOf(le(100, 8) + "{}"),
            "test.safetensors: truncated: the header length is 100 bytes but "
            "only 2 bytes follow it");
  // Checked before anything is allocated.
  EXPECT_EQ(errorOf(le(~0ull, 8) + "{}"),
            "test.safetensors: truncated: the header length is "
            "18446744073709551615 bytes but only 2 bytes follow it");
  // A big-endian length.
  EXPECT_EQ(errorOf(std::string(7, '\0') + "\x02{}"),
            "test.safetensors: truncated: the header length is "
            "144115188075855872 bytes but only 2 bytes follow it");
}

TEST(SafetensorsErrorTest, HeaderLimit) {
  // A sparse file of 100 MB + 9 bytes whose header would be 100 MB + 1.
  llvm::SmallString<128> path;
  int fd;
  ASSERT_FALSE(llvm::sys::fs::createTemporaryFile("safetensors-limit",
                                                  "safetensors", fd, path));
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/false);
    os << le(100000001, 8);
  }
  ASSERT_FALSE(llvm::sys::fs::resize_file(fd, 100000009));
  ::close(fd);
  auto file = SafetensorsFile::open(path);
  ASSERT_FALSE(bool(file));
  EXPECT_EQ(llvm::toString(file.takeError()),
            std::string(path) + ": the header length 100000001 exceeds the "
                                "limit of 100000000 bytes");
  llvm::sys::fs::remove(path);
}

TEST(SafetensorsErrorTest, Json) {
  EXPECT_EQ(errorOf(withHeader("")), "test.safetensors: invalid JSON in the "
                                     "header: [1:0, byte=0]: Unexpected EOF");
  EXPECT_EQ(errorOf(withHeader("{\"w\":")),
            "test.safetensors: invalid JSON in the header: [1:5, byte=5]: "
            "Unexpected EOF");
  EXPECT_EQ(errorOf(withHeader("{} x")),
            "test.safetensors: invalid JSON in the header: [1:3, byte=3]: "
            "Text after end of document");
  EXPECT_EQ(errorOf(withHeader("{\"\xff\":1}")),
            "test.safetensors: invalid JSON in the header: [1:2, byte=2]: "
            "Invalid UTF-8 sequence");
  EXPECT_EQ(errorOf(withHeader("{\"a\":\"x\ny\"}")),
            "test.safetensors: invalid JSON in the header: [2:0, byte=8]: "
            "Control character in string");
  EXPECT_EQ(errorOf(withHeader("[]")),
            "test.safetensors: the header is an array, expected a JSON object");
  EXPECT_EQ(errorOf(withHeader("null")),
            "test.safetensors: the header is null, expected a JSON object");
  EXPECT_EQ(errorOf(withHeader("\"w\"")),
            "test.safetensors: the header is a string, expected a JSON object");

  // Nesting is refused before the recursive parser sees it, even when the
  // text is far from valid.
  EXPECT_EQ(errorOf(withHeader(std::string(33, '['))),
            "test.safetensors: the header nests JSON deeper than 32 levels (at "
            "byte 32 of the header)");
  EXPECT_EQ(errorOf(withHeader("{\"a\":" + std::string(1000000, '{'))),
            "test.safetensors: the header nests JSON deeper than 32 levels (at "
            "byte 36 of the header)");
  std::string deep = "{\"w\":";
  for (int i = 0; i < 30; ++i)
    deep += "[";
  deep += "1";
  for (int i = 0; i < 30; ++i)
    deep += "]";
  EXPECT_EQ(errorOf(withHeader(deep + "}")),
            "test.safetensors: tensor 'w' is an array, expected an object");
}

TEST(SafetensorsErrorTest, Duplicates) {
  std::string entry =
      "{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}";
  EXPECT_EQ(errorOf(withHeader("{\"w\":" + entry + ",\"w\":" + entry + "}",
                               f32s({1.0f}))),
            "test.safetensors: duplicate tensor 'w'");
  // Keys compare after unescaping.
  EXPECT_EQ(
      errorOf(withHeader("{\"w\":" + entry + ",\"\\u0077\":" + entry + "}",
                         f32s({1.0f}))),
      "test.safetensors: duplicate tensor 'w'");
  EXPECT_EQ(errorOf(withEntry("{\"dtype\":\"F32\",\"shape\":[1],\"dtype\":"
                              "\"F16\",\"data_offsets\":[0,4]}",
                              f32s({1.0f}))),
            "test.safetensors: duplicate key 'dtype' in tensor 'w'");
  EXPECT_EQ(errorOf(withHeader("{\"__metadata__\":{\"a\":\"1\",\"a\":\"2\"}}")),
            "test.safetensors: duplicate key 'a' in '__metadata__'");
  EXPECT_EQ(errorOf(withHeader("{\"__metadata__\":{},\"__metadata__\":{}}")),
            "test.safetensors: duplicate key '__metadata__'");
  // The same name in different objects is fine.
  EXPECT_EQ(
      errorOf(withHeader("{\"__metadata__\":{\"w\":\"x\"},\"w\":" + entry + "}",
                         f32s({1.0f}))),
      "");
}

TEST(SafetensorsErrorTest, Metadata) {
  EXPECT_EQ(errorOf(withHeader("{\"__metadata__\":[]}")),
            "test.safetensors: '__metadata__' is an array, expected an object "
            "of strings");
  EXPECT_EQ(errorOf(withHeader("{\"__metadata__\":{\"a\":\"x\",\"b\":1}}")),
            "test.safetensors: '__metadata__' key 'b' is a number, expected a "
            "string");
  EXPECT_EQ(errorOf(withHeader("{\"__metadata__\":{\"n\":null}}")),
            "test.safetensors: '__metadata__' key 'n' is null, expected a "
            "string");
}

TEST(SafetensorsErrorTest, Entries) {
  std::string data = f32s({1.0f});
  EXPECT_EQ(errorOf(withEntry("\"F32\"")),
            "test.safetensors: tensor 'w' is a string, expected an object");
  EXPECT_EQ(
      errorOf(withEntry("{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,"
                        "4],\"extra\":1}",
                        data)),
      "test.safetensors: tensor 'w' has unknown field 'extra'");
  EXPECT_EQ(errorOf(withEntry("{\"shape\":[1],\"data_offsets\":[0,4]}", data)),
            "test.safetensors: tensor 'w' has no 'dtype'");
  EXPECT_EQ(
      errorOf(withEntry("{\"dtype\":\"F32\",\"data_offsets\":[0,4]}", data)),
      "test.safetensors: tensor 'w' has no 'shape'");
  EXPECT_EQ(errorOf(withEntry("{\"dtype\":\"F32\",\"shape\":[1]}", data)),
            "test.safetensors: tensor 'w' has no 'data_offsets'");
  EXPECT_EQ(errorOf(withEntry(
                "{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}", data)),
            "test.safetensors: tensor 'w' has a 'dtype' that is a number, "
            "expected a string");
  EXPECT_EQ(errorOf(withTensor({"w", "Q4_0", {1}, data})),
            "test.safetensors: tensor 'w' has unknown dtype 'Q4_0'");
  EXPECT_EQ(errorOf(withTensor({"w", "f32", {1}, data})),
            "test.safetensors: tensor 'w' has unknown dtype 'f32'");
  EXPECT_EQ(
      errorOf(withEntry(
          "{\"dtype\":\"F32\",\"shape\":1,\"data_offsets\":[0,4]}", data)),
      "test.safetensors: tensor 'w' has a 'shape' that is a number, "
      "expected an array");
  // Entries are checked in name order, whatever the header's order.
  EXPECT_EQ(errorOf(withHeader("{\"z\":1,\"a\":2}")),
            "test.safetensors: tensor 'a' is a number, expected an object");
  // Names are printed with non-printable bytes escaped: one line.
  EXPECT_EQ(errorOf(withHeader("{\"a\\nb\":1}")),
            "test.safetensors: tensor 'a\\0Ab' is a number, expected an "
            "object");
}

TEST(SafetensorsErrorTest, Shapes) {
  auto shapeError = [](const std::string &shape, const std::string &dtype,
                       const std::string &offsets = "[0,4]") {
    return errorOf(withEntry("{\"dtype\":\"" + dtype + "\",\"shape\":" + shape +
                                 ",\"data_offsets\":" + offsets + "}",
                             f32s({1.0f})));
  };
  EXPECT_EQ(shapeError("[-1]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 0 = -1, expected a "
            "non-negative integer");
  EXPECT_EQ(shapeError("[1,2.5]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 1 = 2.5, expected a "
            "non-negative integer");
  EXPECT_EQ(shapeError("[1.0]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 0 = 1.0, expected a "
            "non-negative integer");
  EXPECT_EQ(shapeError("[1e0]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 0 = 1.0, expected a "
            "non-negative integer");
  EXPECT_EQ(shapeError("[\"1\"]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 0 = \"1\", expected "
            "a non-negative integer");
  EXPECT_EQ(shapeError("[null]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 0 = null, expected "
            "a non-negative integer");
  EXPECT_EQ(shapeError("[1e30]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 0 = 1e+30, expected "
            "a non-negative integer");
  EXPECT_EQ(shapeError("[18446744073709551616]", "F32"),
            "test.safetensors: tensor 'w' has shape entry 0 = "
            "1.8446744073709552e+19, expected a non-negative integer");

  // Element counts and byte sizes that overflow.
  EXPECT_EQ(shapeError("[9223372036854775808]", "U8"),
            "test.safetensors: tensor 'w' has more than 2^63-1 elements");
  EXPECT_EQ(shapeError("[4294967296,4294967296]", "U8"),
            "test.safetensors: tensor 'w' has more than 2^63-1 elements");
  EXPECT_EQ(shapeError("[4294967296,4294967296,0]", "U8"),
            "test.safetensors: tensor 'w' has more than 2^63-1 elements");
  EXPECT_EQ(shapeError("[9223372036854775807]", "U64"),
            "test.safetensors: tensor 'w' is larger than 2^64 bytes");
  EXPECT_EQ(shapeError("[2305843009213693952]", "F64"),
            "test.safetensors: tensor 'w' is larger than 2^64 bytes");
  // 2^61 - 1 f64 elements: 2^64 - 8 bytes, the most that can be counted.
  EXPECT_EQ(shapeError("[2305843009213693951]", "F64"),
            "test.safetensors: tensor 'w' has data_offsets [0, 4] (4 bytes) "
            "but shape [2305843009213693951] of F64 needs 18446744073709551608 "
            "bytes");

  // Sub-byte types must fill whole bytes.
  EXPECT_EQ(shapeError("[3]", "F4"),
            "test.safetensors: tensor 'w' has 3 elements of F4, which do not "
            "fill whole bytes");
  EXPECT_EQ(shapeError("[2,3]", "F6_E2M3"),
            "test.safetensors: tensor 'w' has 6 elements of F6_E2M3, which do "
            "not fill whole bytes");
  EXPECT_EQ(shapeError("[8]", "F4"), "");
  EXPECT_EQ(shapeError("[4]", "F6_E3M2", "[0,3]"),
            "test.safetensors: bytes [3, 4) of the data section belong to no "
            "tensor");
  EXPECT_EQ(shapeError("[2,2]", "BOOL"), "");
  EXPECT_EQ(shapeError("[2]", "I16"), "");
  EXPECT_EQ(shapeError("[]", "I32"), "");
  EXPECT_EQ(shapeError("[1,1,1,1,1,1,1,1]", "U32"), "");
}

TEST(SafetensorsErrorTest, Offsets) {
  auto offsetsError = [](const std::string &offsets) {
    return errorOf(withEntry("{\"dtype\":\"F32\",\"shape\":[2],"
                             "\"data_offsets\":" +
                                 offsets + "}",
                             f32s({1.0f, 2.0f})));
  };
  EXPECT_EQ(offsetsError("{}"),
            "test.safetensors: tensor 'w' has 'data_offsets' {}, expected "
            "[begin, end] with non-negative integers");
  EXPECT_EQ(offsetsError("[0]"),
            "test.safetensors: tensor 'w' has 'data_offsets' [0], expected "
            "[begin, end] with non-negative integers");
  EXPECT_EQ(offsetsError("[0,8,8]"),
            "test.safetensors: tensor 'w' has 'data_offsets' [0,8,8], "
            "expected [begin, end] with non-negative integers");
  EXPECT_EQ(offsetsError("[-8,0]"),
            "test.safetensors: tensor 'w' has 'data_offsets' [-8,0], expected "
            "[begin, end] with non-negative integers");
  EXPECT_EQ(offsetsError("[0,8.0]"),
            "test.safetensors: tensor 'w' has 'data_offsets' [0,8.0], "
            "expected [begin, end] with non-negative integers");
  EXPECT_EQ(offsetsError("[8,0]"),
            "test.safetensors: tensor 'w' has data_offsets [8, 0], which end "
            "before they begin");
  EXPECT_EQ(offsetsError("[0,4]"),
            "test.safetensors: tensor 'w' has data_offsets [0, 4] (4 bytes) "
            "but shape [2] of F32 needs 8 bytes");
  EXPECT_EQ(offsetsError("[8,16]"),
            "test.safetensors: truncated: tensor 'w' has data_offsets [8, 16] "
            "but the data section has 8 bytes");
  EXPECT_EQ(offsetsError("[18446744073709551608,18446744073709551615]"),
            "test.safetensors: tensor 'w' has data_offsets "
            "[18446744073709551608, 18446744073709551615] (7 bytes) but shape "
            "[2] of F32 needs 8 bytes");
  EXPECT_EQ(offsetsError("[18446744073709551607,18446744073709551615]"),
            "test.safetensors: truncated: tensor 'w' has data_offsets "
            "[18446744073709551607, 18446744073709551615] but the data "
            "section has 8 bytes");
  // A long value is cut in the message.
  std::string longArray = "[0";
  for (int i = 0; i < 99; ++i)
    longArray += ",0";
  longArray += "]";
  std::string message = offsetsError(longArray);
  EXPECT_EQ(message.size(), std::string("test.safetensors: tensor 'w' has "
                                        "'data_offsets' ")
                                    .size() +
                                83 +
                                std::string(", expected [begin, end] with "
                                            "non-negative integers")
                                    .size())
      << message;
}

TEST(SafetensorsErrorTest, Layout) {
  // Overlaps, gaps and trailing bytes, as the reference reader refuses.
  SafetensorsWriter overlap;
  overlap.add({"b", "F32", {2}, f32s({1, 2}), std::make_pair(8ull, 16ull)});
  overlap.add(
      {"a", "F32", {4}, f32s({1, 2, 3, 4}), std::make_pair(0ull, 16ull)});
  EXPECT_EQ(errorOf(overlap.build()),
            "test.safetensors: tensors 'a' and 'b' overlap (bytes [0, 16) and "
            "[8, 16) of the data section)");
  SafetensorsWriter same;
  same.add({"a", "F32", {1}, f32s({1}), std::make_pair(0ull, 4ull)});
  same.add({"b", "F32", {1}, f32s({1}), std::make_pair(0ull, 4ull)});
  EXPECT_EQ(errorOf(same.build()),
            "test.safetensors: tensors 'a' and 'b' overlap (bytes [0, 4) and "
            "[0, 4) of the data section)");
  SafetensorsWriter inside;
  inside.add({"a", "F32", {4}, f32s({1, 2, 3, 4})});
  inside.add({"z", "F32", {0}, "", std::make_pair(4ull, 4ull)});
  EXPECT_EQ(errorOf(inside.build()),
            "test.safetensors: tensors 'a' and 'z' overlap (bytes [0, 16) and "
            "[4, 4) of the data section)");
  // Zero-size tensors at the ends of others are fine.
  SafetensorsWriter edges;
  edges.add({"z0", "F32", {0}, "", std::make_pair(0ull, 0ull)});
  edges.add({"a", "F32", {1}, f32s({1}), std::make_pair(0ull, 4ull)});
  edges.add({"z4", "F32", {0}, "", std::make_pair(4ull, 4ull)});
  EXPECT_EQ(errorOf(edges.build()), "");

  SafetensorsWriter leading;
  leading.add({"a", "F32", {1}, f32s({1}), std::make_pair(4ull, 8ull)});
  EXPECT_EQ(errorOf(leading.build()), "test.safetensors: bytes [0, 4) of the "
                                      "data section belong to no tensor");
  SafetensorsWriter gap;
  gap.add({"a", "F32", {1}, f32s({1})});
  gap.add({"b", "F32", {1}, f32s({1}), std::make_pair(6ull, 10ull)});
  EXPECT_EQ(errorOf(gap.build()), "test.safetensors: bytes [4, 6) of the data "
                                  "section belong to no tensor");
  SafetensorsWriter tail;
  tail.add({"a", "F32", {1}, f32s({1})});
  EXPECT_EQ(errorOf(tail.build() + "xy"), "test.safetensors: bytes [4, 6) of "
                                          "the data section belong to no "
                                          "tensor");
  EXPECT_EQ(errorOf(le(2, 8) + "{}z"), "test.safetensors: bytes [0, 1) of the "
                                       "data section belong to no tensor");
}

/// A valid file with tensors of several dtypes and metadata; it ends with
/// the last tensor byte.
std::string richFile() {
  SafetensorsWriter w;
  w.metadata = {{"format", "pt"}};
  w.add({"model.layers.0.w", "F32", {2, 2}, f32s({1, -2, 3, 0.5f})});
  w.add({"half", "F16", {3}, u16s({0x3C00, 0x8001, 0x7BFF})});
  w.add({"brain", "BF16", {1, 2}, u16s({0x3F80, 0xC2F7})});
  w.add({"ids", "I64", {2}, le(1, 8) + le(2, 8)});
  w.add({"last", "F32", {1}, f32s({9})});
  return w.build();
}

/// Converts every F32/F16/BF16 tensor of an accepted file; its pointers must
/// stay inside the file (checked by running it).
void touchAllTensors(const SafetensorsFile &file) {
  for (const TensorInfo &t : file.tensors()) {
    if (t.numElements > (1 << 20))
      continue;
    std::vector<float> out(t.numElements);
    llvm::consumeError(file.toFloat(t, out.data()));
    file.release(t);
  }
}

TEST(SafetensorsErrorTest, EveryTruncationFails) {
  std::string bytes = richFile();
  auto full = parse(bytes);
  ASSERT_TRUE(bool(full)) << llvm::toString(full.takeError());
  ASSERT_EQ((*full)->tensors().size(), 5u);
  touchAllTensors(**full);
  for (size_t length = 0; length < bytes.size(); ++length) {
    std::string message = errorOf(bytes.substr(0, length));
    ASSERT_NE(message, "") << "accepted a file cut to " << length << " bytes";
    EXPECT_EQ(message.rfind("test.safetensors: truncated", 0), 0u) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

TEST(SafetensorsErrorTest, CorruptedFilesNeverCrash) {
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
      EXPECT_EQ(message.rfind("test.safetensors: ", 0), 0u) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      continue;
    }
    touchAllTensors(**file);
  }
  EXPECT_GT(rejected, 2000);
}

TEST(SafetensorsErrorTest, CorruptedHeadersWithPrintableBytesNeverCrash) {
  // Printable JSON punctuation and digits in the header: more mutations
  // stay valid JSON and reach the entry checks.
  std::string bytes = richFile();
  const std::string alphabet = "{}[],:\"0123456789-.eE \\u";
  std::mt19937 gen(99);
  std::uniform_int_distribution<size_t> position(8, 8 + 120);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  for (int iteration = 0; iteration < 3000; ++iteration) {
    std::string corrupt = bytes;
    corrupt[position(gen)] = alphabet[pick(gen)];
    auto file = parse(corrupt);
    if (!file) {
      std::string message = llvm::toString(file.takeError());
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
      continue;
    }
    touchAllTensors(**file);
  }
}

} // namespace
