#!/usr/bin/env python3
"""Turns the logs of `scripts/gpu-check.sh run` into a markdown table.

Usage: report.py LOG_DIR [--out FILE]   (default FILE: LOG_DIR/README.md)
Columns per (K, N, M): cuBLAS bf16 and torch int4 tinygemm (anchors, same
run), then each of our schemes: time, speed-up over cuBLAS bf16, weight
bandwidth and TFLOP/s. Also lists the correctness and memcheck summaries.
"""

import argparse
import os
import re
import sys

SHAPES = [(4096, 6144), (4096, 4096), (4096, 28672), (14336, 4096)]
SCHEMES = [("nf4dq", "nf4 g64 + dq"), ("int4g128", "int4 g128"), ("int8", "int8")]


def read(path):
    with open(path) as f:
        return f.read()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--out")
    args = parser.parse_args()
    d = args.dir
    try:
        anchors = dict(re.findall(r"^anchor (\S+) ([\d.]+)$", read(f"{d}/anchors.log"), re.M))
        ours = {m[0]: (float(m[1]), float(m[2]), float(m[3])) for m in
                re.findall(r"^(\S+_bf16_m\d+_n\d+_k\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$",
                           read(f"{d}/bench.log"), re.M)}
        device = read(f"{d}/device.txt").strip()
        tests = re.findall(r"^(\d+) of (\d+) cases passed$", read(f"{d}/test.log"), re.M)
        memcheck = re.findall(r"ERROR SUMMARY: (\d+) error", read(f"{d}/memcheck.log"))
    except OSError as e:
        sys.exit(f"report: {e}")

    lines = [f"# Generated CUDA kernels vs cuBLAS bf16 and torch int4 tinygemm",
             "", f"Device: {device}. Activations bf16, [M, K] x [K, N]; "
             "times are medians of device-event timings (ours: "
             "qnt-gpu-harness, weights rotated past the L2; anchors: "
             "triton do_bench, L2 flushed), all from one run of "
             "`scripts/gpu-check.sh run`. Ratio = cuBLAS bf16 time / ours.", ""]
    if tests:
        passed = sum(int(t[0]) for t in tests)
        total = sum(int(t[1]) for t in tests)
        errors = sum(int(e) for e in memcheck) if memcheck else "?"
        lines.append(f"Correctness: {passed} of {total} cases passed "
                     "(every scheme, M = 1/3/16/100/130/2048, odd shapes, "
                     "f32/bf16/f16; sm_90a kernels, and the sm_90 GEMM at "
                     f"M = 2048); compute-sanitizer memcheck: {errors} errors.")
        lines.append("")
    head = "| K x N | M | cuBLAS bf16 us | tinygemm int4 us |"
    sep = "|---|---|---|---|"
    for _, label in SCHEMES:
        head += f" {label} us (x bf16, GB/s, TFLOP/s) |"
        sep += "---|"
    lines += [head, sep]
    for k, n in SHAPES:
        for m in (1, 16, 2048):
            key = f"m{m}_n{n}_k{k}"
            bf16 = anchors.get(f"cublas_bf16_{key}")
            tiny = anchors.get(f"tinygemm_int4_{key}")
            row = f"| {k} x {n} | {m} | {bf16 or '-'} | {tiny or '-'} |"
            for label, _ in SCHEMES:
                r = ours.get(f"{label}_bf16_{key}")
                if not r:
                    row += " - |"
                    continue
                us, gbs, tf = r
                ratio = f"{float(bf16) / us:.2f}x" if bf16 else "-"
                row += f" {us:.1f} ({ratio}, {gbs:.0f}, {tf:.1f}) |"
            lines.append(row)
    out = args.out or os.path.join(d, "README.md")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
