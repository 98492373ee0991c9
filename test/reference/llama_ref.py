#!/usr/bin/env python3
"""Independent numpy reference of the Llama forward pass over a GGUF file.

Purpose
-------
A slow but trustworthy model of what quant-mlir's compiled Llama must compute,
written from the published model definition (HF transformers' Llama / the
llama.cpp graph) and never from the C++ in lib/.  It reads the GGUF with the
`gguf` Python package (whose dequantization is bit-exact with ggml's),
evaluates the network with numpy, and can
  * print or save the logits of a token sequence,
  * generate greedily (with a KV cache),
  * measure perplexity with llama.cpp's `perplexity` conventions,
  * run the network on *other* linear-layer weights (e.g. a scheme's
    dequantized matrices) through `apply_overrides` / `forward(overrides=...)`.

Dependencies: numpy and gguf (plus HF `tokenizers` only for text <-> ids).

Conventions
-----------
Weights.  `load_gguf_llama` returns every tensor under its GGUF name
(`token_embd.weight`, `blk.{i}.attn_q.weight`, `attn_k`, `attn_v`,
`attn_output`, `attn_norm`, `ffn_gate`, `ffn_up`, `ffn_down`, `ffn_norm`,
`output_norm.weight`, and `output.weight` when the file has one) as a float32
array in the usual row-major [out_features, in_features] layout: ggml lists
dimensions fastest-first (ne[0] = in_features), so a GGUF tensor of ggml shape
[576, 1536] is the [1536, 576] matrix here.  `token_embd.weight` is
[vocab, d_model]; a linear layer computes y = x @ W.T.  Without
`output.weight` (tied embeddings, as in SmolLM2) the output head is
`token_embd.weight`.

RoPE.  llama.cpp's convert_hf_to_gguf.py permutes the rows of HF Llama's
q_proj / k_proj so that ggml's "normal" RoPE (LLAMA_ROPE_TYPE_NORM), which
rotates ADJACENT pairs (x[2i], x[2i+1]) of each head by
theta_i = pos * base^(-2i/rope_dim), reproduces HF's rotate_half (pairs
(x[i], x[i + d/2])).  So over GGUF weights the default is
`rope_type="norm"` (adjacent pairs); `rope_type="neox"` (halves) is kept for
experiments and for HF-layout weights.  `selftest` checks that "neox" on the
un-permuted weights equals "norm" on the GGUF weights, and the real model
only produces sensible text / low perplexity with "norm" (see the verification
notes below).  Angles are computed in float64 from the exact formula (ggml
computes them in float32 by repeated multiplication: differences ~1e-7 rel.).

Precision.  Weights are dequantized to float32 exactly (gguf.quants).  By
default (`dtype=np.float64`) all activations, matmul accumulations, RMSNorm,
RoPE, the attention softmax and SiLU are float64, so the reference error is
negligible against any float32/bf16 implementation; `dtype=np.float32`
gives a faster, float32-activation variant (BLAS sgemm accumulation, stable
max-subtracted softmax).  Logits are returned as float32.

Attention.  Grouped-query: query head h uses KV head h // (n_head / n_kv_head)
(= HF repeat_kv / llama.cpp broadcast).  Scale 1/sqrt(head_dim), causal mask
over the KV cache (keys are cached after RoPE).

Perplexity (llama.cpp `llama-perplexity` convention, the default).  The whole
text is tokenized at once (a BOS is prepended only if the GGUF says
add_bos_token; SmolLM2 says false), cut into n_chunk = len(ids) // ctx
non-overlapping windows, and each window is evaluated from position 0 with an
empty cache (if add_bos, its first token is replaced by BOS).  With
`--score-from half` (default) the logits at positions ctx/2 .. ctx-2 score the
tokens at ctx/2+1 .. ctx-1, i.e. ctx/2 - 1 predictions per window (255 for
ctx 512), exactly like llama.cpp's `first = n_ctx/2`.  `--score-from K`
(integer K >= 1) scores the tokens at K .. ctx-1 from the positions before
them (`--score-from 1`: every token after the first, ctx-1 predictions).
PPL = exp(sum NLL / count) over all scored tokens of all windows;
log-softmax in float64.

CLI examples
------------
  llama_ref.py --tokens 1,2,3 --out logits.npy
  llama_ref.py --tokens 4,5,6 --start 3          # positions 3..5, no cache
  llama_ref.py --generate --chat "What is the capital of France?" \
      --max-new-tokens 20
  llama_ref.py --generate --prompt-ids 1,4093,198 --max-new-tokens 20
  llama_ref.py --perplexity /work/shared/data/wikitext-2/wiki.test.raw \
      --ctx 512 --max-windows 4 [--save-ids ids.txt]
  llama_ref.py --perplexity --tokenizer-ids ids.txt --ctx 512 --max-windows 4
  llama_ref.py --selftest

Verification notes (SmolLM2-135M-Instruct Q4_1, 2026-11-23)
  * Greedy, ChatML prompt "What is the capital of France?" (no system turn;
    ids 1,4093,198,1780,314,260,3575,282,4649,47,2,198,1,520,9531,198):
    "norm" -> 504,3575,282,4649,314,7042,30,2 = "The capital of France is
    Paris.<|im_end|>"; "neox" -> "The answer is:\nThe answer is:\nThe
    capital of France<|im_end|>".
  * wikitext-2 wiki.test.raw (read as bytes, CRLF kept as llama.cpp does:
    309187 tokens, 603 windows of 512), score-from half: "norm" PPL 25.18
    (8 windows), 28.43 (16 windows); "neox" 478.7 (8 windows);
    score-from 1: 30.55 (8 windows).  float32 activations give the same
    PPL to 4 decimals; their logits differ from float64 by <= 1.1e-4.
  * transformers 5.17 loading the same GGUF (8-block subset, float64, see
    llama_ref_hf_check.py): identical dequantized weights, max |logit diff|
    1.8e-5 .. 7.7e-4 with "norm" (HF's own float32 RoPE/RMSNorm/softmax),
    argmax identical everywhere; "neox" differs by up to 69.
  * Speed on the 2-core machine (numpy OpenBLAS), T=512 prefill with all
    512 rows of logits: ~3.6 s float64, ~1.9 s float32 when the machine is
    quiet (3-4x longer while other jobs run); one decode step at position
    511: ~0.05 s; loading + dequantizing the GGUF ~5 s, ~1.7 GB RSS.
"""

import argparse
import math
import os
import sys
import time

import numpy as np

DEFAULT_GGUF = os.path.expanduser(
    "~/.cache/quant-mlir/SmolLM2-135M-Instruct.Q4_1.gguf")

LINEAR_SUFFIXES = ("attn_q", "attn_k", "attn_v", "attn_output",
                   "ffn_gate", "ffn_up", "ffn_down")

# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def _field(reader, key, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    return f.contents()


def _dequantize(t):
    """One GGUF tensor -> float32 array in row-major [.., out, in] order."""
    import gguf
    shape = tuple(int(d) for d in reversed(list(t.shape)))  # ggml ne reversed
    if t.tensor_type in (gguf.GGMLQuantizationType.F32,):
        a = np.asarray(t.data, dtype=np.float32)
    else:
        a = gguf.quants.dequantize(np.asarray(t.data), t.tensor_type)
        a = np.asarray(a, dtype=np.float32)
    return np.ascontiguousarray(a.reshape(shape))


def load_gguf_llama(path=DEFAULT_GGUF, rope_type="norm"):
    """Read a llama-architecture GGUF.

    Returns (config, weights): config is a dict of hyper-parameters (plus the
    tokenizer metadata under config["tokenizer"]); weights maps each GGUF
    tensor name to a float32 numpy array in [out_features, in_features]
    layout (vectors stay 1-D).
    """
    import gguf
    r = gguf.GGUFReader(path)
    arch = _field(r, "general.architecture")
    if arch != "llama":
        raise ValueError(f"{path}: architecture {arch!r}, expected 'llama'")
    p = arch + "."
    n_embd = int(_field(r, p + "embedding_length"))
    n_head = int(_field(r, p + "attention.head_count"))
    n_head_kv = int(_field(r, p + "attention.head_count_kv", n_head))
    head_dim = int(_field(r, p + "attention.key_length", n_embd // n_head))
    scaling = _field(r, p + "rope.scaling.type")
    if scaling not in (None, "none"):
        raise NotImplementedError(f"rope scaling {scaling!r}")
    toks_field = r.fields.get("tokenizer.ggml.tokens")
    cfg = {
        "path": path,
        "arch": arch,
        "name": _field(r, "general.name"),
        "n_layer": int(_field(r, p + "block_count")),
        "n_embd": n_embd,
        "n_head": n_head,
        "n_head_kv": n_head_kv,
        "head_dim": head_dim,
        "n_ff": int(_field(r, p + "feed_forward_length")),
        "n_ctx_train": int(_field(r, p + "context_length", 0)),
        "rms_eps": float(_field(r, p + "attention.layer_norm_rms_epsilon",
                                1e-5)),
        "rope_base": float(_field(r, p + "rope.freq_base", 10000.0)),
        "rope_dim": int(_field(r, p + "rope.dimension_count", head_dim)),
        "rope_type": rope_type,
        "bos_id": _field(r, "tokenizer.ggml.bos_token_id"),
        "eos_id": _field(r, "tokenizer.ggml.eos_token_id"),
        "add_bos": bool(_field(r, "tokenizer.ggml.add_bos_token", False)),
    }
    weights = {}
    for t in r.tensors:
        weights[t.name] = _dequantize(t)
    cfg["n_vocab"] = int(weights["token_embd.weight"].shape[0])
    cfg["tied_embeddings"] = "output.weight" not in weights
    if toks_field is not None:
        tt = r.fields.get("tokenizer.ggml.token_type")
        mg = r.fields.get("tokenizer.ggml.merges")
        cfg["tokenizer"] = {
            "model": _field(r, "tokenizer.ggml.model"),
            "pre": _field(r, "tokenizer.ggml.pre"),
            "tokens": [bytes(toks_field.parts[i]).decode("utf-8")
                       for i in toks_field.data],
            "token_type": ([int(tt.parts[i][0]) for i in tt.data]
                           if tt is not None else None),
            "merges": ([bytes(mg.parts[i]).decode("utf-8") for i in mg.data]
                       if mg is not None else []),
        }
    _check_shapes(cfg, weights)
    return cfg, weights


def expected_shapes(cfg):
    """GGUF name -> expected numpy shape ([out, in] for matrices)."""
    d, hd, ff = cfg["n_embd"], cfg["head_dim"], cfg["n_ff"]
    qd, kvd = cfg["n_head"] * hd, cfg["n_head_kv"] * hd
    s = {"token_embd.weight": (cfg["n_vocab"], d),
         "output_norm.weight": (d,)}
    if not cfg.get("tied_embeddings", True):
        s["output.weight"] = (cfg["n_vocab"], d)
    for i in range(cfg["n_layer"]):
        b = f"blk.{i}."
        s.update({b + "attn_norm.weight": (d,), b + "ffn_norm.weight": (d,),
                  b + "attn_q.weight": (qd, d), b + "attn_k.weight": (kvd, d),
                  b + "attn_v.weight": (kvd, d),
                  b + "attn_output.weight": (d, qd),
                  b + "ffn_gate.weight": (ff, d), b + "ffn_up.weight": (ff, d),
                  b + "ffn_down.weight": (d, ff)})
    return s


def _check_shapes(cfg, weights):
    for name, shp in expected_shapes(cfg).items():
        if name not in weights:
            raise KeyError(f"missing tensor {name}")
        if tuple(weights[name].shape) != shp:
            raise ValueError(f"{name}: shape {weights[name].shape}, "
                             f"expected {shp}")


def linear_weight_names(cfg, include_head=False):
    """Names of the matrices of all linear layers (the ones a quantization
    scheme replaces), in layer order; optionally the output head."""
    names = [f"blk.{i}.{s}.weight" for i in range(cfg["n_layer"])
             for s in LINEAR_SUFFIXES]
    if include_head:
        names.append("output.weight")
    return names


def apply_overrides(cfg, weights, overrides):
    """Return a new weights dict with some matrices replaced.

    overrides: {gguf_name: array [out_features, in_features]} (any float
    dtype; it is used as given, cast to the compute dtype in forward).
    Keys: any name in `weights`, plus "output.weight" for a model with tied
    embeddings (then only the output head changes, not the embedding lookup;
    overriding "token_embd.weight" changes both).
    """
    if not overrides:
        return weights
    exp = expected_shapes(cfg)
    exp.setdefault("output.weight", (cfg["n_vocab"], cfg["n_embd"]))
    new = dict(weights)
    for name, w in overrides.items():
        if name not in exp:
            raise KeyError(f"override of unknown tensor {name!r}")
        w = np.asarray(w)
        if w.dtype.kind != "f":
            raise TypeError(f"override {name}: dtype {w.dtype} is not float")
        if tuple(w.shape) != exp[name]:
            hint = (" (transposed? the layout is [out, in])"
                    if tuple(w.shape[::-1]) == exp[name] else "")
            raise ValueError(f"override {name}: shape {w.shape}, expected "
                             f"{exp[name]}{hint}")
        new[name] = w
    return new


def cast_weights(weights, dtype=np.float64):
    """Convert all weights once to the compute dtype (forward would otherwise
    convert the float32 arrays on every call)."""
    return {k: np.ascontiguousarray(v, dtype=dtype) for k, v in weights.items()}


# --------------------------------------------------------------------------
# Forward pass
# --------------------------------------------------------------------------


def rms_norm(x, w, eps):
    x = np.asarray(x)
    ms = np.mean(x * x, axis=-1, keepdims=True)
    return x * (1.0 / np.sqrt(ms + eps)).astype(x.dtype) * w.astype(x.dtype)


def silu(x):
    # x * sigmoid(x), written through tanh: no overflow for large |x|
    return x * (0.5 * (1.0 + np.tanh(0.5 * x)))


def attention_softmax(s):
    """Softmax over the last axis in float64 (max-subtracted; -inf = masked).
    A module-level function so that experiments can substitute another."""
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    return p / p.sum(axis=-1, keepdims=True)


def rope_angles(positions, rope_dim, base):
    """theta[t, i] = pos_t * base^(-2i/rope_dim), i < rope_dim/2 (float64)."""
    i = np.arange(rope_dim // 2, dtype=np.float64)
    inv_freq = base ** (-2.0 * i / rope_dim)
    return np.asarray(positions, dtype=np.float64)[:, None] * inv_freq[None]


def apply_rope(x, positions, rope_dim, base, rope_type="norm"):
    """x: [T, n_heads, head_dim]; rotates the first rope_dim dims of each
    head.  "norm": pairs (x[2i], x[2i+1]) (llama.cpp LLAMA_ROPE_TYPE_NORM,
    right for GGUF llama weights); "neox": pairs (x[i], x[i + rope_dim/2])
    (HF rotate_half)."""
    ang = rope_angles(positions, rope_dim, base)          # [T, rd/2]
    cos = np.cos(ang)[:, None, :].astype(x.dtype)
    sin = np.sin(ang)[:, None, :].astype(x.dtype)
    out = x.copy()
    if rope_type == "norm":
        x0 = x[..., 0:rope_dim:2]
        x1 = x[..., 1:rope_dim:2]
        out[..., 0:rope_dim:2] = x0 * cos - x1 * sin
        out[..., 1:rope_dim:2] = x0 * sin + x1 * cos
    elif rope_type == "neox":
        h = rope_dim // 2
        x0 = x[..., 0:h]
        x1 = x[..., h:rope_dim]
        out[..., 0:h] = x0 * cos - x1 * sin
        out[..., h:rope_dim] = x0 * sin + x1 * cos
    else:
        raise ValueError(f"rope_type {rope_type!r}")
    return out


def new_kv_cache(cfg):
    return {"k": [None] * cfg["n_layer"], "v": [None] * cfg["n_layer"],
            "len": 0, "next_pos": 0}


def round_to(values, compute):
    """`values` rounded to the compute type ("f32", "bf16" or "f16", round
    to nearest even) and returned as float64: what a qnt.matmul of that
    compute type does to its activations and dequantized weights."""
    v = np.asarray(values, dtype=np.float32)
    if compute == "f16":
        return v.astype(np.float16).astype(np.float64)
    if compute == "bf16":
        u = v.view(np.uint32).astype(np.uint64)
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
        return u.astype(np.uint32).view(np.float32).astype(np.float64)
    return v.astype(np.float64)


def act_int8(x, threshold=0.0):
    """W8A8's activations as float64 (the formula of qref.act8_activations,
    spec: include/qmlir/Numerics/IntDot.h, matmulActInt8): per row the
    inliers' codes times the row's scale, outliers (|x| >= threshold > 0)
    as they are."""
    import qref  # test/reference, next to this file
    x = np.asarray(x, dtype=np.float32)
    return qref.act8_activations(x, x, x, threshold)[0]


def _mm(x, w, dtype, compute=None):
    """x @ w.T; with `compute` (the quantized layers' compute type) both
    operands rounded to it first; compute ("int8", threshold): W8A8, the
    activations quantized (act_int8)."""
    if isinstance(compute, tuple):
        return act_int8(x, compute[1]) @ np.asarray(w, dtype=np.float64).T
    if compute is not None:
        return round_to(x, compute) @ round_to(w, compute).T
    return x @ np.asarray(w, dtype=dtype).T


def forward(cfg, weights, tokens, start_pos=None, kv_cache=None,
            overrides=None, dtype=np.float64, logits_from=0, rope_type=None,
            compute=None):
    """Run the model on `tokens` (ints) at positions start_pos..start_pos+T-1.

    kv_cache: None (start empty) or the cache returned by a previous call;
    start_pos defaults to the cache's next position (0 for a new cache); a
    start_pos given together with a non-empty cache must equal it.  Without a
    cache, start_pos > 0 just shifts the RoPE positions.
    overrides: see apply_overrides.  dtype: activation/accumulation dtype.
    compute: None, or the compute type ("f32", "bf16", "f16") to which the
    linear layers and the head round their operands (round_to), or
    ("int8", outlier threshold): W8A8 (act_int8).
    logits_from: compute the output head only for tokens[logits_from:]
    (negative counts from the end, e.g. -1 = last token).

    Returns (logits float32 [T - logits_from, n_vocab], updated kv cache).
    """
    if overrides:
        weights = apply_overrides(cfg, weights, overrides)
    rope_type = rope_type or cfg.get("rope_type", "norm")
    tokens = np.asarray(tokens, dtype=np.int64).reshape(-1)
    T = tokens.shape[0]
    if T == 0:
        raise ValueError("no tokens")
    if tokens.min() < 0 or tokens.max() >= cfg["n_vocab"]:
        raise ValueError("token id out of range")
    cache = kv_cache if kv_cache is not None else new_kv_cache(cfg)
    if start_pos is None:
        start_pos = cache["next_pos"]
    elif cache["len"] and start_pos != cache["next_pos"]:
        raise ValueError(f"start_pos {start_pos} but the cache continues at "
                         f"{cache['next_pos']}")
    H, KV, hd = cfg["n_head"], cfg["n_head_kv"], cfg["head_dim"]
    rep = H // KV
    eps, base, rd = cfg["rms_eps"], cfg["rope_base"], cfg["rope_dim"]
    positions = np.arange(start_pos, start_pos + T)
    past = cache["len"]
    S = past + T
    # causal mask over cache slots: query t (slot past+t) sees slots <= past+t
    mask = np.arange(S)[None, :] > (past + np.arange(T))[:, None]   # [T, S]
    scale = 1.0 / math.sqrt(hd)

    x = np.asarray(weights["token_embd.weight"][tokens], dtype=dtype)
    for L in range(cfg["n_layer"]):
        b = f"blk.{L}."
        h = rms_norm(x, weights[b + "attn_norm.weight"], eps)
        q = _mm(h, weights[b + "attn_q.weight"], dtype, compute).reshape(T, H, hd)
        k = _mm(h, weights[b + "attn_k.weight"], dtype, compute).reshape(T, KV, hd)
        v = _mm(h, weights[b + "attn_v.weight"], dtype, compute).reshape(T, KV, hd)
        q = apply_rope(q, positions, rd, base, rope_type)
        k = apply_rope(k, positions, rd, base, rope_type)
        if past:
            k = np.concatenate([cache["k"][L], k], axis=0)
            v = np.concatenate([cache["v"][L], v], axis=0)
        cache["k"][L], cache["v"][L] = k, v
        # [KV, rep, T, hd] x [KV, 1, hd, S] -> [KV, rep, T, S]
        qh = q.reshape(T, KV, rep, hd).transpose(1, 2, 0, 3)
        kh = k.transpose(1, 2, 0)[:, None]
        vh = v.transpose(1, 0, 2)[:, None]                  # [KV, 1, S, hd]
        s = np.matmul(qh, kh).astype(np.float64) * scale
        s[..., mask] = -np.inf
        p = attention_softmax(s)
        o = np.matmul(p.astype(dtype), vh)                  # [KV, rep, T, hd]
        o = o.transpose(2, 0, 1, 3).reshape(T, H * hd)
        x = x + _mm(o, weights[b + "attn_output.weight"], dtype, compute)
        h = rms_norm(x, weights[b + "ffn_norm.weight"], eps)
        g = _mm(h, weights[b + "ffn_gate.weight"], dtype, compute)
        u = _mm(h, weights[b + "ffn_up.weight"], dtype, compute)
        x = x + _mm(silu(g) * u, weights[b + "ffn_down.weight"], dtype,
                       compute)
    cache["len"] = S
    cache["next_pos"] = start_pos + T
    xs = x[logits_from:]
    h = rms_norm(xs, weights["output_norm.weight"], eps)
    head = weights.get("output.weight", weights["token_embd.weight"])
    logits = _mm(h, head, dtype, compute).astype(np.float32)
    return logits, cache


# --------------------------------------------------------------------------
# Generation and perplexity
# --------------------------------------------------------------------------


def generate(cfg, weights, prompt_ids, max_new_tokens, stop_ids=(),
             dtype=np.float64):
    """Greedy decoding with a KV cache; stops after a token in stop_ids.
    Returns the list of new token ids."""
    logits, cache = forward(cfg, weights, prompt_ids, dtype=dtype,
                            logits_from=-1)
    out = []
    for _ in range(max_new_tokens):
        nxt = int(np.argmax(logits[-1]))
        out.append(nxt)
        if nxt in stop_ids:
            break
        logits, cache = forward(cfg, weights, [nxt], kv_cache=cache,
                                dtype=dtype, logits_from=-1)
    return out


def log_softmax64(logits):
    z = np.asarray(logits, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def score_range(n_ctx, score_from="half"):
    """First scored target index within a window (targets k..n_ctx-1 are
    predicted from the logits at k-1..n_ctx-2)."""
    if score_from in ("half", None):
        return n_ctx // 2 + 1          # llama.cpp: logits from first = n_ctx/2
    k = int(score_from)
    if not 1 <= k < n_ctx:
        raise ValueError(f"score-from {k} outside 1..{n_ctx - 1}")
    return k


def perplexity(cfg, weights, ids, n_ctx=512, max_windows=None,
               score_from="half", add_bos=None, dtype=np.float64,
               log=None):
    """llama.cpp-style perplexity over non-overlapping windows (see module
    docstring).  `ids` must already include a leading BOS if add_bos (as
    llama.cpp's tokenization does).  Returns a dict with ppl, nll, count,
    n_windows, per-window running ppl and seconds per window."""
    ids = np.asarray(ids, dtype=np.int64)
    if add_bos is None:
        add_bos = cfg.get("add_bos", False)
    n_chunk = len(ids) // n_ctx
    if max_windows is not None:
        n_chunk = min(n_chunk, max_windows)
    if n_chunk < 1:
        raise ValueError(f"{len(ids)} tokens: fewer than one window of "
                         f"{n_ctx}")
    k = score_range(n_ctx, score_from)
    nll, count, running, secs = 0.0, 0, [], []
    for c in range(n_chunk):
        win = ids[c * n_ctx:(c + 1) * n_ctx].copy()
        if add_bos:
            win[0] = cfg["bos_id"]
        t0 = time.time()
        logits, _ = forward(cfg, weights, win, dtype=dtype,
                            logits_from=k - 1)
        secs.append(time.time() - t0)
        lp = log_softmax64(logits[:n_ctx - k])        # positions k-1..n-2
        tgt = ids[c * n_ctx + k:(c + 1) * n_ctx]      # original tokens
        nll -= float(lp[np.arange(len(tgt)), tgt].sum())
        count += len(tgt)
        running.append(math.exp(nll / count))
        if log:
            log(f"[{c + 1}/{n_chunk}] ppl {running[-1]:.4f} "
                f"({secs[-1]:.1f} s)")
    return {"ppl": math.exp(nll / count), "nll": nll / count, "count": count,
            "n_windows": n_chunk, "running_ppl": running,
            "seconds_per_window": secs, "first_target": k}


# --------------------------------------------------------------------------
# Tokenizer (HF tokenizers built from the GGUF vocab / merges)
# --------------------------------------------------------------------------


def build_tokenizer(cfg, special=True):
    """A HF `tokenizers.Tokenizer` for a gpt2-style (byte-level BPE) GGUF
    vocab: Digits(individual_digits) then ByteLevel(add_prefix_space=False)
    pre-tokenization (as SmolLM2's tokenizer.json), control/user-defined
    tokens as added tokens, ByteLevel decoder.  special: whether control
    tokens such as <|im_start|> written in the text become their single ids
    (llama.cpp parse_special; True for chat prompts, False for perplexity
    text as llama-perplexity does).

    Uses hf_tokenize.build_tokenizer (the helper beside this file, written
    for the C++ tokenizer check) when it is importable and cfg has the GGUF
    path; the fallback below builds the same tokenizer from cfg."""
    if cfg.get("path"):
        here = os.path.dirname(os.path.abspath(__file__))
        if here not in sys.path:
            sys.path.insert(0, here)
        try:
            import hf_tokenize
        except ImportError:
            hf_tokenize = None
        if hf_tokenize is not None:
            return hf_tokenize.build_tokenizer(cfg["path"], special)
    from tokenizers import AddedToken, Tokenizer, decoders, models
    from tokenizers import pre_tokenizers
    tk = cfg["tokenizer"]
    if tk["model"] != "gpt2":
        raise NotImplementedError(f"tokenizer model {tk['model']!r}")
    vocab = {t: i for i, t in enumerate(tk["tokens"])}
    merges = [tuple(m.split(" ", 1)) for m in tk["merges"]]
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges,
                               fuse_unk=False, byte_fallback=False))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False,
                                          use_regex=True)
    if tk.get("pre") in ("smollm", None):
        tok.pre_tokenizer = pre_tokenizers.Sequence([
            pre_tokenizers.Digits(individual_digits=True), byte_level])
    elif tk.get("pre") == "gpt-2":
        tok.pre_tokenizer = byte_level
    else:
        raise NotImplementedError(f"tokenizer.ggml.pre {tk['pre']!r}")
    tok.decoder = decoders.ByteLevel()
    types = tk.get("token_type") or []
    tok.add_special_tokens([AddedToken(tk["tokens"][i], special=True,
                                       normalized=False)
                            for i, ty in enumerate(types) if ty == 3])
    tok.add_tokens([AddedToken(tk["tokens"][i], special=False,
                               normalized=False)
                    for i, ty in enumerate(types) if ty == 4])
    tok.encode_special_tokens = not special
    return tok


def encode(tok, text):
    return tok.encode(text, add_special_tokens=False).ids


def decode(tok, ids):
    return tok.decode(list(ids), skip_special_tokens=False)


def chat_prompt(user_text):
    return f"<|im_start|>user\n{user_text}<|im_end|>\n<|im_start|>assistant\n"


# --------------------------------------------------------------------------
# Self test (no model file needed beyond a small random config)
# --------------------------------------------------------------------------


def _random_model(seed=0, n_layer=2, n_embd=32, n_head=4, n_head_kv=2,
                  n_ff=48, n_vocab=50):
    rng = np.random.default_rng(seed)
    cfg = {"arch": "llama", "n_layer": n_layer, "n_embd": n_embd,
           "n_head": n_head, "n_head_kv": n_head_kv,
           "head_dim": n_embd // n_head, "n_ff": n_ff, "n_vocab": n_vocab,
           "rms_eps": 1e-5, "rope_base": 10000.0,
           "rope_dim": n_embd // n_head, "rope_type": "norm",
           "tied_embeddings": True, "bos_id": 1, "eos_id": 2,
           "add_bos": False}
    w = {}
    for name, shp in expected_shapes(cfg).items():
        if len(shp) == 1:
            w[name] = (1.0 + 0.1 * rng.standard_normal(shp)).astype(np.float32)
        else:
            w[name] = (rng.standard_normal(shp) /
                       math.sqrt(shp[1])).astype(np.float32)
    return cfg, w


def hf_to_gguf_permute(w, n_head):
    """convert_hf_to_gguf.py LlamaModel.permute (rows of q/k_proj)."""
    return (w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def gguf_to_hf_permute(w, n_head):
    """Inverse of hf_to_gguf_permute."""
    return (w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:])
            .swapaxes(1, 2).reshape(w.shape))


def selftest():
    cfg, w = _random_model()
    toks = [3, 7, 11, 5, 9, 1, 42, 17]
    full, _ = forward(cfg, w, toks)
    # 1. incremental decoding with the cache == one full pass
    lg, cache = forward(cfg, w, toks[:3])
    parts = [lg]
    for t in toks[3:]:
        lg, cache = forward(cfg, w, [t], kv_cache=cache)
        parts.append(lg)
    inc = np.concatenate(parts)
    e1 = float(np.max(np.abs(inc - full)))
    assert e1 < 1e-5, e1
    # 2. "norm" RoPE on GGUF-permuted q/k == "neox" on the HF layout
    hf = dict(w)
    for i in range(cfg["n_layer"]):
        hf[f"blk.{i}.attn_q.weight"] = gguf_to_hf_permute(
            w[f"blk.{i}.attn_q.weight"], cfg["n_head"])
        hf[f"blk.{i}.attn_k.weight"] = gguf_to_hf_permute(
            w[f"blk.{i}.attn_k.weight"], cfg["n_head_kv"])
        assert np.array_equal(hf_to_gguf_permute(
            hf[f"blk.{i}.attn_q.weight"], cfg["n_head"]),
            w[f"blk.{i}.attn_q.weight"])
    neox, _ = forward(cfg, hf, toks, rope_type="neox")
    e2 = float(np.max(np.abs(neox - full)))
    assert e2 < 1e-5, e2
    other, _ = forward(cfg, w, toks, rope_type="neox")
    assert np.max(np.abs(other - full)) > 1e-3
    # 3. overrides: identical matrices -> identical logits; zero o-proj
    same, _ = forward(cfg, w, toks, overrides={
        "blk.0.attn_q.weight": w["blk.0.attn_q.weight"].astype(np.float64)})
    assert np.array_equal(same, full)
    z = {n: np.zeros_like(w[n]) for n in linear_weight_names(cfg)
         if n.endswith(("attn_output.weight", "ffn_down.weight"))}
    zl, _ = forward(cfg, w, toks, overrides=z)
    # with every residual branch zeroed, logits = head(norm(embedding))
    e = w["token_embd.weight"][toks].astype(np.float64)
    ref = rms_norm(e, w["output_norm.weight"], cfg["rms_eps"]) @ \
        w["token_embd.weight"].T.astype(np.float64)
    assert np.max(np.abs(zl - ref)) < 1e-4
    try:
        apply_overrides(cfg, w, {"blk.0.ffn_up.weight":
                                 w["blk.0.ffn_up.weight"].T})
        raise AssertionError("transposed override accepted")
    except ValueError:
        pass
    # 4. float32 path close to float64; logits_from slices; start_pos
    f32, _ = forward(cfg, w, toks, dtype=np.float32)
    assert np.max(np.abs(f32 - full)) < 1e-3
    last, _ = forward(cfg, w, toks, logits_from=-1)
    assert np.array_equal(last[0], full[-1])
    sh, _ = forward(cfg, w, toks, start_pos=5)
    # RoPE only sees relative positions: a global shift changes ~nothing
    assert np.max(np.abs(sh - full)) < 1e-6, np.max(np.abs(sh - full))
    # 5. first token alone attends only to itself
    one, _ = forward(cfg, w, toks[:1])
    assert np.max(np.abs(one[0] - full[0])) < 1e-5
    print(f"selftest ok (cache max diff {e1:.2e}, norm-vs-permuted-neox "
          f"{e2:.2e})")


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------


def _parse_ids(s):
    return [int(x) for x in s.replace(",", " ").split()]


def _read_ids(path):
    if path.endswith(".npy"):
        return np.load(path).astype(np.int64).reshape(-1)
    with open(path) as f:
        return np.array(_parse_ids(f.read()), dtype=np.int64)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", default=DEFAULT_GGUF)
    ap.add_argument("--rope", choices=("norm", "neox"), default="norm",
                    help="RoPE pairing (default norm = adjacent pairs)")
    ap.add_argument("--precision", choices=("f64", "f32"), default="f64")
    ap.add_argument("--tokens", help="comma-separated ids: print/save logits")
    ap.add_argument("--prompt", help="text to tokenize (instead of --tokens)")
    ap.add_argument("--start", type=int, default=0,
                    help="position of the first token (no cache)")
    ap.add_argument("--out", help="save logits [T, vocab] float32 (.npy)")
    ap.add_argument("--generate", action="store_true")
    ap.add_argument("--prompt-ids", help="comma-separated prompt ids")
    ap.add_argument("--chat", help="user message, wrapped in the ChatML "
                    "template (no system turn)")
    ap.add_argument("--max-new-tokens", type=int, default=20)
    ap.add_argument("--no-stop", action="store_true",
                    help="don't stop at eos / <|im_end|>")
    ap.add_argument("--perplexity", nargs="?", const="", default=None,
                    metavar="TEXT_FILE")
    ap.add_argument("--tokenizer-ids", metavar="IDS_FILE",
                    help="token ids (text: comma/space separated, or .npy) "
                    "to score instead of tokenizing TEXT_FILE")
    ap.add_argument("--save-ids", help="write the ids used for perplexity")
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--max-windows", type=int, default=None)
    ap.add_argument("--score-from", default="half",
                    help="'half' (llama.cpp) or an integer K >= 1")
    ap.add_argument("--add-bos", choices=("auto", "yes", "no"),
                    default="auto")
    ap.add_argument("--time", action="store_true",
                    help="time the forward pass of --tokens/--prompt")
    ap.add_argument("--selftest", action="store_true")
    a = ap.parse_args(argv)

    if a.selftest:
        selftest()
        return 0
    dtype = np.float64 if a.precision == "f64" else np.float32
    t0 = time.time()
    cfg, w = load_gguf_llama(a.gguf, rope_type=a.rope)
    w = cast_weights(w, dtype)
    print(f"loaded {a.gguf} in {time.time() - t0:.1f} s: {cfg['n_layer']} "
          f"layers, d {cfg['n_embd']}, heads {cfg['n_head']}/"
          f"{cfg['n_head_kv']}, ff {cfg['n_ff']}, vocab {cfg['n_vocab']}, "
          f"rope {a.rope} base {cfg['rope_base']:g}, {a.precision}",
          file=sys.stderr)
    tok = None

    def get_tok():
        nonlocal tok
        if tok is None:
            tok = build_tokenizer(cfg)
        return tok

    if a.generate:
        if a.prompt_ids:
            ids = _parse_ids(a.prompt_ids)
        elif a.chat is not None:
            ids = encode(get_tok(), chat_prompt(a.chat))
        elif a.prompt is not None:
            ids = encode(get_tok(), a.prompt)
        else:
            ap.error("--generate needs --prompt-ids, --chat or --prompt")
        stop = () if a.no_stop else tuple(
            i for i in (cfg["eos_id"],) if i is not None)
        t0 = time.time()
        new = generate(cfg, w, ids, a.max_new_tokens, stop, dtype)
        dt = time.time() - t0
        print("prompt ids:", ",".join(map(str, ids)))
        print("new ids:", ",".join(map(str, new)))
        try:
            print("text:", repr(decode(get_tok(), new)))
        except Exception as e:  # tokenizer missing
            print("(no decode:", e, ")")
        print(f"{len(new)} tokens in {dt:.1f} s", file=sys.stderr)
        return 0

    if a.perplexity is not None:
        add_bos = {"auto": cfg["add_bos"], "yes": True, "no": False}[a.add_bos]
        if a.tokenizer_ids:
            ids = _read_ids(a.tokenizer_ids)
        elif a.perplexity:
            with open(a.perplexity, "rb") as f:
                text = f.read().decode("utf-8")
            ids = encode(build_tokenizer(cfg, special=False), text)
            if add_bos:
                ids = [cfg["bos_id"]] + ids
            ids = np.array(ids, dtype=np.int64)
        else:
            ap.error("--perplexity needs TEXT_FILE or --tokenizer-ids")
        if a.save_ids:
            with open(a.save_ids, "w") as f:
                f.write(",".join(map(str, ids.tolist())) + "\n")
        print(f"{len(ids)} tokens, {len(ids) // a.ctx} windows of {a.ctx}",
              file=sys.stderr)
        r = perplexity(cfg, w, ids, a.ctx, a.max_windows, a.score_from,
                       add_bos, dtype,
                       log=lambda s: print(s, file=sys.stderr, flush=True))
        print(f"perplexity {r['ppl']:.4f} (mean nll {r['nll']:.6f}) over "
              f"{r['count']} tokens, {r['n_windows']} windows of {a.ctx}, "
              f"targets {r['first_target']}..{a.ctx - 1} of each window; "
              f"{np.mean(r['seconds_per_window']):.1f} s/window")
        return 0

    if a.tokens is None and a.prompt is None:
        ap.error("nothing to do: --tokens, --prompt, --generate, "
                 "--perplexity or --selftest")
    ids = (_parse_ids(a.tokens) if a.tokens is not None
           else encode(get_tok(), a.prompt))
    t0 = time.time()
    logits, _ = forward(cfg, w, ids, start_pos=a.start, dtype=dtype)
    dt = time.time() - t0
    if a.out:
        np.save(a.out, logits)
    print(f"tokens ({len(ids)}): {','.join(map(str, ids[:32]))}"
          f"{' ...' if len(ids) > 32 else ''}")
    print(f"logits {logits.shape} float32, start_pos {a.start}; "
          f"argmax per position: "
          f"{','.join(map(str, np.argmax(logits, -1)[:32].tolist()))}")
    last = logits[-1]
    top = np.argsort(-last)[:5]
    print("last position top-5:", ", ".join(
        f"{int(i)}:{last[i]:.4f}" for i in top))
    print(f"sum {float(logits.astype(np.float64).sum()):.6e}, "
          f"mean |x| {float(np.abs(logits).mean()):.6f}")
    if a.time:
        print(f"forward of {len(ids)} tokens: {dt:.2f} s ({a.precision})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
