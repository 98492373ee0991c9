#!/usr/bin/env python3
"""Copies a GGUF with one value of one tensor replaced by NaN or +-inf, as a
damaged download would hold it: test input for the importers' check of
non-finite weights.

  gguf_damage.py IN.gguf OUT.gguf TENSOR INDEX nan|inf|-inf

F32 / F16 tensors: element INDEX (flat, row-major) takes the value. Block
types (Q8_0, Q4_0, Q4_1: 32 elements a block, an f16 scale `d` first): the
scale of the block holding element INDEX takes it, so every element of that
block dequantizes to a non-finite value (the first one being the block's
first element).
"""
import shutil
import sys

import gguf
import numpy as np

BLOCKS = {gguf.GGMLQuantizationType.Q8_0: 34, gguf.GGMLQuantizationType.Q4_0: 18,
          gguf.GGMLQuantizationType.Q4_1: 20}


def main(src, dst, name, index, value):
    value = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}[value]
    reader = gguf.GGUFReader(src)
    (tensor,) = [t for t in reader.tensors if t.name == name]
    kind = tensor.tensor_type
    if kind == gguf.GGMLQuantizationType.F32:
        at, raw = tensor.data_offset + 4 * index, np.float32(value).tobytes()
    elif kind == gguf.GGMLQuantizationType.F16:
        at, raw = tensor.data_offset + 2 * index, np.float16(value).tobytes()
    elif kind in BLOCKS:
        at = tensor.data_offset + (index // 32) * BLOCKS[kind]
        raw = np.float16(value).tobytes()
    else:
        sys.exit(f"{name}: type {kind.name} is not handled")
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(at)
        f.write(raw)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
