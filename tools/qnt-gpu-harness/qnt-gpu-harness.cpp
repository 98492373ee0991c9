//===- qnt-gpu-harness.cpp - Check and time generated GPU kernels ---------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Loads the kernels that `quant-opt --qnt-cuda-pipeline
// --qnt-dump-gpu-binaries` wrote for the cases of bench/gpu/gen_cases.py and,
// for each case, quantizes a random weight with the numerics library,
// launches the generated kernel as the host code would (bare pointers,
// the recorded grid and block), and either
//   - checks the result against a float64 reference computed from the
//     numerics library's dequantized weight (default), or
//   - times it with device events (--bench): median of the runs, weights
//     rotated through enough copies to defeat the L2 cache.
// Needs only libcuda and the quant-mlir CUDA runtime, so it runs on machines
// without LLVM/MLIR.
//
// Usage: qnt-gpu-harness DIR [--bench] [--filter TEXT] [--iters N]
//   DIR holds cases.txt, launches.txt and qnt_kernels.<chip>.cubin.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Numerics/Quantize.h"
#include "qmlir/Runtime/CudaRuntime.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace qmlir;

namespace {

struct Case {
  std::string name, compute, act;
  numerics::Scheme scheme;
  int64_t m = 0, n = 0, k = 0;
};

struct Launch {
  std::string kernel;
  unsigned grid[3] = {1, 1, 1}, block[3] = {1, 1, 1}, smem = 0;
};

uint16_t toBF16(float f) { return qmlir::numerics::floatToBF16Bits(f); }
float fromBF16(uint16_t h) { return qmlir::numerics::bf16BitsToFloat(h); }
uint16_t toF16(float f) {
  _Float16 h = static_cast<_Float16>(f);
  uint16_t u;
  std::memcpy(&u, &h, 2);
  return u;
}
float fromF16(uint16_t u) {
  _Float16 h;
  std::memcpy(&h, &u, 2);
  return static_cast<float>(h);
}

/// Rounds to the element type `type` (f32, bf16, f16) and back.
float roundTo(const std::string &type, float v) {
  if (type == "bf16")
    return fromBF16(toBF16(v));
  if (type == "f16")
    return fromF16(toF16(v));
  return v;
}

/// Encodes floats as `type` bytes.
std::vector<uint8_t> encode(const std::string &type,
                            const std::vector<float> &v) {
  size_t width = type == "f32" ? 4 : 2;
  std::vector<uint8_t> out(v.size() * width);
  for (size_t i = 0; i < v.size(); ++i) {
    if (type == "f32") {
      std::memcpy(&out[4 * i], &v[i], 4);
    } else {
      uint16_t h = type == "bf16" ? toBF16(v[i]) : toF16(v[i]);
      std::memcpy(&out[2 * i], &h, 2);
    }
  }
  return out;
}

std::vector<float> decode(const std::string &type,
                          const std::vector<uint8_t> &bytes) {
  size_t width = type == "f32" ? 4 : 2;
  std::vector<float> out(bytes.size() / width);
  for (size_t i = 0; i < out.size(); ++i) {
    if (type == "f32") {
      std::memcpy(&out[i], &bytes[4 * i], 4);
    } else {
      uint16_t h;
      std::memcpy(&h, &bytes[2 * i], 2);
      out[i] = type == "bf16" ? fromBF16(h) : fromF16(h);
    }
  }
  return out;
}

/// Calls `onLine` for each line of a text file; false (reported) when the
/// file cannot be read or `onLine` refuses a line.
template <typename Fn>
bool forEachLine(const std::string &path, Fn onLine) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "qnt-gpu-harness: cannot read '%s'\n", path.c_str());
    return false;
  }
  std::string line;
  while (std::getline(in, line))
    if (!onLine(line))
      return false;
  return true;
}

bool readCases(const std::string &path, std::vector<Case> &cases) {
  return forEachLine(path, [&](const std::string &line) {
    if (line.empty())
      return true;
    std::istringstream ls(line);
    Case c;
    std::string kind;
    int sym = 1, dq = 0;
    ls >> c.name >> kind >> sym >> c.scheme.groupSize >> dq >> c.compute >>
        c.act >> c.m >> c.n >> c.k;
    if (!ls || !numerics::parseKind(kind, c.scheme.kind)) {
      std::fprintf(stderr, "qnt-gpu-harness: %s: bad case line '%s'\n",
                   path.c_str(), line.c_str());
      return false;
    }
    c.scheme.symmetric = sym;
    c.scheme.doubleQuant = dq;
    cases.push_back(c);
    return true;
  });
}

bool readLaunches(const std::string &path,
                  std::map<std::string, Launch> &launches) {
  return forEachLine(path, [&](const std::string &line) {
    std::istringstream ls(line);
    std::string func, module;
    Launch l;
    ls >> func >> module >> l.kernel >> l.grid[0] >> l.grid[1] >> l.grid[2] >>
        l.block[0] >> l.block[1] >> l.block[2] >> l.smem;
    if (ls)
      launches[func] = l;
    return true;
  });
}

/// The device buffers of one case, in kernel parameter order.
struct DeviceCase {
  std::vector<cuda::DeviceBuffer> weights; // codes, scales, [zp], [dq...]
  cuda::DeviceBuffer x, out;
  int64_t weightBytes = 0;
};

bool upload(cuda::DeviceBuffer &buf, const void *data, size_t bytes) {
  buf = cuda::DeviceBuffer(std::max<size_t>(bytes, 4));
  return buf.get() && buf.upload(data, bytes);
}

bool uploadWeight(const numerics::QuantizedWeight &q, DeviceCase &d) {
  auto add = [&](const void *data, size_t bytes) {
    d.weights.emplace_back();
    d.weightBytes += static_cast<int64_t>(bytes);
    return upload(d.weights.back(), data, bytes);
  };
  bool ok = add(q.codes.data(), q.codes.size());
  if (q.scheme.doubleQuant)
    ok &= add(q.dqCodes.data(), q.dqCodes.size());
  else
    ok &= add(q.scales.data(), 4 * q.scales.size());
  if (!q.zeroPoints.empty())
    ok &= add(q.zeroPoints.data(), q.zeroPoints.size());
  if (q.scheme.doubleQuant) {
    ok &= add(q.dqScales.data(), 4 * q.dqScales.size());
    ok &= add(&q.dqOffset, 4);
  }
  return ok;
}

bool launchCase(void *fn, const Case &c, const Launch &l,
                const std::vector<cuda::DeviceBuffer> &weights,
                const cuda::DeviceBuffer &x, const cuda::DeviceBuffer &out) {
  std::vector<void *> ptrs = {x.get()};
  for (const auto &w : weights)
    ptrs.push_back(w.get());
  ptrs.push_back(out.get());
  std::vector<void *> params;
  for (void *&p : ptrs)
    params.push_back(&p);
  return cuda::launch(fn, l.kernel.c_str(), l.grid[0], l.grid[1], l.block[0],
                      l.smem, nullptr, params.data());
}

struct Options {
  std::string dir, filter;
  bool bench = false;
  int iters = 50;
};

int run(const Options &o) {
  std::vector<Case> cases;
  std::map<std::string, Launch> launches;
  if (!readCases(o.dir + "/cases.txt", cases) ||
      !readLaunches(o.dir + "/launches.txt", launches))
    return 2;
  // The one cubin in DIR, whichever chip it was built for.
  std::string image;
  for (const char *chip : {"sm_90a", "sm_90", "sm_80"}) {
    std::ifstream bin(o.dir + "/qnt_kernels." + chip + ".cubin",
                      std::ios::binary);
    image.assign(std::istreambuf_iterator<char>(bin),
                 std::istreambuf_iterator<char>());
    if (!image.empty())
      break;
  }
  if (image.empty()) {
    std::fprintf(stderr, "qnt-gpu-harness: no kernels in '%s'\n",
                 o.dir.c_str());
    return 2;
  }
  if (!cuda::init())
    return 2;
  cuda::Module module(image.data(), image.size());
  if (!module.valid())
    return 2;

  int failures = 0, ran = 0;
  if (o.bench)
    std::printf("%-34s %10s %10s %9s\n", "case", "us", "weight GB/s",
                "TFLOP/s");
  for (const Case &c : cases) {
    if (!o.filter.empty() && c.name.find(o.filter) == std::string::npos)
      continue;
    auto it = launches.find(c.name);
    if (it == launches.end()) {
      std::fprintf(stderr, "qnt-gpu-harness: %s: no launch recorded\n",
                   c.name.c_str());
      ++failures;
      continue;
    }
    const Launch &l = it->second;
    void *fn = module.function(l.kernel.c_str());
    if (!fn) {
      ++failures;
      continue;
    }
    ++ran;
    std::mt19937 rng(std::hash<std::string>()(c.name) & 0xFFFFFFFF);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> w(c.n * c.k), x(c.m * c.k), init(c.m * c.n);
    for (float &v : w)
      v = 0.02f * normal(rng);
    for (float &v : x)
      v = roundTo(c.act, normal(rng));
    for (float &v : init)
      v = roundTo(c.act, 0.1f * normal(rng));
    numerics::QuantizedWeight q = numerics::quantize(c.scheme, w.data(), c.n,
                                                     c.k);
    DeviceCase d;
    std::vector<uint8_t> xBytes = encode(c.act, x), initBytes = encode(c.act, init);
    if (!uploadWeight(q, d) || !upload(d.x, xBytes.data(), xBytes.size()) ||
        !upload(d.out, initBytes.data(), initBytes.size())) {
      ++failures;
      continue;
    }

    if (o.bench) {
      // Rotate weight copies so that the timed runs stream from DRAM.
      int copies = static_cast<int>(std::min<int64_t>(
          8, std::max<int64_t>(1, (256ll << 20) / std::max<int64_t>(
                                                     d.weightBytes, 1))));
      std::vector<DeviceCase> extra(copies - 1);
      for (auto &e : extra)
        if (!uploadWeight(q, e))
          return 2;
      auto weightsOf = [&](int i) -> const std::vector<cuda::DeviceBuffer> & {
        return i == 0 ? d.weights : extra[i - 1].weights;
      };
      for (int i = 0; i < 5; ++i)
        launchCase(fn, c, l, weightsOf(i % copies), d.x, d.out);
      std::vector<float> times;
      cuda::TimingEvent start, stop;
      for (int i = 0; i < o.iters; ++i) {
        start.record();
        launchCase(fn, c, l, weightsOf(i % copies), d.x, d.out);
        stop.record();
        times.push_back(stop.since(start));
      }
      if (!cuda::synchronize(c.name.c_str())) {
        ++failures;
        continue;
      }
      std::sort(times.begin(), times.end());
      double us = 1e3 * times[times.size() / 2];
      std::printf("%-34s %10.2f %10.1f %9.2f\n", c.name.c_str(), us,
                  d.weightBytes / (us * 1e3),
                  2.0 * c.m * c.n * c.k / (us * 1e6));
      continue;
    }

    if (!launchCase(fn, c, l, d.weights, d.x, d.out) ||
        !cuda::synchronize(c.name.c_str())) {
      ++failures;
      continue;
    }
    std::vector<uint8_t> outBytes(initBytes.size());
    if (!d.out.download(outBytes.data(), outBytes.size())) {
      ++failures;
      continue;
    }
    std::vector<float> out = decode(c.act, outBytes);

    // Reference: operands rounded to the compute type, f64 accumulation.
    std::vector<float> deq = numerics::dequantize(q);
    for (float &v : deq)
      v = roundTo(c.compute, v);
    // Tolerance per element, relative to |ref| and to the bound
    // B = sum |x||w| + |init|: the output's own rounding (2^-8 bf16, 2^-11
    // f16, 2^-22 f32), the compute-type rounding of the weight that the
    // kernel skips (2^-8 / 2^-11 of B), and f32 accumulation (K * 2^-24 * B
    // in the worst case; 2^-14 of B covers K <= 1024 at that bound and is
    // rarely approached).
    double outTol = c.act == "bf16" ? 0x1p-8 : c.act == "f16" ? 0x1p-11 : 0x1p-22;
    double wTol = c.compute == "bf16" ? 0x1p-8 : c.compute == "f16" ? 0x1p-11 : 0.0;
    double accTol = std::max(0x1p-14, c.k * 0x1p-24);
    double worst = 0.0, num = 0.0, den = 0.0;
    int64_t bad = -1;
    for (int64_t mi = 0; mi < c.m; ++mi) {
      for (int64_t ni = 0; ni < c.n; ++ni) {
        double ref = init[mi * c.n + ni], bound = std::fabs(ref);
        for (int64_t ki = 0; ki < c.k; ++ki) {
          double p = static_cast<double>(x[mi * c.k + ki]) * deq[ni * c.k + ki];
          ref += p;
          bound += std::fabs(p);
        }
        double got = out[mi * c.n + ni];
        double err = std::fabs(got - ref);
        double tol = outTol * std::fabs(ref) + (wTol + accTol) * bound + 1e-30;
        num += err * err;
        den += ref * ref;
        if (!(err <= tol) && (bad < 0 || err / tol > worst)) {
          worst = err / tol;
          bad = mi * c.n + ni;
        }
      }
    }
    double rel = std::sqrt(num / std::max(den, 1e-300));
    if (bad >= 0) {
      ++failures;
      std::printf("FAIL %-34s rel_l2=%.3e worst at (m=%lld, n=%lld): %.3gx "
                  "its tolerance\n",
                  c.name.c_str(), rel, (long long)(bad / c.n),
                  (long long)(bad % c.n), worst);
    } else {
      std::printf("PASS %-34s rel_l2=%.3e\n", c.name.c_str(), rel);
    }
  }
  if (ran == 0) {
    std::fprintf(stderr, "qnt-gpu-harness: no case matched\n");
    return 2;
  }
  if (const char *err = qmlirCudaLastError()) {
    std::fprintf(stderr, "qnt-gpu-harness: %s\n", err);
    return 1;
  }
  if (!o.bench)
    std::printf("%d of %d cases passed\n", ran - failures, ran);
  return failures ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--bench") {
      o.bench = true;
    } else if (a == "--filter" && i + 1 < argc) {
      o.filter = argv[++i];
    } else if (a == "--iters" && i + 1 < argc) {
      o.iters = std::atoi(argv[++i]);
      if (o.iters <= 0) {
        std::fprintf(stderr, "qnt-gpu-harness: --iters needs a positive "
                             "number, got '%s'\n",
                     argv[i]);
        return 2;
      }
    } else if (o.dir.empty() && a[0] != '-') {
      o.dir = a;
    } else {
      std::fprintf(stderr, "qnt-gpu-harness: unknown argument '%s' (usage: "
                           "qnt-gpu-harness DIR [--bench] [--filter TEXT] "
                           "[--iters N])\n",
                   a.c_str());
      return 2;
    }
  }
  if (o.dir.empty()) {
    std::fprintf(stderr, "qnt-gpu-harness: usage: qnt-gpu-harness DIR "
                         "[--bench] [--filter TEXT] [--iters N]\n");
    return 2;
  }
  return run(o);
}
