//===- e2e.cpp - Call a whole compiled layer on the GPU -------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Links the object that `quant-opt --qnt-cuda-pipeline` + mlir-translate +
// llc made of layer.mlir (host code + embedded fatbin) and calls it through
// its C interface with device buffers: the end-to-end check of the pipeline
// (host-side allocation, copies, launches of the generated skinny kernel and of the
// generic ReLU kernel). The reference is relu(init + x W^T) in float64 from
// the numerics library's dequantized weight, operands rounded to bf16.
// Prints PASS/FAIL; exits non-zero on failure.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Quantize.h"
#include "qmlir/Runtime/CudaRuntime.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

namespace {
/// A rank-2 memref descriptor as MLIR's C interface passes it.
struct Desc2 {
  void *allocated = nullptr, *aligned = nullptr;
  int64_t offset = 0, sizes[2] = {0, 0}, strides[2] = {0, 0};
};

Desc2 describe(void *devicePtr, int64_t rows, int64_t cols) {
  Desc2 d;
  d.allocated = d.aligned = devicePtr;
  d.sizes[0] = rows;
  d.sizes[1] = cols;
  d.strides[0] = cols;
  d.strides[1] = 1;
  return d;
}

uint16_t toBF16(float f) { return qmlir::numerics::floatToBF16Bits(f); }
float fromBF16(uint16_t h) { return qmlir::numerics::bf16BitsToFloat(h); }
} // namespace

extern "C" void _mlir_ciface_layer(Desc2 *result, Desc2 *x, Desc2 *codes,
                                   Desc2 *scales, Desc2 *init);

int main() {
  constexpr int64_t M = 4, K = 512, N = 384;
  if (!qmlir::cuda::init())
    return 2;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(N * K), x(M * K), init(M * N);
  for (float &v : w)
    v = 0.05f * normal(rng);
  std::vector<uint16_t> xb(M * K), initb(M * N);
  for (int64_t i = 0; i < M * K; ++i)
    x[i] = fromBF16(xb[i] = toBF16(normal(rng)));
  for (int64_t i = 0; i < M * N; ++i)
    init[i] = fromBF16(initb[i] = toBF16(0.5f * normal(rng)));
  qmlir::numerics::Scheme scheme;
  scheme.kind = qmlir::numerics::Kind::Int4;
  scheme.groupSize = 128;
  qmlir::numerics::QuantizedWeight q =
      qmlir::numerics::quantize(scheme, w.data(), N, K);

  qmlir::cuda::DeviceBuffer dx(2 * M * K), dc(q.codes.size()),
      ds(4 * q.scales.size()), di(2 * M * N);
  if (!dx.upload(xb.data(), 2 * M * K) ||
      !dc.upload(q.codes.data(), q.codes.size()) ||
      !ds.upload(q.scales.data(), 4 * q.scales.size()) ||
      !di.upload(initb.data(), 2 * M * N))
    return 2;
  Desc2 result, a = describe(dx.get(), M, K),
                c = describe(dc.get(), N, K / 2),
                s = describe(ds.get(), N, K / 128),
                i = describe(di.get(), M, N);
  _mlir_ciface_layer(&result, &a, &c, &s, &i);
  if (!qmlir::cuda::synchronize("layer"))
    return 1;
  std::vector<uint16_t> outb(M * N);
  bool ok = result.aligned && result.sizes[0] == M && result.sizes[1] == N;
  if (ok) {
    mgpuMemcpy(outb.data(), result.aligned, 2 * M * N, nullptr);
    mgpuStreamSynchronize(nullptr);
    mgpuMemFree(result.allocated, nullptr);
  }
  if (const char *err = qmlirCudaLastError()) {
    std::printf("FAIL e2e layer: %s\n", err);
    return 1;
  }
  std::vector<float> deq = qmlir::numerics::dequantize(q);
  double worst = 0.0;
  for (int64_t m = 0; ok && m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double ref = init[m * N + n], bound = std::fabs(ref);
      for (int64_t k = 0; k < K; ++k) {
        double p = double(x[m * K + k]) * fromBF16(toBF16(deq[n * K + k]));
        ref += p;
        bound += std::fabs(p);
      }
      ref = std::max(ref, 0.0);
      double err = std::fabs(fromBF16(outb[m * N + n]) - ref);
      // As in qnt-gpu-harness: the bf16 output's rounding, the bf16 rounding
      // of the weight that the kernel skips (it scales dot products in f32),
      // and f32 accumulation.
      double tol = 0x1p-8 * std::fabs(ref) + (0x1p-8 + 0x1p-14) * bound;
      worst = std::max(worst, err / tol);
    }
  ok = ok && worst <= 1.0;
  std::printf("%s e2e layer (int4 g128 skinny kernel + ReLU kernel, whole compiled "
              "function): worst error %.3g of tolerance\n",
              ok ? "PASS" : "FAIL", worst);
  return ok ? 0 : 1;
}
