#!/usr/bin/env python3
"""Writes a Llama GGUF cut to its first LAYERS transformer blocks (metadata,
embeddings, final norm and head kept, tensors copied as stored): a smaller
model of the same shapes for checks that must travel light.

  gguf_truncate.py IN.gguf OUT.gguf LAYERS
"""
import re
import sys

import gguf

from gguf_requantize import copy_metadata


def main(src, dst, layers):
    reader = gguf.GGUFReader(src)
    arch = reader.fields["general.architecture"].contents()
    count_key = f"{arch}.block_count"
    if reader.fields[count_key].contents() < layers:
        sys.exit(f"{src}: has fewer than {layers} blocks")
    writer = copy_metadata(reader, dst, {count_key: layers})
    for t in reader.tensors:
        block = re.match(r"blk\.(\d+)\.", t.name)
        if block and int(block.group(1)) >= layers:
            continue
        writer.add_tensor(t.name, t.data, raw_shape=t.data.shape,
                          raw_dtype=t.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
