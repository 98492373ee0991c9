#!/usr/bin/env python3
"""Writes the GPU test and benchmark cases: an MLIR module with one function
per case (a qnt.matmul on device buffers) and cases.txt describing them.

Each line of cases.txt: name kind symmetric group double_quant compute act M N K
(the harness quantizes random weights the same way through the numerics
library, runs the generated kernel and checks or times it).

Usage: gen_cases.py --set test|bench OUT_DIR
"""

import argparse
import os

# (label, kind, symmetric, group, double_quant)
SCHEMES = {
    "int8": ("int8", True, 0, False),
    "int8a": ("int8", False, 0, False),
    "int4g128": ("int4", True, 128, False),
    "int4ag32": ("int4", False, 32, False),
    "nf4": ("nf4", True, 64, False),
    "nf4dq": ("nf4", True, 64, True),
    "fp4dq": ("fp4", True, 64, True),
    "nf4g8": ("nf4", True, 8, False),
}


def scheme_attr(kind, sym, group, dq, compute):
    parts = [kind]
    if not sym:
        parts.append("asymmetric")
    if group:
        parts.append(f"group = {group}")
    if dq:
        parts.append("double_quant")
    if compute != "f32":
        parts.append(f"compute = {compute}")
    return "#qnt.scheme<" + ", ".join(parts) + ">"


def weight_types(kind, sym, group, dq, n, k):
    g = k // group if group else 1
    cols = k if kind == "int8" else (k + 1) // 2
    types = [f"tensor<{n}x{cols}xi8>", f"tensor<{n}x{g}x{'i8' if dq else 'f32'}>"]
    if not sym:
        types.append(f"tensor<{n}x{g}xi8>")
    if dq:
        types += [f"tensor<{(n * g + 255) // 256}xf32>", "tensor<f32>"]
    return types


def case_function(name, scheme, compute, act, m, n, k):
    kind, sym, group, dq = scheme
    wt = weight_types(kind, sym, group, dq, n, k)
    args = [f"%x: tensor<{m}x{k}x{act}>"]
    args += [f"%w{i}: {t}" for i, t in enumerate(wt)]
    args.append(f"%init: tensor<{m}x{n}x{act}>")
    ops = f"%w0 : {wt[0]} scales(%w1 : {wt[1]})"
    i = 2
    if not sym:
        ops += f" zero_points(%w{i} : {wt[i]})"
        i += 1
    if dq:
        ops += f" dq(%w{i} : {wt[i]}, %w{i + 1} : {wt[i + 1]})"
    out = f"tensor<{m}x{n}x{act}>"
    return (f"func.func @{name}({', '.join(args)}) -> {out} {{\n"
            f"  %y = qnt.matmul {scheme_attr(kind, sym, group, dq, compute)} "
            f"%x : tensor<{m}x{k}x{act}>, {ops} outs(%init : {out}) -> {out}\n"
            f"  return %y : {out}\n}}\n")


def cases(which):
    if which == "sweep":
        # M = 1 and 16: the kernel-parameter sweep of scripts/gpu-check.sh.
        for label in ("nf4dq", "int4g128", "int8"):
            for k, n in [(4096, 4096), (4096, 28672), (14336, 4096)]:
                for m in (1, 16):
                    yield label, "bf16", "bf16", m, n, k
        return
    if which == "bench":
        shapes = [(4096, 6144), (4096, 4096), (4096, 28672), (14336, 4096)]
        for label in ("nf4dq", "int4g128", "int8"):
            for k, n in shapes:
                for m in (1, 16, 2048):
                    yield label, "bf16", "bf16", m, n, k
        return
    # Correctness: every scheme, M in {1, 16, 2048}, odd shapes (K not a
    # multiple of 256, N not a multiple of 128), every activation type.
    for label in SCHEMES:
        if label == "nf4g8":
            continue
        for m in (1, 16):
            yield label, "f32", "f32", m, 200, 384
            yield label, "bf16", "bf16", m, 1000, 1408
        yield label, "f16", "f16", 3, 77, 640
        yield label, "bf16", "bf16", 2048, 136, 384
        # Partial tiles of the large-M kernels (on sm_90a: 128 rows of M per
        # block at M = 100, 256 at M = 130); an odd number of 64-wide steps
        # of K where the group allows (K = 576).
        yield label, "bf16", "bf16", 100, 200, 640 if SCHEMES[label][2] == 128 else 576
        yield label, "f16", "f16", 130, 77, 640
    # The scalar path: K not a multiple of 32 (8-bit codes: of 16).
    yield "int8", "f32", "f32", 2, 9, 40
    yield "nf4g8", "f32", "f32", 2, 9, 72


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=["test", "bench", "sweep"], required=True)
    parser.add_argument("out")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    funcs, lines = [], []
    for label, compute, act, m, n, k in cases(args.set):
        kind, sym, group, dq = SCHEMES[label]
        name = f"{label}_{act}_m{m}_n{n}_k{k}"
        funcs.append(case_function(name, SCHEMES[label], compute, act, m, n, k))
        lines.append(f"{name} {kind} {int(sym)} {group} {int(dq)} {compute} "
                     f"{act} {m} {n} {k}")
    with open(os.path.join(args.out, "cases.mlir"), "w") as f:
        f.write("\n".join(funcs))
    with open(os.path.join(args.out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
