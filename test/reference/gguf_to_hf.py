#!/usr/bin/env python3
"""Writes a Hugging Face style checkpoint of a Llama GGUF: model.safetensors
(F32, HF tensor names, q/k rows in HF's rotate_half order), config.json and
tokenizer.json, so that the safetensors importer can be tested against the
GGUF importer on the same weights (no downloads).

  gguf_to_hf.py --gguf M.gguf OUTDIR

The safetensors file is written by hand (8-byte header length, JSON header,
data) from the format description, independently of the C++ reader.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_tokenize  # noqa: E402
import llama_ref  # noqa: E402

HF_NAMES = {
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
}


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gguf", required=True)
    ap.add_argument("out")
    a = ap.parse_args()
    cfg, w = llama_ref.load_gguf_llama(a.gguf)
    os.makedirs(a.out, exist_ok=True)
    tensors = {"model.embed_tokens.weight": w["token_embd.weight"]}
    for i in range(cfg["n_layer"]):
        for short, hf in HF_NAMES.items():
            t = w[f"blk.{i}.{short}.weight"]
            if short == "attn_q":
                t = llama_ref.gguf_to_hf_permute(t, cfg["n_head"])
            elif short == "attn_k":
                t = llama_ref.gguf_to_hf_permute(t, cfg["n_head_kv"])
            tensors[f"model.layers.{i}.{hf}.weight"] = t
    tensors["model.norm.weight"] = w["output_norm.weight"]
    write_safetensors(os.path.join(a.out, "model.safetensors"), tensors)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama",
        "hidden_size": cfg["n_embd"], "num_hidden_layers": cfg["n_layer"],
        "num_attention_heads": cfg["n_head"],
        "num_key_value_heads": cfg["n_head_kv"],
        "intermediate_size": cfg["n_ff"], "vocab_size": cfg["n_vocab"],
        "rms_norm_eps": cfg["rms_eps"], "rope_theta": cfg["rope_base"],
        "max_position_embeddings": cfg.get("n_ctx_train", 8192),
        "tie_word_embeddings": True, "rope_scaling": None,
        "bos_token_id": cfg["bos_id"], "eos_token_id": cfg["eos_id"],
        "torch_dtype": "float32"}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    hf_tokenize.build_tokenizer(a.gguf, special=True).save(
        os.path.join(a.out, "tokenizer.json"))
    print(f"wrote {a.out}: {len(tensors)} tensors")


if __name__ == "__main__":
    main()
