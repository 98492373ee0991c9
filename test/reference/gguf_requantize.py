#!/usr/bin/env python3
"""Rewrites a GGUF with its 2-D weights in another ggml type (q8_0 or q4_0),
with gguf-py's own quantizer, keeping every metadata entry and the 1-D
tensors (norms) as they are: test inputs for quant-compile's import of GGUF
tensors that a scheme stores without loss.

  gguf_requantize.py IN.gguf OUT.gguf q8_0|q4_0
"""
import sys

import gguf
import numpy as np

TYPES = {"q8_0": gguf.GGMLQuantizationType.Q8_0, "q4_0": gguf.GGMLQuantizationType.Q4_0}


def copy_metadata(reader, dst, changed=None):
    """A GGUFWriter for dst with every metadata entry of reader, the values
    in `changed` (key -> value) replacing theirs."""
    arch = reader.fields["general.architecture"].contents()
    writer = gguf.GGUFWriter(dst, arch)
    for name, field in reader.fields.items():
        if name.startswith("GGUF.") or name == "general.architecture":
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        value = (changed or {}).get(name, field.contents())
        writer.add_key_value(name, value, vtype, sub_type=sub)
    return writer


def main(src, dst, type_name):
    qtype = TYPES[type_name]
    reader = gguf.GGUFReader(src)
    writer = copy_metadata(reader, dst)
    for t in reader.tensors:
        rows_cols = [int(d) for d in reversed(t.shape)]  # [ne1, ne0]
        data = gguf.quants.dequantize(t.data, t.tensor_type).reshape(rows_cols)
        if data.ndim == 2:
            writer.add_tensor(t.name, gguf.quants.quantize(data.astype(np.float32), qtype),
                              raw_dtype=qtype)
        else:
            writer.add_tensor(t.name, data.astype(np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
