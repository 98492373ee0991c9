//===- ModelInfo.h - The qmlir_model_info global of a model ----*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A compiled model library exports `int64_t qmlir_model_info[kInfoCount]`:
// what the runtime checks and needs before it calls the entry points. The
// model builder writes it, ModelRunner reads it.
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_RUNTIME_MODELINFO_H
#define QMLIR_RUNTIME_MODELINFO_H

#include <cstdint>

namespace qmlir::runtime {

/// The entries of `qmlir_model_info`, in order.
enum ModelInfo : int64_t {
  kInfoVersion,
  kInfoLayers,
  kInfoDim,
  kInfoHeads,
  kInfoKvHeads,
  kInfoHeadDim,
  kInfoVocab,
  kInfoMaxContext,
  kInfoPrefillChunk,
  kInfoLayoutHash,
  kInfoMemory,
  /// Bytes of the weights' data (what weights.bin holds after its header):
  /// the runtime allocates this much for --dummy-weights.
  kInfoWeightsBytes,
  kInfoCount
};

/// The version of this layout.
constexpr int64_t kModelInfoVersion = 3;

/// Where the entry points want their buffers (kInfoMemory).
enum ModelMemory : int64_t {
  kHostMemory = 0,
  /// CUDA device memory: the library embeds GPU kernels and links the
  /// quant-mlir CUDA runtime (lib/Runtime/CUDA).
  kCudaMemory = 1,
};

} // namespace qmlir::runtime

#endif // QMLIR_RUNTIME_MODELINFO_H
