//===- Gptq.h - Hessian-aware rounding (GPTQ) -------------------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// GPTQ (Frantar et al., "GPTQ: Accurate Post-Training Quantization for
// Generative Pre-trained Transformers", 2022) on the numerics library's
// schemes. A linear layer y = x W^T whose inputs x have the second moment
// H = sum x x^T is quantized column by column; each column's rounding error
// is compensated on the columns not yet quantized through H's inverse, so
// that the layer's output error, not the weight error, is minimised.
//
// The scales, zero points and double quantization are those quantize()
// computes from the original weight (GPTQ's "static groups"), or with
// `searchClip` from the weight with each group clipped to the fraction of
// its range that rounds it best: the result is an ordinary QuantizedWeight
// of the scheme, with the same layout as quantize()'s. It dequantizes and
// compiles like any other, bitsandbytes' kernels read it unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_NUMERICS_GPTQ_H
#define QMLIR_NUMERICS_GPTQ_H

#include "qmlir/Numerics/Quantize.h"

#include <string>

namespace qmlir::numerics {

struct GptqOptions {
  /// Added to H's diagonal, as a fraction of its mean (GPTQ's percdamp).
  double damp = 0.01;
  /// Columns in decreasing order of H's diagonal (GPTQ's act-order): the
  /// inputs that matter most are rounded first, while most columns are
  /// left to absorb their error.
  bool actOrder = true;
  /// Per group, the range (absmax, or min and max) is shrunk by the factor
  /// in {1, 0.975, ..., 0.75} whose plain rounding of the group has the
  /// least error weighted by H's diagonal (the clipping search of GPTQ
  /// implementations' "mse" option; values past the range take the edge
  /// code and GPTQ compensates their error).
  bool searchClip = false;
};

/// GPTQ of a row-major [N, K] weight given the row-major [K, K] symmetric
/// matrix H = sum over calibration rows of x x^T (any positive multiple).
/// Columns whose inputs are always zero (H[i][i] = 0) are rounded as
/// quantize() rounds them. Fails (error set) for a scheme that does not
/// validate, a non-finite H, or an H that is not positive definite after
/// damping.
bool quantizeGptq(const Scheme &scheme, const float *w, int64_t n, int64_t k,
                  const double *hessian, const GptqOptions &options,
                  QuantizedWeight &out, std::string &error);

} // namespace qmlir::numerics

#endif // QMLIR_NUMERICS_GPTQ_H
