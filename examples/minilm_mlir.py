#!/usr/bin/env python3
"""Writes all-MiniLM-L6-v2's encoder as a generic MLIR module (linalg on
tensors, constant weights), for quant-compile:

  func.func @encode(%emb: tensor<TxDxf32>, %mask: tensor<Txf32>) -> tensor<Dxf32>

emb: the word-embedding rows of the (padded) token ids; mask: 1 for tokens,
0 for padding. The module adds the position and token-type embeddings, runs
the embedding LayerNorm, the 6 transformer layers (attention with the mask,
exact-erf GELU) and returns the mean-pooled, L2-normalized sentence
embedding. The 36 Linear weights are `linalg.matmul` with constant [in, out]
weights at locations `L<i>.<name>` (what qnt-quantize-linear quantizes and
--keep-float matches).

  minilm_mlir.py MODEL_DIR OUT.mlir [--tokens 64]
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "test", "reference"))
import bert_ref  # noqa: E402


def hexdense(a):
    return 'dense<"0x' + np.ascontiguousarray(a, dtype="<f4").tobytes().hex().upper() + '">'


def tt(*shape):
    return "tensor<" + "".join(f"{d}x" for d in shape) + "f32>"


class Emitter:
    def __init__(self):
        self.lines, self.n = [], 0

    def v(self):
        self.n += 1
        return f"%v{self.n}"

    def op(self, text):
        self.lines.append("  " + text)

    def const(self, array):
        r = self.v()
        self.op(f"{r} = arith.constant {hexdense(array)} : {tt(*array.shape)}")
        return r

    def scalar(self, value):
        r = self.v()
        self.op(f"{r} = arith.constant {float(value):.9e} : f32")
        return r

    def empty(self, *shape):
        r = self.v()
        self.op(f"{r} = tensor.empty() : {tt(*shape)}")
        return r

    def generic(self, ins, out, maps, iters, body, out_shape):
        """A linalg.generic; `body(args)` returns (lines, yielded value)."""
        r = self.v()
        args = [f"%x{i}" for i in range(len(ins) + 1)]
        ins_text = ", ".join(i for i, _ in ins)
        ins_types = ", ".join(t for _, t in ins)
        amaps = ", ".join(f"affine_map<{m}>" for m in maps)
        its = ", ".join(f'"{i}"' for i in iters)
        head = (f"{r} = linalg.generic {{indexing_maps = [{amaps}], iterator_types = [{its}]}} "
                + (f"ins({ins_text} : {ins_types}) " if ins else "")
                + f"outs({out[0]} : {out[1]}) {{")
        self.op(head)
        self.op("^bb0(" + ", ".join(f"{a}: f32" for a in args) + "):")
        lines, result = body(args)
        for line in lines:
            self.op("  " + line)
        self.op(f"  linalg.yield {result} : f32")
        self.op(f"}} -> {out_shape}")
        return r

    def fill(self, value, *shape):
        e = self.empty(*shape)
        c = self.scalar(value)
        r = self.v()
        self.op(f"{r} = linalg.fill ins({c} : f32) outs({e} : {tt(*shape)}) -> {tt(*shape)}")
        return r

    # -- building blocks ---------------------------------------------------
    def linear(self, x, t, w, b, loc):
        """x [t, in] @ W^T + b with W [out, in] (stored [in, out])."""
        out_dim, in_dim = w.shape
        wt = self.const(w.T)
        bias = self.const(b)
        init = self.generic([(bias, tt(out_dim))], (self.empty(t, out_dim), tt(t, out_dim)),
                            ["(i, j) -> (j)", "(i, j) -> (i, j)"], ["parallel", "parallel"],
                            lambda a: ([], a[0]), tt(t, out_dim))
        r = self.v()
        self.op(f"{r} = linalg.matmul ins({x}, {wt} : {tt(t, in_dim)}, {tt(in_dim, out_dim)}) "
                f"outs({init} : {tt(t, out_dim)}) -> {tt(t, out_dim)} loc(\"{loc}\")")
        return r

    def row_reduce(self, x, t, d, body, init=0.0):
        """[t, d] -> [t]: acc = body(x, acc)."""
        acc = self.fill(init, t)
        return self.generic([(x, tt(t, d))], (acc, tt(t)), ["(i, j) -> (i, j)", "(i, j) -> (i)"],
                            ["parallel", "reduction"], body, tt(t))

    def layer_norm(self, x, t, d, w, b, eps):
        s = self.row_reduce(x, t, d, lambda a: ([f"%s = arith.addf {a[0]}, {a[1]} : f32"], "%s"))
        inv_d = self.scalar(1.0 / d)
        mean = self.generic([(s, tt(t))], (self.empty(t), tt(t)), ["(i) -> (i)", "(i) -> (i)"],
                            ["parallel"], lambda a: ([f"%m = arith.mulf {a[0]}, {inv_d} : f32"], "%m"),
                            tt(t))
        cen = self.generic([(x, tt(t, d)), (mean, tt(t))], (self.empty(t, d), tt(t, d)),
                           ["(i, j) -> (i, j)", "(i, j) -> (i)", "(i, j) -> (i, j)"],
                           ["parallel", "parallel"],
                           lambda a: ([f"%c = arith.subf {a[0]}, {a[1]} : f32"], "%c"), tt(t, d))
        sq = self.row_reduce(cen, t, d, lambda a: ([f"%q = arith.mulf {a[0]}, {a[0]} : f32",
                                                    f"%s = arith.addf %q, {a[1]} : f32"], "%s"))
        epsv = self.scalar(eps)
        wv, bv = self.const(w), self.const(b)
        return self.generic(
            [(cen, tt(t, d)), (sq, tt(t)), (wv, tt(d)), (bv, tt(d))], (self.empty(t, d), tt(t, d)),
            ["(i, j) -> (i, j)", "(i, j) -> (i)", "(i, j) -> (j)", "(i, j) -> (j)", "(i, j) -> (i, j)"],
            ["parallel", "parallel"],
            lambda a: ([f"%var = arith.mulf {a[1]}, {inv_d} : f32",
                        f"%ve = arith.addf %var, {epsv} : f32",
                        "%r = math.rsqrt %ve : f32",
                        f"%n = arith.mulf {a[0]}, %r : f32",
                        f"%g = arith.mulf %n, {a[2]} : f32",
                        f"%o = arith.addf %g, {a[3]} : f32"], "%o"), tt(t, d))

    def add(self, x, y, *shape):
        ident = "(" + ", ".join("ijk"[:len(shape)]) + ") -> (" + ", ".join("ijk"[:len(shape)]) + ")"
        return self.generic([(x, tt(*shape)), (y, tt(*shape))], (self.empty(*shape), tt(*shape)),
                            [ident] * 3, ["parallel"] * len(shape),
                            lambda a: ([f"%s = arith.addf {a[0]}, {a[1]} : f32"], "%s"), tt(*shape))


def emit(cfg, weights, t):
    d = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    hd = d // heads
    ff = cfg["intermediate_size"]
    eps = cfg["layer_norm_eps"]
    e = Emitter()
    W = weights

    # Position + token-type embeddings, then LayerNorm.
    extra = W["embeddings.position_embeddings.weight"][:t] + W["embeddings.token_type_embeddings.weight"][0]
    x = e.add("%emb", e.const(extra.astype(np.float32)), t, d)
    x = e.layer_norm(x, t, d, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    # The attention bias of the keys: 0 for tokens, -1e9 for padding.
    neg = e.scalar(-1e9)
    one = e.scalar(1.0)
    key_bias = e.generic([("%mask", tt(t))], (e.empty(t), tt(t)), ["(i) -> (i)", "(i) -> (i)"],
                         ["parallel"], lambda a: ([f"%p = arith.subf {one}, {a[0]} : f32",
                                                   f"%b = arith.mulf %p, {neg} : f32"], "%b"), tt(t))
    scale = e.scalar(1.0 / np.sqrt(hd))
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."

        def lin(v, name, rows):
            return e.linear(v, rows, W[p + name + ".weight"], W[p + name + ".bias"], f"L{i}.{name}")
        q, k, v = (lin(x, n, t) for n in ("attention.self.query", "attention.self.key",
                                         "attention.self.value"))
        # scores[h, s1, s2] = q[s1, h*hd + c] . k[s2, h*hd + c] / sqrt(hd) + key_bias[s2]
        q3, k3, v3 = [], [], []
        for src, dst in ((q, q3), (k, k3), (v, v3)):
            r = e.v()
            e.op(f"{r} = tensor.expand_shape {src} [[0], [1, 2]] output_shape [{t}, {heads}, {hd}] "
                 f": {tt(t, d)} into {tt(t, heads, hd)}")
            dst.append(r)
        sc0 = e.fill(0.0, heads, t, t)
        scores = e.generic([(q3[0], tt(t, heads, hd)), (k3[0], tt(t, heads, hd))], (sc0, tt(heads, t, t)),
                           ["(h, a, b, c) -> (a, h, c)", "(h, a, b, c) -> (b, h, c)", "(h, a, b, c) -> (h, a, b)"],
                           ["parallel", "parallel", "parallel", "reduction"],
                           lambda a: ([f"%m = arith.mulf {a[0]}, {a[1]} : f32",
                                       f"%s = arith.addf %m, {a[2]} : f32"], "%s"), tt(heads, t, t))
        scores = e.generic([(scores, tt(heads, t, t)), (key_bias, tt(t))], (e.empty(heads, t, t), tt(heads, t, t)),
                           ["(h, a, b) -> (h, a, b)", "(h, a, b) -> (b)", "(h, a, b) -> (h, a, b)"],
                           ["parallel"] * 3,
                           lambda a: ([f"%m = arith.mulf {a[0]}, {scale} : f32",
                                       f"%s = arith.addf %m, {a[1]} : f32"], "%s"), tt(heads, t, t))
        mx0 = e.fill(-3.0e38, heads, t)
        mx = e.generic([(scores, tt(heads, t, t))], (mx0, tt(heads, t)),
                       ["(h, a, b) -> (h, a, b)", "(h, a, b) -> (h, a)"], ["parallel", "parallel", "reduction"],
                       lambda a: ([f"%m = arith.maximumf {a[0]}, {a[1]} : f32"], "%m"), tt(heads, t))
        ex = e.generic([(scores, tt(heads, t, t)), (mx, tt(heads, t))], (e.empty(heads, t, t), tt(heads, t, t)),
                       ["(h, a, b) -> (h, a, b)", "(h, a, b) -> (h, a)", "(h, a, b) -> (h, a, b)"],
                       ["parallel"] * 3,
                       lambda a: ([f"%d = arith.subf {a[0]}, {a[1]} : f32", "%x = math.exp %d : f32"], "%x"),
                       tt(heads, t, t))
        sm0 = e.fill(0.0, heads, t)
        sm = e.generic([(ex, tt(heads, t, t))], (sm0, tt(heads, t)),
                       ["(h, a, b) -> (h, a, b)", "(h, a, b) -> (h, a)"], ["parallel", "parallel", "reduction"],
                       lambda a: ([f"%s = arith.addf {a[0]}, {a[1]} : f32"], "%s"), tt(heads, t))
        ctx0 = e.fill(0.0, t, heads, hd)
        ctx = e.generic([(ex, tt(heads, t, t)), (v3[0], tt(t, heads, hd)), (sm, tt(heads, t))], (ctx0, tt(t, heads, hd)),
                        ["(a, h, c, b) -> (h, a, b)", "(a, h, c, b) -> (b, h, c)", "(a, h, c, b) -> (h, a)",
                         "(a, h, c, b) -> (a, h, c)"],
                        ["parallel", "parallel", "parallel", "reduction"],
                        lambda a: ([f"%p = arith.divf {a[0]}, {a[2]} : f32",
                                    f"%m = arith.mulf %p, {a[1]} : f32",
                                    f"%s = arith.addf %m, {a[3]} : f32"], "%s"), tt(t, heads, hd))
        c2 = e.v()
        e.op(f"{c2} = tensor.collapse_shape {ctx} [[0], [1, 2]] : {tt(t, heads, hd)} into {tt(t, d)}")
        o = lin(c2, "attention.output.dense", t)
        x = e.layer_norm(e.add(x, o, t, d), t, d, W[p + "attention.output.LayerNorm.weight"],
                         W[p + "attention.output.LayerNorm.bias"], eps)
        h = lin(x, "intermediate.dense", t)
        half, rsqrt2 = e.scalar(0.5), e.scalar(1.0 / np.sqrt(2.0))
        h = e.generic([(h, tt(t, ff))], (e.empty(t, ff), tt(t, ff)),
                      ["(i, j) -> (i, j)", "(i, j) -> (i, j)"], ["parallel", "parallel"],
                      lambda a: ([f"%s = arith.mulf {a[0]}, {rsqrt2} : f32", "%e = math.erf %s : f32",
                                  f"%p = arith.addf %e, {one} : f32", f"%h = arith.mulf {a[0]}, {half} : f32",
                                  "%g = arith.mulf %h, %p : f32"], "%g"), tt(t, ff))
        o = lin(h, "output.dense", t)
        x = e.layer_norm(e.add(x, o, t, d), t, d, W[p + "output.LayerNorm.weight"],
                         W[p + "output.LayerNorm.bias"], eps)

    # Mean over the tokens (mask), then L2 normalization.
    pooled0 = e.fill(0.0, d)
    pooled = e.generic([(x, tt(t, d)), ("%mask", tt(t))], (pooled0, tt(d)),
                       ["(j, i) -> (i, j)", "(j, i) -> (i)", "(j, i) -> (j)"], ["parallel", "reduction"],
                       lambda a: ([f"%m = arith.mulf {a[0]}, {a[1]} : f32",
                                   f"%s = arith.addf %m, {a[2]} : f32"], "%s"), tt(d))
    nrm0 = e.fill(0.0)
    r = e.v()
    e.op(f"{r} = linalg.generic {{indexing_maps = [affine_map<(j) -> (j)>, affine_map<(j) -> ()>], "
         f"iterator_types = [\"reduction\"]}} ins({pooled} : {tt(d)}) outs({nrm0} : tensor<f32>) {{")
    e.op("^bb0(%x0: f32, %x1: f32):")
    e.op("  %q = arith.mulf %x0, %x0 : f32")
    e.op("  %s = arith.addf %q, %x1 : f32")
    e.op("  linalg.yield %s : f32")
    e.op("} -> tensor<f32>")
    out = e.generic([(pooled, tt(d)), (r, "tensor<f32>")], (e.empty(d), tt(d)),
                    ["(j) -> (j)", "(j) -> ()", "(j) -> (j)"], ["parallel"],
                    lambda a: (["%r = math.rsqrt " + a[1] + " : f32",
                                f"%n = arith.mulf {a[0]}, %r : f32"], "%n"), tt(d))
    head = (f"// Generated by examples/minilm_mlir.py: the all-MiniLM-L6-v2 encoder ({t} tokens).\n"
            f"func.func @encode(%emb: {tt(t, d)}, %mask: {tt(t)}) -> {tt(d)} {{")
    return head + "\n" + "\n".join(e.lines) + f"\n  return {out} : {tt(d)}\n}}\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--tokens", type=int, default=64)
    a = ap.parse_args()
    cfg, weights = bert_ref.load(a.model)
    text = emit(cfg, weights, a.tokens)
    with open(a.out + ".part", "w") as f:
        f.write(text)
    os.replace(a.out + ".part", a.out)


if __name__ == "__main__":
    main()
