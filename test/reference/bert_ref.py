#!/usr/bin/env python3
"""An independent numpy BERT encoder (all-MiniLM-L6-v2, sentence-transformers
style: mean pooling over the attention mask, then L2 normalization), reading
the fp32 safetensors with numpy only and tokenizing with Hugging Face
`tokenizers` from the model's tokenizer.json.

  bert_ref.py MODEL_DIR "a sentence" "another one"   # prints cosine matrix

Checked once (2026-11-23) against Hugging Face transformers 5.23 (torch
2.15, fp32) on the same files: identical token ids, normalized embeddings
within 1e-7 on four sentences.

`linear_names(weights)` lists the Linear layers (what bitsandbytes'
load_in_8bit / load_in_4bit replace); `embed(..., overrides={name: W})` runs
with replaced weights (e.g. dequantized ones).
"""
import json
import math
import os
import struct
import sys

import numpy as np

F32 = np.float32


def load(model_dir):
    """(config, weights): weights maps safetensors names to float32 arrays."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    path = os.path.join(model_dir, "model.safetensors")
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        data = f.read()
    weights = {}
    for name, meta in header.items():
        if name == "__metadata__" or meta["dtype"] != "F32":
            continue
        begin, end = meta["data_offsets"]
        weights[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(meta["shape"])
    return cfg, weights


def linear_names(weights):
    """The encoder's Linear weights ([out, in]): q, k, v, attention output,
    intermediate and output dense of every layer (the pooler is unused)."""
    return sorted(n for n, w in weights.items()
                  if n.startswith("encoder.") and n.endswith(".weight") and w.ndim == 2)


def tokenizer(model_dir):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(max_length=128)
    tok.no_padding()  # the file pads to 128; one sentence at a time needs none
    return tok


def _layer_norm(x, w, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _erf(x):
    """erf with fractional error < 1.2e-7 (Numerical Recipes' erfc, a
    Chebyshev fit), vectorized."""
    z = np.abs(x)
    t = 1.0 / (1.0 + 0.5 * z)
    poly = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (
        0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277))))))))
    erfc = t * np.exp(poly)
    return np.where(x >= 0, 1.0 - erfc, erfc - 1.0)


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


_CACHE = {}


def _converted(weights, dtype):
    """The weights in the activation dtype, converted once per dict."""
    key = (id(weights), np.dtype(dtype).str)
    if key not in _CACHE:
        _CACHE[key] = {k: np.asarray(v, dtype=dtype) for k, v in weights.items()}
    return _CACHE[key]


def embed(cfg, weights, ids, overrides=None, dtype=np.float64, capture=None):
    """The normalized sentence embedding of one tokenized sentence;
    capture(name, x), if given, sees the input x [T, K] of every Linear
    (name: its weight's)."""
    W = _converted(weights, dtype)
    if overrides:
        W = dict(W)
        W.update({k: np.asarray(v, dtype=dtype) for k, v in overrides.items()})
    ids = np.asarray(ids)
    t = len(ids)
    eps = cfg["layer_norm_eps"]
    x = W["embeddings.word_embeddings.weight"][ids] + \
        W["embeddings.position_embeddings.weight"][:t] + \
        W["embeddings.token_type_embeddings.weight"][0]
    x = _layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"], eps)
    heads = cfg["num_attention_heads"]
    hd = cfg["hidden_size"] // heads

    def lin(name, v):
        if capture:
            capture(name + ".weight", v)
        return v @ W[name + ".weight"].T + W[name + ".bias"]

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q = lin(p + "attention.self.query", x).reshape(t, heads, hd).transpose(1, 0, 2)
        k = lin(p + "attention.self.key", x).reshape(t, heads, hd).transpose(1, 0, 2)
        v = lin(p + "attention.self.value", x).reshape(t, heads, hd).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(hd)
        s = np.exp(s - s.max(axis=-1, keepdims=True))
        s /= s.sum(axis=-1, keepdims=True)
        a = (s @ v).transpose(1, 0, 2).reshape(t, heads * hd)
        x = _layer_norm(x + lin(p + "attention.output.dense", a),
                        W[p + "attention.output.LayerNorm.weight"],
                        W[p + "attention.output.LayerNorm.bias"], eps)
        h = _gelu(lin(p + "intermediate.dense", x))
        x = _layer_norm(x + lin(p + "output.dense", h),
                        W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"], eps)
    e = x.mean(axis=0)
    return e / np.linalg.norm(e)


def main(argv):
    model_dir, sentences = argv[1], argv[2:]
    cfg, weights = load(model_dir)
    tok = tokenizer(model_dir)
    embs = [embed(cfg, weights, tok.encode(s).ids) for s in sentences]
    for a in embs:
        print(" ".join(f"{float(a @ b):.4f}" for b in embs))


if __name__ == "__main__":
    main(sys.argv)
