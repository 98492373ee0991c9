//===- Gptq.cpp - Hessian-aware rounding (GPTQ) ---------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Gptq.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>

namespace qmlir::numerics {

namespace {

/// In-place lower Cholesky factor of a symmetric positive definite [k, k]
/// matrix (the upper triangle is left as is); false if it is not.
bool cholesky(std::vector<double> &a, int64_t k) {
  for (int64_t j = 0; j < k; ++j) {
    double *rj = &a[j * k];
    double d = rj[j];
    for (int64_t p = 0; p < j; ++p)
      d -= rj[p] * rj[p];
    if (!(d > 0.0))
      return false;
    d = std::sqrt(d);
    rj[j] = d;
    for (int64_t i = j + 1; i < k; ++i) {
      double *ri = &a[i * k];
      double s = ri[j];
      for (int64_t p = 0; p < j; ++p)
        s -= ri[p] * rj[p];
      ri[j] = s / d;
    }
  }
  return true;
}

/// The inverse of L L^T from the lower factor L: the full symmetric matrix.
std::vector<double> inverseFromCholesky(const std::vector<double> &l,
                                        int64_t k) {
  // Row j of x is column j of L^-1 (L x_j = e_j, x_j[i] = 0 for i < j).
  std::vector<double> x(k * k, 0.0);
  for (int64_t j = 0; j < k; ++j) {
    double *xj = &x[j * k];
    xj[j] = 1.0 / l[j * k + j];
    for (int64_t i = j + 1; i < k; ++i) {
      const double *li = &l[i * k];
      double s = 0.0;
      for (int64_t p = j; p < i; ++p)
        s -= li[p] * xj[p];
      xj[i] = s / li[i];
    }
  }
  // (L^-1)^T L^-1: element (i, j) is the dot product of columns i and j.
  std::vector<double> out(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      const double *xi = &x[i * k], *xj = &x[j * k];
      double s = 0.0;
      for (int64_t p = i; p < k; ++p)
        s += xi[p] * xj[p];
      out[i * k + j] = out[j * k + i] = s;
    }
  return out;
}

/// A copy of the [n, k] weight with every group clipped to the fraction of
/// its range (GptqOptions::searchClip) whose plain rounding has the least
/// error weighted by `weight` (per column).
std::vector<float> clipGroups(const Scheme &scheme, const Codebook *book,
                              const float *w, int64_t n, int64_t k,
                              const std::vector<double> &weight) {
  int64_t groupSize = effectiveGroupSize(k, scheme.groupSize);
  int64_t groups = numGroups(k, scheme.groupSize);
  std::vector<float> lo(n * groups, 0.0f), hi(n * groups, 0.0f);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < k; ++c) {
      int64_t g = r * groups + c / groupSize;
      lo[g] = std::min(lo[g], w[r * k + c]);
      hi[g] = std::max(hi[g], w[r * k + c]);
    }
  if (scheme.symmetric || isTableKind(scheme.kind))
    for (int64_t g = 0; g < n * groups; ++g) {
      hi[g] = std::max(hi[g], -lo[g]);
      lo[g] = -hi[g];
    }
  auto clipped = [&](const std::vector<float> &ratio) {
    std::vector<float> out(w, w + n * k);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        int64_t g = r * groups + c / groupSize;
        out[r * k + c] =
            std::clamp(out[r * k + c], lo[g] * ratio[g], hi[g] * ratio[g]);
      }
    return out;
  };
  std::vector<float> best(n * groups, 1.0f);
  std::vector<double> bestError(n * groups,
                                std::numeric_limits<double>::infinity());
  for (int step = 0; step <= 10; ++step) {
    std::vector<float> ratio(n * groups, 1.0f - 0.025f * float(step));
    // The parameters of the clipped group, the rounding of the original
    // values with them (as GPTQ rounds).
    QuantizedWeight q = quantize(scheme, clipped(ratio).data(), n, k);
    std::vector<float> scales = decodeScales(q);
    std::vector<double> error(n * groups, 0.0);
    for (int64_t r = 0; r < n; ++r)
      for (int64_t c = 0; c < k; ++c) {
        int64_t g = r * groups + c / groupSize;
        int zp = q.zeroPoints.empty() ? 0 : q.zeroPoints[g];
        float x = w[r * k + c];
        uint8_t code = encodeWithScale(scheme, book, x, scales[g], zp);
        double d = double(x) - dequantizeCode(scheme, code, scales[g], zp);
        error[g] += weight[c] * d * d;
      }
    for (int64_t g = 0; g < n * groups; ++g)
      if (error[g] < bestError[g]) {
        bestError[g] = error[g];
        best[g] = ratio[g];
      }
  }
  return clipped(best);
}

} // namespace

bool quantizeGptq(const Scheme &scheme, const float *w, int64_t n, int64_t k,
                  const double *hessian, const GptqOptions &options,
                  QuantizedWeight &out, std::string &error) {
  std::string why = validate(scheme, k, /*allowPartialGroups=*/true);
  if (!why.empty() || n <= 0) {
    error = why.empty() ? "the weight has no rows" : why;
    return false;
  }
  if (!(options.damp >= 0.0) || !std::isfinite(options.damp)) {
    error =
        "damp " + std::to_string(options.damp) + " is not a finite value >= 0";
    return false;
  }
  std::vector<double> h(hessian, hessian + k * k);
  for (int64_t i = 0; i < k * k; ++i)
    if (!std::isfinite(h[i])) {
      error = "the Hessian has a non-finite value";
      return false;
    }
  // The parameters of plain quantization (of the clipped weight with
  // searchClip); GPTQ chooses the codes.
  std::optional<Codebook> book;
  if (isTableKind(scheme.kind))
    book.emplace(schemeTable(scheme), 16);
  if (options.searchClip) {
    std::vector<double> diag(k);
    for (int64_t i = 0; i < k; ++i)
      diag[i] = h[i * k + i];
    out = quantize(
        scheme,
        clipGroups(scheme, book ? &*book : nullptr, w, n, k, diag).data(), n,
        k);
  } else {
    out = quantize(scheme, w, n, k);
  }
  std::vector<float> scales = decodeScales(out);
  int64_t groups = out.groups();
  int64_t groupSize = effectiveGroupSize(k, scheme.groupSize);

  // H with dead inputs made harmless and the damping added; columns in
  // quantization order.
  double diagSum = 0.0;
  std::vector<bool> dead(k);
  for (int64_t i = 0; i < k; ++i) {
    dead[i] = h[i * k + i] == 0.0;
    if (dead[i])
      h[i * k + i] = 1.0;
    diagSum += h[i * k + i];
  }
  double damp = options.damp * diagSum / double(k);
  for (int64_t i = 0; i < k; ++i)
    h[i * k + i] += damp;
  std::vector<int64_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  if (options.actOrder)
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return h[a * k + a] > h[b * k + b];
    });
  std::vector<double> hp(k * k);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j)
      hp[i * k + j] = h[order[i] * k + order[j]];

  // U: the upper Cholesky factor of H^-1 (U^T U = H^-1), as GPTQ uses it.
  if (!cholesky(hp, k)) {
    error = "the Hessian is not positive definite (raise damp)";
    return false;
  }
  std::vector<double> u = inverseFromCholesky(hp, k);
  if (!cholesky(u, k)) {
    error = "the inverse Hessian is not positive definite (raise damp)";
    return false;
  }
  // The lower factor transposed: row c holds U(c, c..k).
  std::vector<double> ut(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j <= i; ++j)
      ut[j * k + i] = u[i * k + j];

  bool fourBit = bitsPerCode(scheme.kind) == 4;
  int64_t bytesPerRow = rowBytes(scheme.kind, k);
  std::vector<double> row(k);
  std::vector<uint8_t> codes(k);
  for (int64_t r = 0; r < n; ++r) {
    // Rows are independent: each runs the column sweep on its own copy.
    for (int64_t c = 0; c < k; ++c)
      row[c] = w[r * k + order[c]];
    for (int64_t c = 0; c < k; ++c) {
      int64_t col = order[c];
      int64_t idx = r * groups + col / groupSize;
      int zp = out.zeroPoints.empty() ? 0 : out.zeroPoints[idx];
      uint8_t code;
      if (dead[col]) {
        const uint8_t *stored = out.codes.data() + r * bytesPerRow;
        code = fourBit ? unpackNibble(stored, col) : stored[col];
      } else {
        code = encodeWithScale(scheme, book ? &*book : nullptr,
                               static_cast<float>(row[c]), scales[idx], zp);
      }
      codes[col] = code;
      const double *uc = &ut[c * k];
      double e =
          (row[c] - dequantizeCode(scheme, code, scales[idx], zp)) / uc[c];
      for (int64_t c2 = c + 1; c2 < k; ++c2)
        row[c2] -= e * uc[c2];
    }
    uint8_t *dst = out.codes.data() + r * bytesPerRow;
    if (fourBit)
      packNibbles(codes.data(), k, dst);
    else
      std::copy(codes.begin(), codes.end(), dst);
  }
  return true;
}

} // namespace qmlir::numerics
