#!/usr/bin/env python3
"""Writes a Llama-architecture GGUF of real shapes with synthetic weights:
the tensor table of the named shape, deterministic pseudo-random data in
the chosen ggml type (valid blocks: finite f16 scales, random codes), norms
in F32 as llama.cpp wants them, and a byte-level BPE tokenizer (the 256
byte tokens, some merges, <|endoftext|>) filled up to the vocabulary.
Speed does not depend on weight values, so such a model is honest for
speed and meaningless for accuracy: benchmarks of models whose real weights
cannot be had or moved (quant-compile compiles it; llama.cpp loads it).
Tensors are written one at a time (gguf-py's streaming writer), so an 8B or
70B shape needs little memory.

  synthetic_gguf.py OUT.gguf [--shape smollm2|llama3-8b|llama3-70b]
      [--type f32|f16|q8_0|q4_0] [--layers N] [--seed S]

Shapes: smollm2 = SmolLM2-135M (30 layers, dim 576, FFN 1536, 9/3 heads,
vocab 49152, tied head); llama3-8b = Llama-3-8B (32 layers, dim 4096, FFN
14336, 32/8 heads, vocab 128256, RoPE base 500000); llama3-70b (80 layers,
dim 8192, FFN 28672, 64/8 heads). --layers cuts the block count (tests).
"""
import argparse
import sys

import numpy as np

try:
    import gguf
except ImportError:  # llama.cpp's source tree carries gguf-py
    sys.exit("synthetic_gguf.py: needs the gguf package (pip install gguf, "
             "or PYTHONPATH=<llama.cpp>/gguf-py)")

SHAPES = {
    "smollm2": dict(layers=30, dim=576, ffn=1536, heads=9, kv_heads=3,
                    vocab=49152, rope_base=10000.0, tied=True),
    "llama3-8b": dict(layers=32, dim=4096, ffn=14336, heads=32, kv_heads=8,
                      vocab=128256, rope_base=500000.0, tied=False),
    "llama3-70b": dict(layers=80, dim=8192, ffn=28672, heads=64, kv_heads=8,
                       vocab=128256, rope_base=500000.0, tied=False),
}
Q = gguf.GGMLQuantizationType
TYPES = {"f32": Q.F32, "f16": Q.F16, "q8_0": Q.Q8_0, "q4_0": Q.Q4_0}
# ggml block types: elements and bytes a block (an f16 scale, then codes).
BLOCKS = {Q.Q8_0: (32, 34), Q.Q4_0: (32, 18)}


def byte_tokens():
    """GPT-2's printable stand-ins for the 256 bytes (bytes_to_unicode)."""
    keep = (list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) +
            list(range(0xAE, 0x100)))
    extra = iter(range(256, 512))
    return [chr(b) if b in keep else chr(next(extra)) for b in range(256)]


def tokenizer(vocab):
    """(tokens, token types, merges): <|endoftext|> (control, id 0), the
    bytes, merges of common letter pairs, then unused normal tokens up to
    `vocab`. (Where all logits are equal, as with quant-run
    --dummy-weights, greedy decoding picks id 0: the end token.)"""
    letters = "etaoinshrdlucmfwypvbgk"
    merges = [f"{a} {b}" for a in letters for b in letters]
    tokens = ["<|endoftext|>"] + byte_tokens() + [m.replace(" ", "") for m in merges]
    types = [3] + [1] * (len(tokens) - 1)
    while len(tokens) < vocab:
        tokens.append(f"<unused{len(tokens)}>")
        types.append(1)
    return tokens, types, merges


def tensors(s):
    """(name, [rows, cols] or [n], is_linear) of the model, in file order."""
    d, hd = s["dim"], s["dim"] // s["heads"]
    kv = s["kv_heads"] * hd
    out = [("token_embd.weight", [s["vocab"], d], True)]
    for i in range(s["layers"]):
        b = f"blk.{i}."
        out += [(b + "attn_norm.weight", [d], False),
                (b + "attn_q.weight", [d, d], True),
                (b + "attn_k.weight", [kv, d], True),
                (b + "attn_v.weight", [kv, d], True),
                (b + "attn_output.weight", [d, d], True),
                (b + "ffn_norm.weight", [d], False),
                (b + "ffn_gate.weight", [s["ffn"], d], True),
                (b + "ffn_up.weight", [s["ffn"], d], True),
                (b + "ffn_down.weight", [d, s["ffn"]], True)]
    out.append(("output_norm.weight", [d], False))
    if not s["tied"]:
        out.append(("output.weight", [s["vocab"], d], True))
    return out


def data(shape, kind, rng):
    """The tensor's bytes as gguf-py wants them: floats, or uint8 blocks
    [rows, bytes a row] for the block types."""
    if kind == Q.F32:
        return (rng.standard_normal(shape, np.float32) * 0.02).astype(np.float32)
    if kind == Q.F16:
        return (rng.standard_normal(shape, np.float32) * 0.02).astype(np.float16)
    per, size = BLOCKS[kind]
    rows, cols = shape
    blocks = rng.integers(0, 256, (rows, cols // per, size), dtype=np.uint8)
    # Scales: finite f16 in [0.5, 1) x 2^-8 (Q8_0) or 2^-5 (Q4_0).
    scale = rng.uniform(0.5, 1.0, (rows, cols // per)) * (
        2.0 ** -8 if kind == Q.Q8_0 else 2.0 ** -5)
    blocks[:, :, :2] = scale.astype(np.float16)[..., None].view(np.uint8)
    return blocks.reshape(rows, -1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out")
    p.add_argument("--shape", choices=SHAPES, default="smollm2")
    p.add_argument("--type", choices=TYPES, default="q8_0")
    p.add_argument("--layers", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    s = dict(SHAPES[a.shape])
    if a.layers:
        s["layers"] = a.layers
    kind = TYPES[a.type]
    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name(f"synthetic {a.shape} ({a.type})")
    w.add_block_count(s["layers"])
    w.add_context_length(8192)
    w.add_embedding_length(s["dim"])
    w.add_feed_forward_length(s["ffn"])
    w.add_head_count(s["heads"])
    w.add_head_count_kv(s["kv_heads"])
    w.add_rope_dimension_count(s["dim"] // s["heads"])
    w.add_rope_freq_base(s["rope_base"])
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(s["vocab"])
    w.add_file_type({Q.F32: 0, Q.F16: 1, Q.Q4_0: 2, Q.Q8_0: 7}[kind])
    tokens, types, merges = tokenizer(s["vocab"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(tokens.index("<|endoftext|>"))
    w.add_eos_token_id(tokens.index("<|endoftext|>"))
    w.add_add_bos_token(False)

    plan = []
    for name, shape, linear in tensors(s):
        t = kind if linear else Q.F32
        if t in BLOCKS:
            per, size = BLOCKS[t]
            byte_shape, nbytes = [shape[0], shape[1] // per * size], None
            nbytes = byte_shape[0] * byte_shape[1]
            w.add_tensor_info(name, byte_shape, np.dtype(np.uint8), nbytes, raw_dtype=t)
        else:
            dtype = np.float16 if t == Q.F16 else np.float32
            nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
            w.add_tensor_info(name, shape, np.dtype(dtype), nbytes, raw_dtype=t)
        plan.append((shape, t, linear))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for i, (shape, t, linear) in enumerate(plan):
        rng = np.random.default_rng([a.seed, i])
        w.write_tensor_data(data(shape, t, rng) if linear
                            else np.ones(shape, np.float32))
    w.close()


if __name__ == "__main__":
    main()
