//===- CudaRuntime.h - CUDA driver runtime of quant-mlir --------*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What compiled GPU code links: the host ABI that MLIR's gpu-to-llvm lowering
// calls (mgpuModuleLoad, mgpuLaunchKernel, mgpuMemAlloc, ...) implemented on
// the CUDA driver API, plus a small C++ API for programs that load and launch
// generated kernels themselves (tests, benchmarks). Errors never abort: they
// are reported as "quant-mlir cuda: <call> failed for <what>: <driver
// message>" on stderr and recorded, and qmlirCudaLastError() returns the
// first one so that a caller can fail cleanly.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_CUDARUNTIME_H
#define QMLIR_RUNTIME_CUDARUNTIME_H

#include <cstddef>
#include <cstdint>

extern "C" {
// The gpu-to-llvm host ABI (see MLIR's CudaRuntimeWrappers.cpp).
void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);
void *mgpuStreamCreate();
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);
void *mgpuEventCreate();
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count,
                  void *stream);
void mgpuSetDefaultDevice(int32_t device);

/// Binds `stream` (null: unbinds) on the calling thread: the compiled host
/// code's streams are then all this one (mgpuStreamCreate returns it,
/// mgpuStreamDestroy and mgpuStreamSynchronize leave it alone), so that a
/// whole entry point runs in order on one stream with no synchronization
/// inside; the caller synchronizes it (or captures it into a graph). With a
/// `workspace` (`bytes` long), the bound stream's allocations take
/// consecutive 256-byte aligned slices of it (frees do nothing) while they
/// fit, the stream-ordered pool after that; the workspace is reused from
/// its start at the next bind.
void qmlirCudaBindStream(void *stream, void *workspace, size_t bytes);
/// The workspace bytes the calls since the last bind asked for (a larger
/// workspace for the next call if they did not fit).
size_t qmlirCudaWorkspaceAsked();
/// Starts capturing the calls on `stream` into a graph (false: not captured,
/// e.g. while QMLIR_CUDA_PROFILE times each launch).
bool qmlirCudaCaptureBegin(void *stream);
/// Ends the capture, updates *graphExec in place with it (or instantiates
/// it when null or when the update is refused) and launches it on `stream`.
bool qmlirCudaCaptureLaunch(void *stream, void **graphExec);
void qmlirCudaGraphDestroy(void *graphExec);

/// The first error recorded since the last qmlirCudaClearError(), or null.
const char *qmlirCudaLastError();
void qmlirCudaClearError();
}

namespace qmlir::cuda {

/// Initializes the driver and makes the primary context of device 0
/// current; returns false (with the error recorded) when there is no usable
/// GPU.
bool init();

/// A device buffer (RAII).
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes);
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;
  DeviceBuffer(DeviceBuffer &&other) noexcept;
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  ~DeviceBuffer();

  void *get() const { return ptr; }
  size_t size() const { return bytes; }
  bool upload(const void *src, size_t count);
  bool download(void *dst, size_t count) const;

private:
  void *ptr = nullptr;
  size_t bytes = 0;
};

/// A loaded GPU module (cubin or fatbin image).
class Module {
public:
  /// Loads an image; check valid().
  Module(const void *image, size_t size);
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;
  ~Module();
  bool valid() const { return handle != nullptr; }
  /// The kernel, or null (error recorded) if absent.
  void *function(const char *name) const;

private:
  void *handle = nullptr;
};

/// Launches `function` on `stream` (null = default stream); params are the
/// addresses of the argument values. Returns false on a driver error, naming
/// `kernelName` in the message.
bool launch(void *function, const char *kernelName, unsigned gridX,
            unsigned gridY, unsigned blockX, unsigned smemBytes, void *stream,
            void **params);

/// Waits for the device; returns false if a kernel faulted (the message
/// names `what`).
bool synchronize(const char *what);

/// Device events for timing (recorded on the default stream).
class TimingEvent {
public:
  TimingEvent();
  TimingEvent(const TimingEvent &) = delete;
  TimingEvent &operator=(const TimingEvent &) = delete;
  ~TimingEvent();
  void record();
  /// Milliseconds from `start` to this event (both recorded and complete).
  float since(const TimingEvent &start) const;

private:
  void *event = nullptr;
};

} // namespace qmlir::cuda

#endif // QMLIR_RUNTIME_CUDARUNTIME_H
