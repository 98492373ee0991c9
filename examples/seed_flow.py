#!/usr/bin/env python3
"""The seeds' flow with quant-mlir's Python package: load a model, quantize it
to 8-bit and to 4-bit NF4 with double quantization, print the memory
footprints, and generate an answer -- no torch, no bitsandbytes.

  PYTHONPATH=build/python_packages python3 examples/seed_flow.py [MODEL.gguf]

(or after `pip install ./python-bindings`, without PYTHONPATH).
"""
import os
import sys
import tempfile

import numpy as np

import qmlir

CACHE = os.environ.get("QMLIR_MODEL_CACHE",
                       os.path.expanduser("~/.cache/quant-mlir"))
model_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    CACHE, "SmolLM2-135M-Instruct.Q4_1.gguf")
prompt = "What is the capital of France?"

# One weight, by hand: quantize, look at the pieces, dequantize.
rng = np.random.default_rng(0)
w = rng.normal(0.0, 0.02, size=(1536, 576)).astype(np.float32)
for scheme, kw in (("int8", {}), ("nf4", {"double_quant": True})):
    q = qmlir.quantize(w, scheme, **kw)
    err = qmlir.dequantize(q) - w
    sqnr = 10 * np.log10((w.astype(np.float64) ** 2).sum() / (err.astype(np.float64) ** 2).sum())
    print(f"{scheme:5s}{' + double quant' if kw else '':15s} {q.bits_per_weight:.3f} bits/weight, "
          f"SQNR {sqnr:.1f} dB, codes {q.codes.shape} {q.codes.dtype}")

# The whole model, as the seeds do with from_pretrained(load_in_8bit/4bit).
with tempfile.TemporaryDirectory() as tmp:
    sizes = {}
    for name, kw in (("fp32", {"scheme": "f32"}),
                     ("8-bit", {"scheme": "int8"}),
                     ("4-bit nf4+dq", {"scheme": "nf4", "double_quant": True})):
        out = os.path.join(tmp, name)
        r = qmlir.compile(model_path, out, max_context=256, **kw)
        sizes[name] = (r["stored_bytes"], out)
    fp32 = sizes["fp32"][0]
    print("memory footprint:  " + "  ->  ".join(
        f"{name} {b / 1e6:.0f} MB ({100 * b / fp32:.0f} %)" for name, (b, _) in sizes.items()))

    model = qmlir.Model.load(sizes["4-bit nf4+dq"][1])
    print(f"Q: {prompt}")
    answer = model.generate(prompt, max_new_tokens=32)
    print(f"A: {answer.strip()}")
    s = model.last_stats
    print(f"({s['new_tokens']} tokens at {s['new_tokens'] / max(s['decode_seconds'], 1e-9):.1f} tokens/s)")
