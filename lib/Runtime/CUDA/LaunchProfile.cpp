//===- LaunchProfile.cpp - QMLIR_CUDA_PROFILE -----------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <vector>

namespace qmlir::cuda::detail {
namespace {

/// QMLIR_CUDA_PROFILE=1: every launch of the compiled host code between two
/// events on its stream; at exit, the kernels' GPU time by kernel (total,
/// count, mean, launch shape) and their share of the time from the first
/// launch to the last. (The machines here have no Nsight Systems.)
class LaunchProfile {
public:
  static LaunchProfile *get() {
    static LaunchProfile *profile = [] {
      const char *env = std::getenv("QMLIR_CUDA_PROFILE");
      if (!env || !*env || std::string(env) == "0")
        return static_cast<LaunchProfile *>(nullptr);
      auto *p = new LaunchProfile();
      std::atexit([] { get()->report(); });
      return p;
    }();
    return profile;
  }

  /// Records the launch of f on stream around `launch`.
  void around(CUfunction f, CUstream stream, unsigned grid, unsigned block,
              void (*launch)(void *), void *context) {
    CUevent start = event(), end = event();
    cuEventRecord(start, stream);
    launch(context);
    cuEventRecord(end, stream);
    pending.push_back({f, start, end, grid, block});
    if (pending.size() >= 8192)
      flush();
  }

private:
  struct Pending {
    CUfunction f;
    CUevent start, end;
    unsigned grid, block;
  };
  struct Stats {
    unsigned block = 0;
    size_t count = 0;
    double ms = 0;
  };

  CUevent event() {
    if (!spare.empty()) {
      CUevent e = spare.back();
      spare.pop_back();
      return e;
    }
    CUevent e = nullptr;
    cuEventCreate(&e, CU_EVENT_DEFAULT);
    return e;
  }

  void flush() {
    if (pending.empty())
      return;
    cuEventSynchronize(pending.back().end);
    for (const Pending &p : pending) {
      float ms = 0;
      cuEventElapsedTime(&ms, p.start, p.end);
      Stats &st = stats[{p.f, p.grid}];
      st.block = p.block;
      ++st.count;
      st.ms += ms;
      kernelMs += ms;
      if (!first)
        first = p.start;
      else
        spare.push_back(p.start);
      if (last)
        spare.push_back(last);
      last = p.end;
      ++launches;
    }
    pending.clear();
  }

  void report() {
    flush();
    float span = 0;
    if (first && last)
      cuEventElapsedTime(&span, first, last);
    std::fprintf(stderr,
                 "quant-mlir cuda profile: %zu launches; kernels %.3f ms of "
                 "%.3f ms from the first launch to the last (%.0f %%)\n",
                 launches, kernelMs, span,
                 span > 0 ? 100.0 * kernelMs / span : 0.0);
    std::vector<std::pair<std::pair<CUfunction, unsigned>, Stats>> rows(
        stats.begin(), stats.end());
    std::sort(rows.begin(), rows.end(), [](const auto &a, const auto &b) {
      return a.second.ms > b.second.ms;
    });
    std::fprintf(stderr, "%10s %8s %10s  %s\n", "total ms", "count",
                 "mean us", "kernel (grid x block)");
    for (size_t i = 0; i < rows.size() && i < 40; ++i) {
      const Stats &st = rows[i].second;
      const char *name = nullptr;
      cuFuncGetName(&name, rows[i].first.first);
      std::fprintf(stderr, "%10.3f %8zu %10.2f  %s (%u x %u)\n", st.ms,
                   st.count, 1000.0 * st.ms / st.count, name ? name : "?",
                   rows[i].first.second, st.block);
    }
  }

  std::vector<Pending> pending;
  std::vector<CUevent> spare;
  std::map<std::pair<CUfunction, unsigned>, Stats> stats;
  CUevent first = nullptr, last = nullptr;
  size_t launches = 0;
  double kernelMs = 0;
};

} // namespace

bool profiling() { return LaunchProfile::get() != nullptr; }

void profiledLaunch(CUfunction f, CUstream stream, unsigned grid,
                    unsigned block, void (*launch)(void *), void *context) {
  if (LaunchProfile *profile = LaunchProfile::get())
    profile->around(f, stream, grid, block, launch, context);
  else
    launch(context);
}

} // namespace qmlir::cuda::detail
