//===- IntDot.h - Integer dot products of quantized weights -----*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The integer path of the CPU kernels (AVX2/AVX-512): instead of
// dequantizing weights to f32, the kernel multiplies integer weights by
// integer activations in 16 bits and sums the products exactly in int32
// (vpmaddwd), converting to f32 once per block of K. Formulas:
//
//   blocks     K is cut into blocks of `IntDotPlan::block` (a multiple of 32
//              that divides the group size, so a block lies in one group).
//   activation per (activation row, block): amax = max |x|;
//              s_x = amax / kActivationMax, x_q = roundHalfEven(x *
//              (kActivationMax / amax)), |x_q| <= A; a block with amax
//              below kActivationTiny (zero, or so small that A / amax would
//              overflow) gets x_q = 0.
//   weight     int8 / int4 codes are exact integers (two's complement, or
//              code - zero point when asymmetric); an nf4/fp4 code c is
//              the integer table[c] = roundHalfEven(t_c * T / max|t|) with
//              T = IntDotPlan::tableMax, and the group's scale is multiplied
//              by max|t| / T (`IntDotPlan::tableStep`).
//   dot        y = sum over blocks of float(sum_k x_q w_q) * (s_x * s_w),
//              with s_w = the group's scale (times tableStep for tables).
//
// The bounds keep every int32 sum exact: block * max|w_q| * A < 2^31. The
// only errors beyond f32 rounding are |x - x_q s_x| <= s_x / 2 per
// activation and, for tables, |t_c - table[c] * tableStep| <= tableStep / 2.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_NUMERICS_INTDOT_H
#define QMLIR_NUMERICS_INTDOT_H

#include "qmlir/Numerics/Quantize.h"

#include <array>
#include <cstdint>

namespace qmlir::numerics {

/// Largest integer activation, A: 14-bit signed values.
constexpr int32_t kActivationMax = 8191;
/// Blocks of activations below this magnitude (2^-100) count as zero.
constexpr float kActivationTiny = 0x1p-100f;

/// How a scheme's dot products run in integers.
struct IntDotPlan {
  /// K per block: one activation scale and one exact int32 sum per block.
  int64_t block = 0;
  /// 4-bit codes: the integer weight of each code (int4 asymmetric: the code
  /// itself; the kernel subtracts the zero point).
  std::array<int16_t, 16> table{};
  /// Table kinds: T, the integer of the table's largest magnitude.
  int32_t tableMax = 0;
  /// Multiplies the group scale: max|t| / T for tables, 1 otherwise.
  float tableStep = 1.0f;
};

/// The plan for `scheme` with K = `k` (groups a multiple of 32, or one per
/// row).
IntDotPlan planIntDot(const Scheme &scheme, int64_t k);

/// W8A8 (the scheme attribute's `act = int8`; LLM.int8 with a threshold):
/// out [M, N] += x [M, K] W^T with W symmetric int8 (any groups). Per
/// activation row i (a token):
///
///   quantize   quantizeInt8WithOutliers(x_i, 1, K, threshold): the inliers'
///              absmax a_i, codes q_ik = clampRound(x_ik * fl(fl(1 / a_i) *
///              127)) in [-127, 127] (NaN -> 0; a_i = 0 gives codes 0),
///              s_i = a_i / 127; with threshold > 0, x_ik with |x_ik| >=
///              threshold is an outlier: code 0, left out of a_i.
///   dot        acc = sum over groups g of float(sum_{k in g} q_ik w_nk)
///              * (s_i * s_ng), groups in order (exact int32 sums);
///   outliers   acc += x_ik * (w_nk * s_ng) for the outlier k, ascending;
///   result     out_in += acc.
///
/// The reference the lowerings are checked against.
void matmulActInt8(const QuantizedWeight &w, const float *x, int64_t m,
                   float threshold, float *out);

} // namespace qmlir::numerics

#endif // QMLIR_NUMERICS_INTDOT_H
