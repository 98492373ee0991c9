//===- Llama.h - Llama models: configuration, weight plan, IR ---*- C++ -*-===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What quant-compile needs to turn a Llama-architecture model into a module:
//
// - LlamaConfig, read from a GGUF file's metadata;
// - ModelPlan: where every stored tensor lives in the weights file. Each
//   layer's tensors form one block of the same size at base + layer *
//   stride, so the IR addresses layer L's weights as views of one i8 buffer
//   at offsets computed from L: one loop body serves every layer and the
//   module does not grow with depth. The weights themselves never enter the
//   IR; quant-compile streams them into the file the plan describes;
// - buildLlamaModule: func + linalg/tensor/arith/math + qnt IR with two
//   entry points of the same signature, `qmlir_prefill` (T = chunk tokens)
//   and `qmlir_decode` (T = 1):
//     (%weights: memref<?xi8>, %kcache: memref<L x C x KV x D>,
//      %vcache: same, %tokens: memref<T x i32>, %pos: i64,
//      %logits: memref<T x V x f32>)
//   which run tokens at positions pos .. pos + T - 1 against the cache of
//   positions < pos, store their keys and values into the cache and their
//   logits into %logits; plus the constant global `qmlir_model_info`
//   (ModelInfo.h).
//
//===----------------------------------------------------------------------===//

#ifndef QMLIR_MODEL_LLAMA_H
#define QMLIR_MODEL_LLAMA_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "qmlir/Dialect/Qnt/IR/QntOps.h"
#include "qmlir/Import/Gguf.h"
#include "qmlir/Import/HfConfig.h"
#include "qmlir/Runtime/ModelInfo.h"
#include "qmlir/Runtime/WeightsFile.h"

#include <optional>

namespace qmlir::model {

/// The hyper-parameters of a Llama model.
struct LlamaConfig {
  int64_t layers = 0, dim = 0, heads = 0, kvHeads = 0, headDim = 0, ffn = 0,
          vocab = 0, trainContext = 0;
  double ropeBase = 10000.0, rmsEps = 1e-5;
  /// No output.weight: the head reuses the token embedding.
  bool tiedHead = true;
};

/// Reads and checks the configuration of a `llama` GGUF file.
llvm::Expected<LlamaConfig> readLlamaConfig(const gguf::GgufFile &file);

/// The configuration of a Hugging Face Llama checkpoint (config.json at
/// `path`, for messages); fails on head layouts the model IR does not build.
llvm::Expected<LlamaConfig> llamaConfigFromHf(const hf::HfLlamaConfig &config,
                                              llvm::StringRef path);

/// How the model is compiled.
struct CompileOptions {
  /// The scheme of the linear layers; none: f32 (the unquantized baseline).
  std::optional<numerics::Scheme> scheme;
  /// Linear layers whose GGUF name matches stay f32 (regex; empty: none).
  std::string keepFloat;
  /// KV cache length and the tokens of one prefill call.
  int64_t maxContext = 1024, prefillChunk = 64;
  /// Compile for a CUDA GPU: the entry points take device buffers.
  bool cuda = false;
  /// The quantized layers' compute type: "f32", or "bf16" / "f16" (CPU):
  /// activations and dequantized weights rounded to it, f32 sums.
  std::string computeType = "f32";
  /// W8A8 for the symmetric int8 layers (`act = int8`), with LLM.int8's
  /// outlier threshold when > 0.
  bool actInt8 = false;
  float outlierThreshold = 0.0f;
};

/// One stored tensor of a layer or of the globals.
struct StoredTensor {
  std::string name; ///< In the weights file (also the GGUF source name).
  runtime::ElementType type = runtime::ElementType::F32;
  std::vector<int64_t> shape;
  uint64_t bytes = 0;
  uint64_t offset = 0; ///< From the layer block's base (or the data start).
};

/// A linear layer out = x W^T with W [N, K], stored quantized (codes,
/// scales, [zero points], [dq scales, dq offset]) or as f32 W.
struct LinearPlan {
  std::string source; ///< GGUF tensor name, e.g. "blk.0.attn_q.weight".
  int64_t n = 0, k = 0;
  std::optional<numerics::Scheme> scheme;
  /// Indices into the owning block's tensors, in operand order.
  std::vector<size_t> parts;
};

/// The weights file layout of a model.
struct ModelPlan {
  /// Per layer: attn_norm, q, k, v, output, ffn_norm, gate, up, down; the
  /// StoredTensor names are those of layer 0 ("blk.0.").
  std::vector<StoredTensor> layerTensors;
  LinearPlan q, k, v, o, gate, up, down;
  size_t attnNorm = 0, ffnNorm = 0;
  uint64_t layerBase = 0, layerStride = 0;
  /// Globals (offsets from the data start): the token embedding (gathered
  /// rows; quantized without double quantization), the output norm, and a
  /// separate head unless it is tied to the embedding.
  std::vector<StoredTensor> globals;
  LinearPlan embedding, head;
  size_t outputNorm = 0;
  uint64_t totalBytes = 0;
  /// Identifies this layout; the library and the weights file carry it.
  uint64_t layoutHash = 0;
};

/// Plans the layout; fails on an invalid scheme for a layer's shape.
llvm::Expected<ModelPlan> planModel(mlir::MLIRContext *context,
                                    const LlamaConfig &config,
                                    const CompileOptions &options);

/// Builds the module (see the file comment).
mlir::OwningOpRef<mlir::ModuleOp>
buildLlamaModule(mlir::MLIRContext *context, const LlamaConfig &config,
                 const ModelPlan &plan, const CompileOptions &options);

} // namespace qmlir::model

#endif // QMLIR_MODEL_LLAMA_H
