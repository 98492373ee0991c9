#!/usr/bin/env python3
"""Quantization error of every scheme on a Gaussian weight, via --qnt-report.

Writes a one-layer model whose [K, N] weight is N(0, 0.02^2) (seed 42,
N = 256 outputs, K = 4096 inputs), runs `quant-opt --qnt-report` once per
scheme and prints bits per weight, RMSE and SQNR: the figures the numerics
library gives (the report quantizes with it).

Usage: examples/gaussian_error.py [--build BUILD_DIR] [--n N] [--k K]
"""

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile

import numpy as np

SCHEMES = [
    ("int8 (per channel)", "scheme=int8"),
    ("int8 asymmetric", "scheme=int8 symmetric=false"),
    ("int4 g128", "scheme=int4 group-size=128"),
    ("int4 asymmetric g128", "scheme=int4 symmetric=false group-size=128"),
    ("nf4 g64", "scheme=nf4"),
    ("nf4 g64 + double quant", "scheme=nf4 double-quant=true"),
    ("fp4 g64", "scheme=fp4"),
    ("fp4 g64 + double quant", "scheme=fp4 double-quant=true"),
]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(here, "..", "build"))
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--k", type=int, default=4096)
    args = parser.parse_args()
    quant_opt = os.path.join(args.build, "bin", "quant-opt")

    rng = np.random.default_rng(42)
    w = (0.02 * rng.standard_normal((args.k, args.n))).astype(np.float32)
    k, n = args.k, args.n
    model = (f'func.func @f(%x: tensor<1x{k}xf32>, %i: tensor<1x{n}xf32>) -> '
             f'tensor<1x{n}xf32> {{\n'
             f'  %w = arith.constant dense<"0x{w.astype("<f4").tobytes().hex()}"> '
             f': tensor<{k}x{n}xf32>\n'
             f'  %y = linalg.matmul ins(%x, %w : tensor<1x{k}xf32>, '
             f'tensor<{k}x{n}xf32>) outs(%i : tensor<1x{n}xf32>) -> '
             f'tensor<1x{n}xf32>\n  return %y : tensor<1x{n}xf32>\n}}\n')
    with tempfile.NamedTemporaryFile("w", suffix=".mlir") as f:
        f.write(model)
        f.flush()
        print(f"Gaussian weight N(0, 0.02^2), N = {n}, K = {k}, seed 42\n")
        print(f"{'scheme':<24} {'bits/w':>7} {'RMSE':>10} {'SQNR dB':>8}")
        for name, options in SCHEMES:
            proc = subprocess.run(
                [quant_opt, f.name, f"--qnt-report={options} format=csv",
                 "-o", os.devnull], capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f"gaussian_error: {name}: {proc.stderr.strip()}")
            row = list(csv.DictReader(io.StringIO(proc.stdout)))[0]
            print(f"{name:<24} {float(row['bits_per_weight']):>7.3f} "
                  f"{float(row['rmse']):>10.3e} {float(row['sqnr_db']):>8.2f}")


if __name__ == "__main__":
    main()
