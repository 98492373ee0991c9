#!/usr/bin/env python3
"""Checks a compiled model (quant-compile output) against the numpy references.

1. Weights (quantized schemes): every linear layer's weights in the model's
   weights.bin, dequantized here with the formulas of Quantize.h, lie within
   the bounds that the independent numpy quantizer (qref.py) gives for that
   scheme applied to the GGUF's weights (qref's [lo, hi]: either rounding at
   an exact tie, a few ulps of float32 arithmetic). The token embedding (also
   the tied output head) uses the scheme without double quantization, as
   quant-compile does (it gathers rows).
2. Logits: the float64 numpy Llama (llama_ref.py) run on those dequantized
   weights (on the GGUF's weights for f32) and the compiled model's logits
   (quant-run --ids ... --logits FILE, raw float32 [T, vocab]) agree within
   --tol max abs (and --mean-tol mean abs) and on every argmax.
   --compute-type bf16/f16: the reference
   rounds the operands of every linear layer and of the head to it, as a
   model compiled with that compute type does.

  compare_model.py --gguf M.gguf --model OUTDIR --ids 1,2,3 \
      --logits out.bin --scheme nf4 --double-quant --tol 1e-3
"""
import argparse
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref  # noqa: E402
import qref  # noqa: E402

F32 = np.float32


def read_weights(path):
    """The tensors of a weights.bin (format: include/qmlir/Runtime/WeightsFile.h)."""
    data = open(path, "rb").read()
    magic, version, count, doff, dbytes, toff, tbytes, _, _ = struct.unpack_from(
        "<8sIIQQQQQQ", data, 0)
    if magic != b"QMLWGT01" or version != 1:
        raise ValueError(f"{path}: not a version 1 weights file")
    p, tensors = toff, {}
    for _ in range(count):
        (nlen,) = struct.unpack_from("<I", data, p)
        name = data[p + 4:p + 4 + nlen].decode()
        p += 4 + nlen
        etype, rank = struct.unpack_from("<II", data, p)
        p += 8
        dims = struct.unpack_from(f"<{rank}q", data, p)
        p += 8 * rank
        off, nbytes, _ = struct.unpack_from("<QQQ", data, p)
        p += 24
        dt = {0: np.float32, 1: np.int8, 2: np.uint8}[etype]
        tensors[name] = np.frombuffer(data, dtype=dt, offset=doff + off,
                                      count=nbytes // np.dtype(dt).itemsize
                                      ).reshape(dims)
    return tensors


def dequantize(t, name, scheme, n, k):
    """The [N, K] float32 weight of a stored linear layer."""
    raw = t[name + ".codes"].view(np.uint8)
    if scheme.kind == "int8":
        codes = t[name + ".codes"].astype(np.int64) if scheme.symmetric \
            else raw.astype(np.int64)
    else:
        nib = np.empty((n, raw.shape[1] * 2), dtype=np.int64)
        nib[:, 0::2] = raw >> 4          # element 2i: the high nibble
        nib[:, 1::2] = raw & 0x0F
        codes = nib[:, :k]
        if scheme.kind == "int4" and scheme.symmetric:
            codes = np.where(codes >= 8, codes - 16, codes)
    g = qref.num_groups(k, scheme.group_size)
    gs = scheme.group_size if scheme.group_size > 0 else k
    if scheme.double_quant:
        sc = t[name + ".scales"].view(np.uint8).astype(np.int64).reshape(-1)
        blocks = t[name + ".dq_scales"]
        offset = F32(t[name + ".dq_offset"].reshape(()))
        dyn = np.asarray(qref.dynamic_map(), dtype=F32)
        scales = ((dyn[sc] * blocks[np.arange(sc.size) // 256]).astype(F32)
                  + offset).astype(F32).reshape(n, g)
    else:
        scales = t[name + ".scales"].reshape(n, g)
    scol = np.repeat(scales, gs, axis=1)[:, :k]
    if scheme.kind in ("nf4", "fp4"):
        table = np.asarray(qref.table_for(scheme.kind), dtype=F32)
        return (table[codes] * scol).astype(F32)
    zp = 0
    if not scheme.symmetric:
        zp = np.repeat(t[name + ".zero_points"].view(np.uint8).astype(np.int64),
                       gs, axis=1)[:, :k]
    return ((codes - zp).astype(F32) * scol).astype(F32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--model", required=True, help="quant-compile OUTDIR")
    ap.add_argument("--ids", required=True)
    ap.add_argument("--logits", required=True)
    ap.add_argument("--scheme", default="f32")
    ap.add_argument("--group-size", type=int, default=-1)
    ap.add_argument("--asymmetric", action="store_true")
    ap.add_argument("--double-quant", action="store_true")
    ap.add_argument("--compute-type", default=None, choices=["f32", "bf16", "f16"],
                    help="the quantized layers' compute type (round their operands as the model does)")
    ap.add_argument("--act-int8", action="store_true",
                    help="W8A8: the int8 layers quantize their activations per row")
    ap.add_argument("--outlier-threshold", type=float, default=0.0)
    ap.add_argument("--tol", type=float, default=1e-3)
    ap.add_argument("--mean-tol", type=float, default=None,
                    help="also a bound on the mean |difference| (bf16/f16 compute: rounding flips "
                         "make single logits jump, the mean stays small)")
    a = ap.parse_args()

    ids = [int(t) for t in a.ids.split(",")]
    cfg, weights = llama_ref.load_gguf_llama(a.gguf)
    if a.scheme != "f32":
        group = a.group_size
        if group < 0:
            group = 0 if a.scheme == "int8" else 64
        scheme = qref.Scheme(a.scheme, symmetric=not a.asymmetric,
                             group_size=group, double_quant=a.double_quant)
        embedding = qref.Scheme(a.scheme, symmetric=not a.asymmetric,
                                group_size=group, double_quant=False)
        stored = read_weights(os.path.join(a.model, "weights.bin"))
        overrides, ties = {}, 0
        names = llama_ref.linear_weight_names(cfg) + ["token_embd.weight"]
        for name in names:
            s = embedding if name == "token_embd.weight" else scheme
            w = weights[name]
            ours = dequantize(stored, name, s, *w.shape)
            q = qref.quantize(s, w)
            bad = (ours < q.lo) | (ours > q.hi)
            if bad.any():
                i = np.unravel_index(np.argmax(bad), bad.shape)
                print(f"FAIL: {name}{list(i)} = {ours[i]!r}, outside the "
                      f"reference bounds [{q.lo[i]!r}, {q.hi[i]!r}] "
                      f"(weight {w[i]!r})")
                return 1
            ties += int((ours != q.deq).sum())
            overrides[name] = ours
        print(f"weights: {len(names)} tensors within the reference bounds "
              f"({ties} values at a rounding tie took the other neighbour)")
        weights = llama_ref.apply_overrides(cfg, weights, overrides)
    compute = ("int8", a.outlier_threshold) if a.act_int8 else a.compute_type
    ref, _ = llama_ref.forward(cfg, llama_ref.cast_weights(weights), ids,
                               compute=compute)

    got = np.fromfile(a.logits, dtype=np.float32)
    if got.size != ref.size:
        print(f"FAIL: {got.size} logits, expected {ref.size}")
        return 1
    got = got.reshape(ref.shape)
    d = np.abs(got.astype(np.float64) - ref)
    diff, mean = d.max(), d.mean()
    same = bool((got.argmax(1) == ref.argmax(1)).all())
    mean_ok = a.mean_tol is None or mean <= a.mean_tol
    print(f"logits: {len(ids)} tokens, max |compiled - reference| = "
          f"{diff:.3g} (tolerance {a.tol:g}), mean {mean:.3g}"
          + (f" (tolerance {a.mean_tol:g})" if a.mean_tol is not None else "")
          + f", argmax equal: {same}")
    if not np.isfinite(diff) or diff > a.tol or not mean_ok or not same:
        print("FAIL")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
