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

#include "Internal.h"

#include <cuda.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <string>

namespace qmlir::cuda::detail {
namespace {
std::mutex errorMutex;
std::string firstError;
} // namespace
int defaultDevice = 0;
thread_local Binding bound;

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

namespace {
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

} // namespace
} // namespace qmlir::cuda::detail

using namespace qmlir::cuda::detail;

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
  profiledLaunch(
      f, static_cast<CUstream>(stream), unsigned(gridX * gridY * gridZ),
      unsigned(blockX * blockY * blockZ),
      [](void *l) { (*static_cast<decltype(launch) *>(l))(); }, &launch);
}

void *mgpuStreamCreate() {
  if (bound.stream)
    return bound.stream;
  if (!ensureContext())
    return nullptr;
  CUstream stream = nullptr;
  check(cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate",
        "a stream");
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  if (stream && stream != bound.stream)
    check(cuStreamDestroy(static_cast<CUstream>(stream)), "cuStreamDestroy",
          "a stream");
}

void mgpuStreamSynchronize(void *stream) {
  // The bound stream's owner synchronizes it (after unbinding).
  if (stream && stream == bound.stream)
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
  // The bound stream's buffers: the next bytes of its workspace, in order
  // (256-byte aligned), while they fit.
  if (stream && stream == bound.stream && !isHostShared) {
    size_t at = (bound.used + 255) & ~size_t(255);
    bound.used = at + sizeBytes;
    bound.asked = std::max(bound.asked, bound.used);
    if (bound.used <= bound.capacity)
      return reinterpret_cast<void *>(bound.workspace + at);
  }
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
  if (!ptr || bound.owns(reinterpret_cast<CUdeviceptr>(ptr)))
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
  // A graph cannot copy from pageable host memory: host constants then
  // come from a pinned copy.
  src = capturableSource(src, sizeBytes, static_cast<CUstream>(stream));
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
