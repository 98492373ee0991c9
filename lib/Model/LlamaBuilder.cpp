//===- LlamaBuilder.cpp - The IR of a Llama model -------------------------===//
//
// Part of the quant-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Emits the entry points described in Llama.h as linalg generics on tensors
// (RMSNorm, RoPE, grouped-query attention over the KV cache, SwiGLU), with
// qnt.matmul for the quantized linear layers, and the weights as views of
// the weights buffer. The math follows llama.cpp's llama architecture:
// adjacent-pair rotary embeddings (GGUF's Q and K rows are permuted for
// them), 1 / sqrt(mean(x^2) + eps) normalisation, softmax(QK^T / sqrt(d))
// with a causal mask over the cache positions.
//
//===----------------------------------------------------------------------===//

#include "qmlir/Model/Llama.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace qmlir;
using namespace qmlir::model;

namespace {

using BodyFn = function_ref<void(OpBuilder &, Location, ValueRange)>;

class LlamaBuilder {
public:
  LlamaBuilder(MLIRContext *ctx, const LlamaConfig &c, const ModelPlan &plan,
               const CompileOptions &options)
      : ctx(ctx), b(ctx), loc(UnknownLoc::get(ctx)), c(c), plan(plan),
        options(options) {
    f32 = b.getF32Type();
    f64 = b.getF64Type();
    i8 = b.getI8Type();
    idxType = b.getIndexType();
  }

  OwningOpRef<ModuleOp> build();

private:
  void buildEntry(ModuleOp module, StringRef name, int64_t tokens);
  Value layer(Value h, Value layerIdx);

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }
  Value f32c(double v) {
    return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(v));
  }
  Value f64c(double v) {
    return arith::ConstantOp::create(b, loc, b.getF64FloatAttr(v));
  }
  AffineExpr d(unsigned i) { return getAffineDimExpr(i, ctx); }
  AffineMap map(unsigned dims, ArrayRef<AffineExpr> results) {
    return AffineMap::get(dims, 0, results, ctx);
  }
  /// A zero-filled f32 tensor (dynamic sizes as Values).
  Value zeros(ArrayRef<OpFoldResult> shape, double value = 0.0) {
    Value empty = tensor::EmptyOp::create(b, loc, shape, f32);
    return linalg::FillOp::create(b, loc, ValueRange{f32c(value)},
                                  ValueRange{empty})
        .getResult(0);
  }
  Value zeros(ArrayRef<int64_t> shape, double value = 0.0) {
    SmallVector<OpFoldResult> s;
    for (int64_t v : shape)
      s.push_back(b.getIndexAttr(v));
    return zeros(s, value);
  }
  Value generic(Value init, ValueRange ins, ArrayRef<AffineMap> maps,
                unsigned parallel, unsigned reductions, BodyFn body) {
    SmallVector<utils::IteratorType> it(parallel,
                                        utils::IteratorType::parallel);
    it.append(reductions, utils::IteratorType::reduction);
    return linalg::GenericOp::create(b, loc, init.getType(), ins,
                                     ValueRange{init}, maps, it, body)
        .getResult(0);
  }

  /// init + sum over the last (reduction) dimension of ins[0] * ins[1].
  Value contraction(Value init, ValueRange ins, ArrayRef<AffineMap> maps,
                    unsigned parallel,
                    arith::FastMathFlags fm = arith::FastMathFlags::none) {
    return generic(init, ins, maps, parallel, 1,
                   [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value p = arith::MulFOp::create(nb, nl, a[0], a[1], fm);
                     linalg::YieldOp::create(
                         nb, nl,
                         arith::AddFOp::create(nb, nl, a[2], p, fm).getResult());
                   });
  }

  Value view(const StoredTensor &t, Value base);
  Value linear(Value x, const LinearPlan &lin,
               const std::vector<StoredTensor> &block, Value base);
  Value rmsNorm(Value x, Value weight);
  Value rope(Value x, int64_t heads);
  Value attention(Value q, Value keys, Value values, Value length);
  Value embed(Value tokens);
  Value add(Value a, Value x);
  /// x [T, K] in the compute type: what the tensor-core kernels (skinny
  /// GEMV, mma / wgmma GEMM) take on CUDA. Converted once per value (q, k
  /// and v share theirs, gate and up theirs).
  Value toCompute(Value x);
  llvm::DenseMap<Value, Value> inComputeType;
  /// The quantized layers' compute type (options.computeType, validated
  /// by the driver).
  Type computeType() {
    return qnt::SchemeAttr::parseComputeType(ctx, options.computeType);
  }

  MLIRContext *ctx;
  OpBuilder b;
  Location loc;
  const LlamaConfig &c;
  const ModelPlan &plan;
  const CompileOptions &options;
  Type f32, f64, i8, idxType;
  // Per entry point.
  int64_t t = 1;
  Value weights, kCache, vCache, pos;
};

/// A stored tensor as a tensor value: a view of the weights at base +
/// its offset.
Value LlamaBuilder::view(const StoredTensor &st, Value base) {
  Type elt = st.type == runtime::ElementType::F32 ? f32 : i8;
  Value offset = arith::AddIOp::create(b, loc, base, idx(st.offset));
  Value v = memref::ViewOp::create(b, loc, MemRefType::get(st.shape, elt),
                                   weights, offset, ValueRange{});
  return bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get(st.shape, elt), v, /*restrict=*/true,
      /*writable=*/false);
}

/// x [T, K] W^T for W [N, K]: qnt.matmul, or a plain f32 contraction.
Value LlamaBuilder::linear(Value x, const LinearPlan &lin,
                           const std::vector<StoredTensor> &block,
                           Value base) {
  Value init = zeros({t, lin.n});
  if (!lin.scheme) {
    Value w = view(block[lin.parts[0]], base);
    // Loops n, t, k: each weight row is reused from cache by all tokens.
    return contraction(init, {x, w},
                       {map(3, {d(1), d(2)}), map(3, {d(0), d(2)}),
                        map(3, {d(1), d(0)})},
                       2,
                       arith::FastMathFlags::reassoc |
                           arith::FastMathFlags::contract);
  }
  auto scheme = qnt::SchemeAttr::fromNumerics(ctx, *lin.scheme, computeType());
  if (options.actInt8 && lin.scheme->kind == numerics::Kind::Int8 &&
      lin.scheme->symmetric)
    scheme = scheme.withActInt8(options.outlierThreshold);
  SmallVector<Value, 5> parts;
  for (size_t p : lin.parts)
    parts.push_back(view(block[p], base));
  Value zp, dqScales, dqOffset;
  size_t next = 2;
  if (!lin.scheme->symmetric && !numerics::isTableKind(lin.scheme->kind))
    zp = parts[next++];
  if (lin.scheme->doubleQuant) {
    dqScales = parts[next++];
    dqOffset = parts[next++];
  }
  // On CUDA a bf16 / f16 compute type takes activations of that type (the
  // tensor-core kernels' operands) and still gives f32 results; on the CPU
  // the kernels round f32 activations themselves.
  if (options.cuda && !computeType().isF32())
    x = toCompute(x);
  return qnt::MatmulOp::create(b, loc, init.getType(), scheme, x, parts[0],
                               parts[1], zp, dqScales, dqOffset, init);
}

Value LlamaBuilder::toCompute(Value x) {
  Value &converted = inComputeType[x];
  if (converted)
    return converted;
  auto type = llvm::cast<RankedTensorType>(x.getType());
  Type elt = computeType();
  AffineMap id = b.getMultiDimIdentityMap(2);
  converted = generic(
      tensor::EmptyOp::create(b, loc, type.getShape(), elt), {x}, {id, id}, 2,
      0, [&](OpBuilder &nb, Location nl, ValueRange v) {
        linalg::YieldOp::create(
            nb, nl, arith::TruncFOp::create(nb, nl, elt, v[0]).getResult());
      });
  return converted;
}

/// x / sqrt(mean(x^2) + eps) * weight over the last dimension.
Value LlamaBuilder::rmsNorm(Value x, Value weight) {
  int64_t dim = c.dim;
  Value ss = generic(zeros({t}), {x}, {map(2, {d(0), d(1)}), map(2, {d(0)})},
                     1, 1, [&](OpBuilder &nb, Location nl, ValueRange a) {
                       Value sq = arith::MulFOp::create(nb, nl, a[0], a[0]);
                       linalg::YieldOp::create(
                           nb, nl,
                           arith::AddFOp::create(nb, nl, a[1], sq).getResult());
                     });
  return generic(
      zeros({t, dim}), {x, ss, weight},
      {map(2, {d(0), d(1)}), map(2, {d(0)}), map(2, {d(1)}),
       map(2, {d(0), d(1)})},
      2, 0, [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value mean = arith::DivFOp::create(
            nb, nl, a[1],
            arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(dim)));
        Value eps = arith::ConstantOp::create(nb, nl,
                                              nb.getF32FloatAttr(c.rmsEps));
        Value root = math::SqrtOp::create(
            nb, nl, arith::AddFOp::create(nb, nl, mean, eps));
        Value scaled = arith::DivFOp::create(nb, nl, a[0], root);
        linalg::YieldOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, scaled, a[2]).getResult());
      });
}

/// Rotary embeddings of x [T, heads, D] at positions pos + t: each adjacent
/// pair (x[2i], x[2i+1]) turns by (pos + t) * base^(-2i/D) (angles in f64).
Value LlamaBuilder::rope(Value x, int64_t heads) {
  int64_t hd = c.headDim;
  auto type4 = RankedTensorType::get({t, heads, hd / 2, 2}, f32);
  SmallVector<ReassociationIndices> split = {{0}, {1}, {2, 3}};
  Value x4 = tensor::ExpandShapeOp::create(b, loc, type4, x, split);
  AffineExpr zero = getAffineConstantExpr(0, ctx),
             one = getAffineConstantExpr(1, ctx);
  double logBase = std::log(c.ropeBase);
  Value out = generic(
      zeros({t, heads, hd / 2, 2}), {x4, x4},
      {map(4, {d(0), d(1), d(2), zero}), map(4, {d(0), d(1), d(2), one}),
       map(4, {d(0), d(1), d(2), d(3)})},
      4, 0, [&](OpBuilder &nb, Location nl, ValueRange a) {
        auto index = [&](unsigned dim) {
          Value i = linalg::IndexOp::create(nb, nl, dim);
          return arith::IndexCastUIOp::create(nb, nl, nb.getI64Type(), i);
        };
        Value position = arith::UIToFPOp::create(
            nb, nl, f64,
            arith::AddIOp::create(
                nb, nl, index(0),
                arith::IndexCastUIOp::create(nb, nl, nb.getI64Type(), pos)));
        Value pair = arith::UIToFPOp::create(nb, nl, f64, index(2));
        // base^(-2i/D) = exp(i * (-2 ln(base) / D)).
        Value freq = math::ExpOp::create(
            nb, nl,
            arith::MulFOp::create(
                nb, nl, pair,
                arith::ConstantOp::create(
                    nb, nl, nb.getF64FloatAttr(-2.0 * logBase / hd))));
        Value angle = arith::MulFOp::create(nb, nl, position, freq);
        Value cs = arith::TruncFOp::create(
            nb, nl, f32, math::CosOp::create(nb, nl, angle));
        Value sn = arith::TruncFOp::create(
            nb, nl, f32, math::SinOp::create(nb, nl, angle));
        Value r0 = arith::SubFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, a[0], cs),
            arith::MulFOp::create(nb, nl, a[1], sn));
        Value r1 = arith::AddFOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, a[0], sn),
            arith::MulFOp::create(nb, nl, a[1], cs));
        Value first = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::eq,
            linalg::IndexOp::create(nb, nl, 3),
            arith::ConstantIndexOp::create(nb, nl, 0));
        linalg::YieldOp::create(
            nb, nl, arith::SelectOp::create(nb, nl, first, r0, r1).getResult());
      });
  return tensor::CollapseShapeOp::create(b, loc, x.getType(), out, split);
}

/// Grouped-query causal attention of q [T, H, D] over keys/values
/// [1, S, KV, D] (S = pos + T cache positions): [T, H, D].
Value LlamaBuilder::attention(Value q, Value keys, Value values,
                              Value length) {
  int64_t h = c.heads, hd = c.headDim, group = c.heads / c.kvHeads;
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  SmallVector<OpFoldResult> scoreShape = {b.getIndexAttr(h), b.getIndexAttr(t),
                                          length};
  // Both contractions may sum in any order (reassociation lets LLVM
  // vectorize their reductions), as the f32 linear layers do.
  auto fm = arith::FastMathFlags::reassoc | arith::FastMathFlags::contract;
  // scores[h, t, s] = q[t, h, :] . k[s, h / group, :]
  Value scores = contraction(
      zeros(scoreShape), {q, keys},
      {map(4, {d(1), d(0), d(3)}),
       map(4, {zero, d(2), d(0).floorDiv(group), d(3)}),
       map(4, {d(0), d(1), d(2)})},
      3, fm);
  // Scale and causal mask: position pos + t sees cache positions <= it.
  float scale = 1.0f / std::sqrt(float(hd));
  AffineMap id3 = b.getMultiDimIdentityMap(3);
  Value masked = generic(
      tensor::EmptyOp::create(b, loc, scoreShape, f32), {scores}, {id3, id3},
      3, 0, [&](OpBuilder &nb, Location nl, ValueRange a) {
        Value ti = linalg::IndexOp::create(nb, nl, 1);
        Value si = linalg::IndexOp::create(nb, nl, 2);
        Value last = arith::AddIOp::create(nb, nl, pos, ti);
        Value visible = arith::CmpIOp::create(
            nb, nl, arith::CmpIPredicate::ule, si, last);
        Value v = arith::MulFOp::create(
            nb, nl, a[0],
            arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(scale)));
        Value ninf = arith::ConstantOp::create(
            nb, nl,
            nb.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
        linalg::YieldOp::create(
            nb, nl,
            arith::SelectOp::create(nb, nl, visible, v, ninf).getResult());
      });
  // Softmax over s.
  AffineMap row = map(3, {d(0), d(1)});
  Value mx = generic(zeros({h, t}, -std::numeric_limits<double>::infinity()),
                     {masked}, {id3, row}, 2, 1,
                     [&](OpBuilder &nb, Location nl, ValueRange a) {
                       linalg::YieldOp::create(
                           nb, nl,
                           arith::MaximumFOp::create(nb, nl, a[0], a[1])
                               .getResult());
                     });
  Value e = generic(tensor::EmptyOp::create(b, loc, scoreShape, f32),
                    {masked, mx}, {id3, row, id3}, 3, 0,
                    [&](OpBuilder &nb, Location nl, ValueRange a) {
                      Value x = arith::SubFOp::create(nb, nl, a[0], a[1]);
                      linalg::YieldOp::create(
                          nb, nl, math::ExpOp::create(nb, nl, x).getResult());
                    });
  Value sum = generic(zeros({h, t}), {e}, {id3, row}, 2, 1,
                      [&](OpBuilder &nb, Location nl, ValueRange a) {
                        linalg::YieldOp::create(
                            nb, nl,
                            arith::AddFOp::create(nb, nl, a[0], a[1])
                                .getResult());
                      });
  // out[t, h, :] = sum_s e[h, t, s] v[s, h / group, :] / sum[h, t]. On the
  // CPU the values are transposed to [KV, D, S] first so that the sum over
  // s reads both operands contiguously (vectorizable); on the GPU
  // neighbouring threads (over :) already read neighbouring values.
  AffineMap valueMap = map(4, {zero, d(3), d(1).floorDiv(group), d(2)});
  if (!options.cuda) {
    SmallVector<OpFoldResult> vtShape = {b.getIndexAttr(c.kvHeads),
                                         b.getIndexAttr(hd), length};
    values = generic(tensor::EmptyOp::create(b, loc, vtShape, f32), {values},
                     {map(3, {zero, d(2), d(0), d(1)}), id3}, 3, 0,
                     [&](OpBuilder &nb, Location nl, ValueRange a) {
                       linalg::YieldOp::create(nb, nl, a[0]);
                     });
    valueMap = map(4, {d(1).floorDiv(group), d(2), d(3)});
  }
  Value weighted = contraction(
      zeros({t, h, hd}), {e, values},
      {map(4, {d(1), d(0), d(3)}), valueMap, map(4, {d(0), d(1), d(2)})}, 3,
      fm);
  return generic(tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{t, h, hd},
                                         f32),
                 {weighted, sum}, {id3, map(3, {d(1), d(0)}), id3}, 3, 0,
                 [&](OpBuilder &nb, Location nl, ValueRange a) {
                   linalg::YieldOp::create(
                       nb, nl,
                       arith::DivFOp::create(nb, nl, a[0], a[1]).getResult());
                 });
}

Value LlamaBuilder::add(Value a, Value x) {
  AffineMap id = b.getMultiDimIdentityMap(2);
  return generic(tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{t, c.dim},
                                         f32),
                 {a, x}, {id, id, id}, 2, 0,
                 [&](OpBuilder &nb, Location nl, ValueRange v) {
                   linalg::YieldOp::create(
                       nb, nl, arith::AddFOp::create(nb, nl, v[0], v[1])
                                   .getResult());
                 });
}

/// The embedding rows of the tokens [T] (ids clamped to the vocabulary):
/// gathered f32 rows, or gathered code/scale rows dequantized.
Value LlamaBuilder::embed(Value tokens) {
  const LinearPlan &emb = plan.embedding;
  Value base = idx(0);
  auto gather = [&](const StoredTensor &st) -> Value {
    Value table = view(st, base);
    auto type = llvm::cast<RankedTensorType>(table.getType());
    int64_t cols = type.getDimSize(1);
    Value init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{t, cols},
                                         type.getElementType());
    return generic(init, {tokens}, {map(2, {d(0)}), map(2, {d(0), d(1)})}, 2,
                   0, [&](OpBuilder &nb, Location nl, ValueRange a) {
                     Value id = arith::IndexCastOp::create(nb, nl, idxType,
                                                           a[0]);
                     Value row = arith::MinUIOp::create(
                         nb, nl, id,
                         arith::ConstantIndexOp::create(nb, nl, c.vocab - 1));
                     Value col = linalg::IndexOp::create(nb, nl, 1);
                     linalg::YieldOp::create(
                         nb, nl,
                         tensor::ExtractOp::create(nb, nl, table,
                                                   ValueRange{row, col})
                             .getResult());
                   });
  };
  if (!emb.scheme)
    return gather(plan.globals[emb.parts[0]]);
  SmallVector<Value, 3> rows;
  for (size_t p : emb.parts)
    rows.push_back(gather(plan.globals[p]));
  auto scheme = qnt::SchemeAttr::fromNumerics(ctx, *emb.scheme, f32);
  return qnt::DequantizeOp::create(
      b, loc, RankedTensorType::get({t, c.dim}, f32), scheme, rows[0], rows[1],
      rows.size() > 2 ? rows[2] : Value(), Value(), Value());
}

/// One transformer block on h [T, dim]; writes this layer's keys and values
/// at positions pos .. pos + T - 1 of the caches.
Value LlamaBuilder::layer(Value h, Value l) {
  Value base = arith::AddIOp::create(
      b, loc, idx(plan.layerBase),
      arith::MulIOp::create(b, loc, l, idx(plan.layerStride)));
  const auto &blk = plan.layerTensors;
  int64_t hd = c.headDim, kv = c.kvHeads;

  Value x = rmsNorm(h, view(blk[plan.attnNorm], base));
  auto heads3 = [&](Value v, int64_t heads) -> Value {
    return tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({t, heads, hd}, f32), v,
        SmallVector<ReassociationIndices>{{0}, {1, 2}});
  };
  Value q = rope(heads3(linear(x, plan.q, blk, base), c.heads), c.heads);
  Value k = rope(heads3(linear(x, plan.k, blk, base), kv), kv);
  Value v = heads3(linear(x, plan.v, blk, base), kv);

  // Store this step's keys and values, then read positions [0, pos + T).
  auto cacheSlice = [&](Value cache, Value start, OpFoldResult len) {
    SmallVector<OpFoldResult> offsets = {l, start, b.getIndexAttr(0),
                                         b.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), len,
                                       b.getIndexAttr(kv),
                                       b.getIndexAttr(hd)};
    SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
    return memref::SubViewOp::create(b, loc, cache, offsets, sizes, strides);
  };
  auto store = [&](Value cache, Value value) {
    Value v4 = tensor::ExpandShapeOp::create(
        b, loc, RankedTensorType::get({1, t, kv, hd}, f32), value,
        SmallVector<ReassociationIndices>{{0, 1}, {2}, {3}});
    auto op = bufferization::MaterializeInDestinationOp::create(
        b, loc, v4, cacheSlice(cache, pos, b.getIndexAttr(t)));
    op.setRestrict(true);
    op.setWritable(true);
  };
  store(kCache, k);
  store(vCache, v);
  Value length = arith::AddIOp::create(b, loc, pos, idx(t));
  auto load = [&](Value cache) -> Value {
    Value slice = cacheSlice(cache, idx(0), length);
    auto type = RankedTensorType::get({1, ShapedType::kDynamic, kv, hd}, f32);
    return bufferization::ToTensorOp::create(b, loc, type, slice,
                                             /*restrict=*/true,
                                             /*writable=*/false);
  };
  Value attn = attention(q, load(kCache), load(vCache), length);
  Value flat = tensor::CollapseShapeOp::create(
      b, loc, RankedTensorType::get({t, c.dim}, f32), attn,
      SmallVector<ReassociationIndices>{{0}, {1, 2}});
  h = add(h, linear(flat, plan.o, blk, base));

  Value x2 = rmsNorm(h, view(blk[plan.ffnNorm], base));
  Value gate = linear(x2, plan.gate, blk, base);
  Value up = linear(x2, plan.up, blk, base);
  AffineMap id = b.getMultiDimIdentityMap(2);
  Value act = generic(
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{t, c.ffn}, f32),
      {gate, up}, {id, id, id}, 2, 0,
      [&](OpBuilder &nb, Location nl, ValueRange a) {
        // silu(g) * u = g / (1 + exp(-g)) * u
        Value neg = arith::NegFOp::create(nb, nl, a[0]);
        Value den = arith::AddFOp::create(
            nb, nl, math::ExpOp::create(nb, nl, neg),
            arith::ConstantOp::create(nb, nl, nb.getF32FloatAttr(1.0f)));
        Value silu = arith::DivFOp::create(nb, nl, a[0], den);
        linalg::YieldOp::create(
            nb, nl, arith::MulFOp::create(nb, nl, silu, a[1]).getResult());
      });
  return add(h, linear(act, plan.down, blk, base));
}

void LlamaBuilder::buildEntry(ModuleOp module, StringRef name, int64_t tokens) {
  t = tokens;
  int64_t kv = c.kvHeads, hd = c.headDim;
  auto cacheType =
      MemRefType::get({c.layers, options.maxContext, kv, hd}, f32);
  SmallVector<Type> args = {
      MemRefType::get({ShapedType::kDynamic}, i8), cacheType, cacheType,
      MemRefType::get({t}, b.getI32Type()), b.getI64Type(),
      MemRefType::get({t, c.vocab}, f32)};
  b.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(b, loc, name, b.getFunctionType(args, {}));
  func->setAttr("llvm.emit_c_interface", b.getUnitAttr());
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  weights = entry->getArgument(0);
  kCache = entry->getArgument(1);
  vCache = entry->getArgument(2);
  pos = arith::IndexCastUIOp::create(b, loc, idxType, entry->getArgument(4));
  Value tokenIds = bufferization::ToTensorOp::create(
      b, loc, RankedTensorType::get({t}, b.getI32Type()), entry->getArgument(3),
      /*restrict=*/true, /*writable=*/false);

  Value h0 = embed(tokenIds);
  auto loop = scf::ForOp::create(
      b, loc, idx(0), idx(c.layers), idx(1), ValueRange{h0},
      [&](OpBuilder &nb, Location nl, Value l, ValueRange iter) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToEnd(nb.getInsertionBlock());
        scf::YieldOp::create(b, loc, layer(iter[0], l));
      });
  Value hn = rmsNorm(loop.getResult(0),
                     view(plan.globals[plan.outputNorm], idx(0)));
  Value logits = linear(hn, plan.head, plan.globals, idx(0));
  auto out = bufferization::MaterializeInDestinationOp::create(
      b, loc, logits, entry->getArgument(5));
  out.setRestrict(true);
  out.setWritable(true);
  func::ReturnOp::create(b, loc);
}

OwningOpRef<ModuleOp> LlamaBuilder::build() {
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  buildEntry(*module, "qmlir_prefill", options.prefillChunk);
  buildEntry(*module, "qmlir_decode", 1);

  // What the runtime checks before calling the entry points.
  using namespace runtime;
  int64_t info[kInfoCount] = {};
  info[kInfoVersion] = kModelInfoVersion;
  info[kInfoLayers] = c.layers;
  info[kInfoDim] = c.dim;
  info[kInfoHeads] = c.heads;
  info[kInfoKvHeads] = c.kvHeads;
  info[kInfoHeadDim] = c.headDim;
  info[kInfoVocab] = c.vocab;
  info[kInfoMaxContext] = options.maxContext;
  info[kInfoPrefillChunk] = options.prefillChunk;
  info[kInfoLayoutHash] = int64_t(plan.layoutHash);
  info[kInfoMemory] = options.cuda ? kCudaMemory : kHostMemory;
  info[kInfoWeightsBytes] = int64_t(plan.totalBytes);
  b.setInsertionPointToEnd(module->getBody());
  auto arrayType = LLVM::LLVMArrayType::get(b.getI64Type(), kInfoCount);
  LLVM::GlobalOp::create(
      b, loc, arrayType, /*isConstant=*/true, LLVM::Linkage::External,
      "qmlir_model_info",
      DenseElementsAttr::get(
          RankedTensorType::get({kInfoCount}, b.getI64Type()),
          ArrayRef<int64_t>(info, kInfoCount)));
  return module;
}

} // namespace

OwningOpRef<ModuleOp> model::buildLlamaModule(MLIRContext *context,
                                              const LlamaConfig &config,
                                              const ModelPlan &plan,
                                              const CompileOptions &options) {
  return LlamaBuilder(context, config, plan, options).build();
}
