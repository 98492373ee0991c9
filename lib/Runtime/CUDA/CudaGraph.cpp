//===- CudaGraph.cpp - Bound streams, workspaces and CUDA graphs ----------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A caller (the model runner) binds one stream and a workspace around a
// call of compiled host code: every stream of that code is the bound one,
// nothing in it synchronizes, and its temporaries are consecutive slices of
// the workspace. Such a call can be captured into a CUDA graph and replayed:
// the graph of the next call has the same nodes with other parameters
// (positions, cache lengths), so the instantiated graph is updated in place
// (cuGraphExecUpdate) rather than instantiated again, as llama.cpp does for
// each token.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/CudaRuntime.h"

#include "Internal.h"

#include <cstring>
#include <map>
#include <memory>
#include <mutex>

using namespace qmlir::cuda::detail;

namespace {
/// Pinned copies of host constants, by address (the constants of compiled
/// code never change).
std::mutex pinnedMutex;
std::map<std::pair<const void *, size_t>, void *> pinned;
} // namespace

void *qmlir::cuda::detail::capturableSource(void *src, size_t bytes,
                                            CUstream stream) {
  CUstreamCaptureStatus status = CU_STREAM_CAPTURE_STATUS_NONE;
  if (!stream || cuStreamIsCapturing(stream, &status) != CUDA_SUCCESS ||
      status != CU_STREAM_CAPTURE_STATUS_ACTIVE)
    return src;
  CUmemorytype type;
  if (cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE,
                            reinterpret_cast<CUdeviceptr>(src)) ==
      CUDA_SUCCESS)
    return src; // Device or registered host memory.
  std::lock_guard<std::mutex> lock(pinnedMutex);
  void *&copy = pinned[{src, bytes}];
  if (!copy) {
    if (!check(cuMemHostAlloc(&copy, bytes, 0), "cuMemHostAlloc",
               "a pinned copy of a host constant"))
      return src;
    std::memcpy(copy, src, bytes);
  }
  return copy;
}

extern "C" {

void qmlirCudaBindStream(void *stream, void *workspace, size_t bytes) {
  bound.stream = static_cast<CUstream>(stream);
  bound.workspace = reinterpret_cast<CUdeviceptr>(workspace);
  bound.capacity = workspace ? bytes : 0;
  bound.used = bound.asked = 0;
}

size_t qmlirCudaWorkspaceAsked() { return bound.asked; }

bool qmlirCudaCaptureBegin(void *stream) {
  // Timing events cannot be read from inside a graph.
  if (profiling())
    return false;
  return check(cuStreamBeginCapture(static_cast<CUstream>(stream),
                                    CU_STREAM_CAPTURE_MODE_THREAD_LOCAL),
               "cuStreamBeginCapture", "a graph of one call");
}

bool qmlirCudaCaptureLaunch(void *stream, void **graphExec) {
  CUstream s = static_cast<CUstream>(stream);
  CUgraph graph = nullptr;
  if (!check(cuStreamEndCapture(s, &graph), "cuStreamEndCapture",
             "a graph of one call"))
    return false;
  std::unique_ptr<CUgraph_st, CUresult (*)(CUgraph)> owner(graph,
                                                           cuGraphDestroy);
  CUgraphExec exec = static_cast<CUgraphExec>(*graphExec);
  if (exec) {
    // Same nodes, new parameters: update in place; else instantiate anew.
    CUgraphExecUpdateResultInfo info;
    if (cuGraphExecUpdate(exec, graph, &info) != CUDA_SUCCESS) {
      cuGraphExecDestroy(exec);
      exec = nullptr;
    }
  }
  if (!exec &&
      !check(cuGraphInstantiate(&exec, graph, 0), "cuGraphInstantiate",
             "a graph of one call"))
    return false;
  *graphExec = exec;
  return check(cuGraphLaunch(exec, s), "cuGraphLaunch", "a graph of one call");
}

void qmlirCudaGraphDestroy(void *graphExec) {
  if (graphExec)
    check(cuGraphExecDestroy(static_cast<CUgraphExec>(graphExec)),
          "cuGraphExecDestroy", "a graph");
}

} // extern "C"
