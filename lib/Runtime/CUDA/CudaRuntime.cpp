//===- CudaRuntime.cpp - CUDA driver runtime of quant-mlir ----------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The gpu-to-llvm host ABI and a small C++ API on the CUDA driver API. Every
// driver call is checked; a failure prints one line naming the call, what it
// was for and the driver's message, is recorded for qmlirCudaLastError(), and
// the call returns without aborting. Links against the driver stub so that
// machines without a GPU build it.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Runtime/CudaRuntime.h"

#include <cuda.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

namespace {
std::mutex errorMutex;
std::string firstError;
int defaultDevice = 0;

/// Reports a failed driver call: "call failed for what: msg".
bool fail(CUresult result, const char *call, const std::string &what) {
  // After the driver shut down (module unload from a global destructor),
  // stay silent: there is nothing left to clean up.
  if (result == CUDA_ERROR_DEINITIALIZED)
    return false;
  const char *name = nullptr, *message = nullptr;
  cuGetErrorName(result, &name);
  cuGetErrorString(result, &message);
  std::string line = std::string("quant-mlir cuda: ") + call + " failed for " +
                     what + ": " + (name ? name : "?") + " (" +
                     (message ? message : "unknown error") + ")";
  std::fprintf(stderr, "%s\n", line.c_str());
  std::lock_guard<std::mutex> lock(errorMutex);
  if (firstError.empty())
    firstError = line;
  return false;
}

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

/// The stream that stands for every stream of the compiled host code on
/// this thread (qmlirCudaBindStream), or null.
thread_local CUstream boundStream = nullptr;

/// Makes the primary context of the default device current (once per
/// thread's first use).
bool ensureContext() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    CUdevice device;
    CUcontext context;
    ok = check(cuInit(0), "cuInit", "driver initialization") &&
         check(cuDeviceGet(&device, defaultDevice), "cuDeviceGet",
               "device " + std::to_string(defaultDevice)) &&
         check(cuDevicePrimaryCtxRetain(&context, device),
               "cuDevicePrimaryCtxRetain", "the primary context");
    if (ok)
      ok = check(cuCtxSetCurrent(context), "cuCtxSetCurrent",
                 "the primary context");
  });
  if (!ok)
    return false;
  // Other threads need the context current too.
  CUcontext current = nullptr;
  cuCtxGetCurrent(&current);
  if (!current) {
    CUdevice device;
    CUcontext context;
    return check(cuDeviceGet(&device, defaultDevice), "cuDeviceGet",
                 "device") &&
           check(cuDevicePrimaryCtxRetain(&context, device),
                 "cuDevicePrimaryCtxRetain", "the primary context") &&
           check(cuCtxSetCurrent(context), "cuCtxSetCurrent", "a new thread");
  }
  return true;
}

/// Makes the default memory pool of the device keep freed memory (instead
/// of returning it at every synchronization), once; false if the device
/// has no stream-ordered allocator.
bool keepPoolMemory() {
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    CUdevice device;
    CUmemoryPool pool;
    cuuint64_t keep = ~cuuint64_t(0);
    ok = check(cuDeviceGet(&device, defaultDevice), "cuDeviceGet", "device") &&
         check(cuDeviceGetDefaultMemPool(&pool, device),
               "cuDeviceGetDefaultMemPool", "the stream-ordered allocator") &&
         check(cuMemPoolSetAttribute(pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD,
                                     &keep),
               "cuMemPoolSetAttribute", "the release threshold");
  });
  return ok;
}

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
  template <typename Launch>
  void around(CUfunction f, CUstream stream, unsigned grid, unsigned block,
              const Launch &launch) {
    CUevent start = event(), end = event();
    cuEventRecord(start, stream);
    launch();
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
    unsigned grid = 0, block = 0;
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
      st.grid = p.grid;
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
                   st.grid, st.block);
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

//===----------------------------------------------------------------------===//
// gpu-to-llvm host ABI
//===----------------------------------------------------------------------===//

extern "C" {

const char *qmlirCudaLastError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  return firstError.empty() ? nullptr : firstError.c_str();
}

void qmlirCudaClearError() {
  std::lock_guard<std::mutex> lock(errorMutex);
  firstError.clear();
}

void mgpuSetDefaultDevice(int32_t device) { defaultDevice = device; }

void *mgpuModuleLoad(void *data, size_t /*gpuBlobSize*/) {
  if (!ensureContext())
    return nullptr;
  CUmodule module = nullptr;
  if (!check(cuModuleLoadData(&module, data), "cuModuleLoadData",
             "the embedded GPU binary"))
    return nullptr;
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  if (!ensureContext())
    return nullptr;
  CUmodule module = nullptr;
  CUjit_option options[] = {CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {reinterpret_cast<void *>(static_cast<intptr_t>(optLevel))};
  if (!check(cuModuleLoadDataEx(&module, data, 1, options, values),
             "cuModuleLoadDataEx", "PTX compiled at load time"))
    return nullptr;
  return module;
}

void mgpuModuleUnload(void *module) {
  // May run from a global destructor after the driver shut down: check()
  // stays silent for CUDA_ERROR_DEINITIALIZED.
  if (module)
    check(cuModuleUnload(static_cast<CUmodule>(module)), "cuModuleUnload",
          "a GPU module");
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  if (!module)
    return nullptr;
  CUfunction function = nullptr;
  if (!check(cuModuleGetFunction(&function, static_cast<CUmodule>(module),
                                 name),
             "cuModuleGetFunction",
             [name] { return std::string("kernel ") + name; }))
    return nullptr;
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void ** /*extra*/,
                      size_t /*paramsCount*/) {
  if (!function)
    return; // The load or lookup already reported why.
  CUfunction f = static_cast<CUfunction>(function);
  if (smem > 48 * 1024)
    check(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                             smem),
          "cuFuncSetAttribute", "dynamic shared memory");
  auto launch = [&] {
    check(cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, smem,
                         static_cast<CUstream>(stream), params, nullptr),
          "cuLaunchKernel", [f] {
            const char *name = nullptr;
            cuFuncGetName(&name, f);
            return std::string("kernel ") + (name ? name : "?");
          });
  };
  if (LaunchProfile *profile = LaunchProfile::get())
    profile->around(f, static_cast<CUstream>(stream),
                    unsigned(gridX * gridY * gridZ),
                    unsigned(blockX * blockY * blockZ), launch);
  else
    launch();
}

void qmlirCudaBindStream(void *stream) {
  boundStream = static_cast<CUstream>(stream);
}

void *mgpuStreamCreate() {
  if (boundStream)
    return boundStream;
  if (!ensureContext())
    return nullptr;
  CUstream stream = nullptr;
  check(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate",
        "a stream");
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  if (stream && stream != boundStream)
    check(cuStreamDestroy(static_cast<CUstream>(stream)), "cuStreamDestroy",
          "a stream");
}

void mgpuStreamSynchronize(void *stream) {
  // The bound stream's owner synchronizes it (after unbinding).
  if (stream && stream == boundStream)
    return;
  check(cuStreamSynchronize(static_cast<CUstream>(stream)),
        "cuStreamSynchronize", "the kernels of a stream");
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  check(cuStreamWaitEvent(static_cast<CUstream>(stream),
                          static_cast<CUevent>(event), 0),
        "cuStreamWaitEvent", "an event");
}

void *mgpuEventCreate() {
  if (!ensureContext())
    return nullptr;
  CUevent event = nullptr;
  check(cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "cuEventCreate",
        "an event");
  return event;
}

void mgpuEventDestroy(void *event) {
  check(cuEventDestroy(static_cast<CUevent>(event)), "cuEventDestroy",
        "an event");
}

void mgpuEventSynchronize(void *event) {
  check(cuEventSynchronize(static_cast<CUevent>(event)), "cuEventSynchronize",
        "an event");
}

void mgpuEventRecord(void *event, void *stream) {
  check(cuEventRecord(static_cast<CUevent>(event),
                      static_cast<CUstream>(stream)),
        "cuEventRecord", "an event");
}

// Buffers of a stream (the temporaries of compiled host code) come from the
// device's stream-ordered pool, which keeps freed memory for the next call:
// no device-wide synchronization per temporary. Without a stream, plain
// cuMemAlloc / cuMemFree.
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared) {
  if (!ensureContext())
    return nullptr;
  CUdeviceptr ptr = 0;
  if (sizeBytes == 0)
    return nullptr;
  auto what = [sizeBytes] { return std::to_string(sizeBytes) + " bytes"; };
  bool ok;
  if (isHostShared)
    ok = check(cuMemAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL),
               "cuMemAllocManaged", what);
  else if (stream && keepPoolMemory())
    ok = check(cuMemAllocAsync(&ptr, sizeBytes, static_cast<CUstream>(stream)),
               "cuMemAllocAsync", what);
  else
    ok = check(cuMemAlloc(&ptr, sizeBytes), "cuMemAlloc", what);
  return ok ? reinterpret_cast<void *>(ptr) : nullptr;
}

void mgpuMemFree(void *ptr, void *stream) {
  if (!ptr)
    return;
  if (stream && keepPoolMemory())
    check(cuMemFreeAsync(reinterpret_cast<CUdeviceptr>(ptr),
                         static_cast<CUstream>(stream)),
          "cuMemFreeAsync", "a device buffer");
  else
    check(cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)), "cuMemFree",
          "a device buffer");
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  check(cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                      reinterpret_cast<CUdeviceptr>(src), sizeBytes,
                      static_cast<CUstream>(stream)),
        "cuMemcpyAsync",
        [sizeBytes] { return std::to_string(sizeBytes) + " bytes"; });
}

void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream) {
  check(cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         static_cast<CUstream>(stream)),
        "cuMemsetD32Async", std::to_string(count) + " words");
}

void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void *stream) {
  check(cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                         static_cast<CUstream>(stream)),
        "cuMemsetD16Async", std::to_string(count) + " half words");
}

} // extern "C"

//===----------------------------------------------------------------------===//
// C++ API
//===----------------------------------------------------------------------===//

namespace qmlir::cuda {

bool init() { return ensureContext(); }

DeviceBuffer::DeviceBuffer(size_t bytes)
    : ptr(mgpuMemAlloc(bytes, nullptr, false)), bytes(ptr ? bytes : 0) {}

DeviceBuffer::DeviceBuffer(DeviceBuffer &&other) noexcept
    : ptr(other.ptr), bytes(other.bytes) {
  other.ptr = nullptr;
  other.bytes = 0;
}

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    mgpuMemFree(ptr, nullptr);
    ptr = other.ptr;
    bytes = other.bytes;
    other.ptr = nullptr;
    other.bytes = 0;
  }
  return *this;
}

DeviceBuffer::~DeviceBuffer() { mgpuMemFree(ptr, nullptr); }

bool DeviceBuffer::upload(const void *src, size_t count) {
  return ptr && count <= bytes &&
         check(cuMemcpyHtoD(reinterpret_cast<CUdeviceptr>(ptr), src, count),
               "cuMemcpyHtoD", std::to_string(count) + " bytes");
}

bool DeviceBuffer::download(void *dst, size_t count) const {
  return ptr && count <= bytes &&
         check(cuMemcpyDtoH(dst, reinterpret_cast<CUdeviceptr>(ptr), count),
               "cuMemcpyDtoH", std::to_string(count) + " bytes");
}

Module::Module(const void *image, size_t size)
    : handle(mgpuModuleLoad(const_cast<void *>(image), size)) {}

Module::~Module() { mgpuModuleUnload(handle); }

void *Module::function(const char *name) const {
  return mgpuModuleGetFunction(handle, name);
}

bool launch(void *function, const char *kernelName, unsigned gridX,
            unsigned gridY, unsigned blockX, unsigned smemBytes, void *stream,
            void **params) {
  if (!function)
    return false;
  if (smemBytes > 48 * 1024 &&
      !check(cuFuncSetAttribute(static_cast<CUfunction>(function),
                                CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                smemBytes),
             "cuFuncSetAttribute",
             std::string("dynamic shared memory of kernel ") + kernelName))
    return false;
  return check(cuLaunchKernel(static_cast<CUfunction>(function), gridX, gridY,
                              1, blockX, 1, 1, smemBytes,
                              static_cast<CUstream>(stream), params, nullptr),
               "cuLaunchKernel", std::string("kernel ") + kernelName);
}

bool synchronize(const char *what) {
  return check(cuCtxSynchronize(), "cuCtxSynchronize", what);
}

TimingEvent::TimingEvent() {
  CUevent e = nullptr;
  if (ensureContext() &&
      check(cuEventCreate(&e, CU_EVENT_DEFAULT), "cuEventCreate",
            "a timing event"))
    event = e;
}

TimingEvent::~TimingEvent() {
  if (event)
    check(cuEventDestroy(static_cast<CUevent>(event)), "cuEventDestroy",
          "a timing event");
}

void TimingEvent::record() {
  check(cuEventRecord(static_cast<CUevent>(event), nullptr), "cuEventRecord",
        "a timing event");
}

float TimingEvent::since(const TimingEvent &start) const {
  float ms = 0.0f;
  if (check(cuEventSynchronize(static_cast<CUevent>(event)),
            "cuEventSynchronize", "a timing event"))
    check(cuEventElapsedTime(&ms, static_cast<CUevent>(start.event),
                             static_cast<CUevent>(event)),
          "cuEventElapsedTime", "a kernel timing");
  return ms;
}

} // namespace qmlir::cuda
