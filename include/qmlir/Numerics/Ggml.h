//===- Ggml.h - GGML types and exact block dequantization -------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The GGML tensor types that GGUF files store, and dequantization of the
// block formats into fp32 exactly as ggml's reference C code computes it
// (dequantize_row_q4_0 & co. in ggml-quants.c), so that an imported weight
// matches what llama.cpp's CPU reference sees bit for bit.
//
// Block layouts (all little-endian, blocks packed back to back along a row):
//   q8_0  32 elements, 34 bytes: f16 d, int8 qs[32];   x[j] = qs[j] * d
//   q4_0  32 elements, 18 bytes: f16 d, uint8 qs[16];  x[j] = (q[j] - 8) * d
//   q4_1  32 elements, 20 bytes: f16 d, f16 m, qs[16]; x[j] = q[j] * d + m
// where q[j] = qs[j] & 0xF and q[j + 16] = qs[j] >> 4 for j < 16.
//
// Plain C++ with no MLIR or LLVM dependency, like the rest of QMLIRNumerics.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_NUMERICS_GGML_H
#define QMLIR_NUMERICS_GGML_H

#include "qmlir/Numerics/Quantize.h"

#include <cstddef>
#include <cstdint>
#include <optional>

namespace qmlir::numerics::ggml {

/// GGML tensor types; the values are ggml's GGML_TYPE_* ids as stored in
/// GGUF tensor infos. Ids missing here (4, 5, 31-33, 36-38) were removed
/// from ggml and are unknown.
enum class Type : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
  NVFP4 = 40,
  Q1_0 = 41,
};

/// True when `id` is one of the GGML type ids above.
bool isKnownType(uint32_t id);

/// ggml's name of a known type ("f32", "q4_0", "q6_K", ...); "unknown"
/// otherwise.
const char *typeName(Type type);

/// Elements per block: 1 for the scalar types, 32 for q4_0/q4_1/q8_0, 256
/// for the k-quants, ... 0 for an unknown type.
uint32_t blockSize(Type type);

/// Bytes per block (ggml's type_size). 0 for an unknown type.
uint32_t blockBytes(Type type);

/// True for the types dequantizeRow supports: f32, f16, bf16, q8_0, q4_0
/// and q4_1.
bool canDequantize(Type type);

/// Bytes of a row of `n` elements. `n` must be a multiple of blockSize(type)
/// and the type known; returns 0 otherwise.
size_t rowBytes(Type type, size_t n);

/// The fp32 value of IEEE binary16 bits, exact for every input: subnormals
/// are normalized, infinities kept, and NaNs keep sign and payload with the
/// quiet bit set (as the x86 F16C and Arm conversions do).
float halfToFloat(uint16_t bits);

/// Dequantizes `n` elements stored as `type` at `src` (rowBytes(type, n)
/// bytes, no alignment required) into `dst`. Returns false, writing nothing,
/// when the type is not supported or `n` is not a multiple of its block size.
bool dequantizeRow(Type type, const uint8_t *src, size_t n, float *dst);

/// A ggml tensor of `n` rows of `k` elements stored exactly, without
/// requantization, in a scheme that represents it without loss: q8_0 as
/// int8 symmetric with groups of 32 (codes q, scales d) and q4_0 as int4
/// symmetric with groups of 32 (codes q - 8, scales d). Dequantizing the
/// result gives the same floats as dequantizeRow, bit for bit. Returns
/// nullopt for any other (type, scheme) pair, or when k is not a multiple
/// of 32.
std::optional<QuantizedWeight> storeAs(Type type, const uint8_t *src,
                                       int64_t n, int64_t k,
                                       const Scheme &scheme);

} // namespace qmlir::numerics::ggml

#endif // QMLIR_NUMERICS_GGML_H
