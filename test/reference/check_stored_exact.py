#!/usr/bin/env python3
"""Checks that a compiled model stores its linear layers exactly as a GGUF
holds them: every 2-D GGUF tensor, dequantized by gguf-py, equals bit for bit
the model's stored tensor dequantized with the scheme's formulas
(compare_model.dequantize, independent of the compiler).

  check_stored_exact.py MODEL.gguf OUTDIR int8|int4 GROUP
"""
import os
import sys

import gguf
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_model  # noqa: E402
import qref  # noqa: E402


def main(gguf_path, out_dir, kind, group):
    scheme = qref.Scheme(kind, True, int(group), False)
    stored = compare_model.read_weights(os.path.join(out_dir, "weights.bin"))
    reader = gguf.GGUFReader(gguf_path)
    checked = 0
    for t in reader.tensors:
        if len(t.shape) != 2:
            continue
        k, n = (int(d) for d in t.shape)
        want = gguf.quants.dequantize(t.data, t.tensor_type).reshape(n, k)
        got = compare_model.dequantize(stored, t.name, scheme, n, k)
        diff = np.flatnonzero(want.view(np.uint32) != np.asarray(got, np.float32).view(np.uint32))
        if diff.size:
            print(f"FAIL {t.name}: {diff.size} of {want.size} values differ")
            return 1
        checked += 1
    print(f"ok: {checked} tensors stored exactly")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
