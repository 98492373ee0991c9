#!/usr/bin/env python3
"""The quant-mlir demo: quantize the example MLP with every scheme, run it on
the CPU, and print the memory table and the error figures.

For each scheme the model goes through
  quant-opt --qnt-report        (sizes and weight error, per the numerics library)
  quant-opt --qnt-quantize-linear --qnt-cpu-pipeline | mlir-runner
and its printed output is compared with the float model's.

Usage: examples/demo.py [--build BUILD_DIR] [--model MODEL.mlir]
"""

import argparse
import csv
import io
import os
import re
import subprocess
import sys

import numpy as np

LLVM = "/usr/lib/llvm-22"
SCHEMES = [
    ("int8", "scheme=int8"),
    ("int8 asymmetric", "scheme=int8 symmetric=false"),
    ("int4 g128", "scheme=int4 group-size=128"),
    ("int4 asym g32", "scheme=int4 symmetric=false group-size=32"),
    ("nf4 g64", "scheme=nf4"),
    ("nf4 g64 + double quant", "scheme=nf4 double-quant=true"),
    ("fp4 g64", "scheme=fp4"),
    ("nf4 g64 dq, bf16 compute", "scheme=nf4 double-quant=true compute-type=bf16"),
]
NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[-+]?\d+)?|inf|nan)", re.I)


def run(cmd, stdin=None):
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"demo: command failed: {' '.join(cmd)}\n{proc.stderr.strip()}")
    return proc.stdout


def execute(quant_opt, model, options):
    """Runs the model (quantized with `options`, or float if None)."""
    passes = [f"--qnt-quantize-linear={options}"] if options else []
    llvm_ir = run([quant_opt, model, *passes, "--qnt-cpu-pipeline"])
    libs = ",".join(f"{LLVM}/lib/{lib}" for lib in
                    ("libmlir_runner_utils.so", "libmlir_c_runner_utils.so"))
    out = run([f"{LLVM}/bin/mlir-runner", "-e", "main",
               "-entry-point-result=void", f"-shared-libs={libs}"], llvm_ir)
    data = out[out.index("data =") + len("data ="):]
    return np.array([float(v) for v in NUMBER.findall(data)])


def report_totals(quant_opt, model, options):
    table = run([quant_opt, model, f"--qnt-report={options} format=csv",
                 "-o", os.devnull])
    rows = list(csv.DictReader(io.StringIO(table)))
    return rows[-1]  # The totals row.


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", default=os.path.join(here, "..", "build"))
    parser.add_argument("--model", default=os.path.join(here, "mlp.mlir"))
    args = parser.parse_args()
    quant_opt = os.path.join(args.build, "bin", "quant-opt")
    if not os.path.exists(args.model):
        sys.exit(f"demo: model '{args.model}' not found")

    reference = execute(quant_opt, args.model, None)
    ref_norm = np.linalg.norm(reference)
    print(f"quant-mlir demo: {os.path.basename(args.model)}, every linear "
          f"layer quantized at compile time, run on the CPU "
          f"({reference.size} outputs)\n")
    header = (f"{'scheme':<26} {'weights':>10} {'% FP16':>7} {'bits/w':>7} "
              f"{'weight RMSE':>11} {'SQNR dB':>8} {'out rel err':>11} "
              f"{'out max err':>11}")
    print(header)
    print("-" * len(header))
    fp16 = None
    for name, options in SCHEMES:
        t = report_totals(quant_opt, args.model, options)
        out = execute(quant_opt, args.model, options)
        if out.shape != reference.shape:
            sys.exit(f"demo: {name}: {out.size} outputs, expected "
                     f"{reference.size}")
        err = out - reference
        fp16 = int(t["fp16_bytes"])
        print(f"{name:<26} {int(t['quant_bytes']):>8} B "
              f"{float(t['pct_fp16']):>6.2f}% {float(t['bits_per_weight']):>7.3f} "
              f"{float(t['rmse']):>11.3e} {float(t['sqnr_db']):>8.2f} "
              f"{np.linalg.norm(err) / ref_norm:>11.3e} "
              f"{np.abs(err).max():>11.3e}")
    print(f"\nFP32 weights: {2 * fp16} B, FP16: {fp16} B. 'out' columns compare "
          f"the quantized model's outputs with the float model's (relative L2, "
          f"max abs).")


if __name__ == "__main__":
    main()
