#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora (fuzz/corpus/<target>/): small valid
inputs of every reader, from which libFuzzer mutates. Committed; rerun this
only to change them.

  fuzz/make_seeds.py QUANT_COMPILE

gguf-fuzzer: a tiny Llama GGUF (dim 32, one block, 300 tokens) with F32,
F16, Q8_0, Q4_0 and Q4_1 tensors and a byte-level BPE tokenizer.
hf-fuzzer (first byte picks the reader): a safetensors file (F32, F16,
BF16), a config.json, a tokenizer.json. model-fuzzer (first byte): the
weights.bin and tokenizer.bin (also with the checksum fix-up bit) of that
GGUF compiled by quant-compile (int8).
mlir-fuzzer: a linear layer with a constant weight, qnt ops.
"""
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import gguf
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "bench", "models"))
import synthetic_gguf  # noqa: E402

Q = gguf.GGMLQuantizationType


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def tiny_gguf(path):
    rng = np.random.default_rng(7)
    w = gguf.GGUFWriter(path, "llama")
    for key, value in [("block_count", 1), ("context_length", 64),
                       ("embedding_length", 32), ("feed_forward_length", 64),
                       ("attention.head_count", 2), ("attention.head_count_kv", 1)]:
        w.add_uint32(f"llama.{key}", value)
    w.add_float32("llama.attention.layer_norm_rms_epsilon", 1e-5)
    w.add_float32("llama.rope.freq_base", 10000.0)
    merges = ["e t", "a o", "i n", "t h", "h e"]
    tokens = (["<|endoftext|>"] + synthetic_gguf.byte_tokens() +
              [m.replace(" ", "") for m in merges])
    tokens += [f"<unused{i}>" for i in range(len(tokens), 300)]
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types([3] + [1] * (len(tokens) - 1))
    w.add_token_merges(merges)
    w.add_bos_token_id(0)
    w.add_eos_token_id(0)
    norm = lambda n: np.ones(n, np.float32)  # noqa: E731
    f16 = lambda r, c: (rng.standard_normal((r, c)) * 0.02).astype(np.float16)  # noqa: E731
    blocks = lambda kind, r, c: synthetic_gguf.data([r, c], kind, rng)  # noqa: E731
    for name, array, kind in [
            ("token_embd.weight", f16(300, 32), None),
            ("blk.0.attn_norm.weight", norm(32), None),
            ("blk.0.attn_q.weight", blocks(Q.Q8_0, 32, 32), Q.Q8_0),
            ("blk.0.attn_k.weight", blocks(Q.Q4_0, 16, 32), Q.Q4_0),
            ("blk.0.attn_v.weight", blocks(Q.Q4_0, 16, 32), Q.Q4_0),
            ("blk.0.attn_output.weight", f16(32, 32), None),
            ("blk.0.ffn_norm.weight", norm(32), None),
            ("blk.0.ffn_gate.weight", blocks(Q.Q8_0, 64, 32), Q.Q8_0),
            ("blk.0.ffn_up.weight", f16(64, 32).astype(np.float32), None),
            ("blk.0.ffn_down.weight", blocks(Q.Q8_0, 32, 64), Q.Q8_0),
            ("output_norm.weight", norm(32), None)]:
        if kind is None:
            w.add_tensor(name, array)
        else:
            w.add_tensor(name, array, raw_shape=array.shape, raw_dtype=kind)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def safetensors():
    tensors = {"a": ("F32", [2, 3], np.arange(6, dtype=np.float32).tobytes()),
               "b": ("F16", [4], np.ones(4, np.float16).tobytes()),
               "c": ("BF16", [2], (np.array([1.0, -2.0], np.float32).view(np.uint32)
                                   >> 16).astype(np.uint16).tobytes())}
    header, data = {"__metadata__": {"format": "pt"}}, b""
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


CONFIG = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
          "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
          "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 300,
          "rms_norm_eps": 1e-5, "max_position_embeddings": 256,
          "rope_theta": 10000.0, "hidden_act": "silu", "tie_word_embeddings": True,
          "bos_token_id": 1, "eos_token_id": 2, "rope_scaling": None}


def tokenizer_json():
    tokens = synthetic_gguf.byte_tokens()
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = ["e t", "a o"]
    for m in merges:
        vocab[m.replace(" ", "")] = len(vocab)
    added = [{"id": len(vocab), "content": "<|im_start|>", "special": True,
              "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False}]
    return {"version": "1.0", "added_tokens": added, "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                              "trim_offsets": True, "use_regex": True},
            "model": {"type": "BPE", "vocab": vocab, "merges": merges}}


MLIR_LINEAR = """func.func @layer(%x: tensor<4x64xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<0.5> : tensor<64x2xf32>
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x2xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%init : tensor<4x2xf32>) -> tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<4x64xf32>, tensor<64x2xf32>)
                     outs(%acc : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
"""


def main(quant_compile):
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        g = os.path.join(tmp, "tiny.gguf")
        tiny_gguf(g)
        put("gguf", "tiny.gguf", open(g, "rb").read())
        out = os.path.join(tmp, "model")
        subprocess.run([quant_compile, g, "--scheme", "int8", "--max-context", "16",
                        "--prefill-tokens", "4", "--quiet", "-o", out], check=True)
        put("model", "weights.bin", b"\0" + open(os.path.join(out, "weights.bin"), "rb").read())
        tok = open(os.path.join(out, "tokenizer.bin"), "rb").read()
        put("model", "tokenizer.bin", b"\1" + tok)
        # The same with the harness's checksum fix-up bit.
        put("model", "tokenizer-fixup.bin", b"\3" + tok)
    put("hf", "model.safetensors", b"\0" + safetensors())
    put("hf", "config.json", b"\1" + json.dumps(CONFIG).encode())
    put("hf", "tokenizer.json", b"\2" + json.dumps(tokenizer_json()).encode())
    put("mlir", "linear.mlir", MLIR_LINEAR.encode())
    for test in ("ops", "invalid", "quantize-linear"):
        text = open(os.path.join(HERE, "..", "test", "Dialect", "Qnt", test + ".mlir")).read()
        for i, chunk in enumerate(text.split("// -----")):
            body = "\n".join(l for l in chunk.splitlines() if not l.startswith("//"))
            if body.strip() and len(body) < 8192:
                put("mlir", f"{test}-{i}.mlir", body.encode())


if __name__ == "__main__":
    main(sys.argv[1])
