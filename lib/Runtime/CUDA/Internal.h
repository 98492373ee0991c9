//===- Internal.h - Shared pieces of the CUDA runtime -----------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Runtime/CUDA: error reporting, the context, the stream
// and workspace bound for compiled host code, and the launch profile.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_LIB_RUNTIME_CUDA_INTERNAL_H
#define QMLIR_LIB_RUNTIME_CUDA_INTERNAL_H

#include <cuda.h>

#include <string>
#include <type_traits>

namespace qmlir::cuda::detail {

/// Reports a failed driver call on stderr ("quant-mlir cuda: call failed
/// for what: message") and records it for qmlirCudaLastError(); false.
bool fail(CUresult result, const char *call, const std::string &what);

/// Checks a driver result; on failure reports "call failed for what: msg".
/// `what` is a string or, where it costs something to build on every call
/// (launches, allocations), a callable that returns one.
template <typename What>
bool check(CUresult result, const char *call, const What &what) {
  if (result == CUDA_SUCCESS)
    return true;
  if constexpr (std::is_invocable_v<What>)
    return fail(result, call, what());
  else
    return fail(result, call, what);
}

/// Makes the primary context of the default device current (once per
/// thread's first use).
bool ensureContext();

/// What qmlirCudaBindStream bound on this thread: the stream that stands
/// for every stream of the compiled host code, and a workspace that its
/// stream-ordered allocations take from in order (freed all at once when
/// the next call binds it again).
struct Binding {
  CUstream stream = nullptr;
  CUdeviceptr workspace = 0;
  size_t capacity = 0, used = 0, asked = 0;
  bool owns(CUdeviceptr p) const {
    return workspace && p >= workspace && p < workspace + capacity;
  }
};
extern thread_local Binding bound;

/// `src`, or while `stream` is being captured into a graph and `src` is
/// pageable host memory (a host constant of compiled code), a pinned copy
/// of its `bytes` made once.
void *capturableSource(void *src, size_t bytes, CUstream stream);

/// Launches through `launch()`, timed when QMLIR_CUDA_PROFILE is set.
bool profiling();
void profiledLaunch(CUfunction f, CUstream stream, unsigned grid,
                    unsigned block, void (*launch)(void *), void *context);

} // namespace qmlir::cuda::detail

#endif // QMLIR_LIB_RUNTIME_CUDA_INTERNAL_H
