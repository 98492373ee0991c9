#!/usr/bin/env python3
"""The AVX-512 / AMX execution cases of the generated CPU kernels: one list,
used by lit (test/Integration/CPU/cpu-kernels-avx512.test, on CPUs that
have the level) and by scripts/avx512-check.sh (stand-alone executables for
a machine without LLVM).

Each case is a seeded MLP (qref.py gen) quantized with a scheme and checked
against qref.py's numpy reference with its rigorous error bounds; the same
cases as test/Integration/CPU/cpu-kernels.mlir runs with the AVX2 and
portable kernels. Each variant picks the kernel level and path.

  cpu_cases.py list [--variants a,b]
      one line per (case, variant):
      name|qref gen args|quantize options|pipeline options|qref check args
  cpu_cases.py run --variants a,b --dir DIR --runner-libs LIBS [--omp-lib P]
      [--amx-lib P]
      runs each through quant-opt | mlir-runner | qref.py check (tools from
      PATH); prints PASS / FAIL per case, exits 1 on any failure.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# seed m k h n | quantize-linear options | qref check options
CASES = """\
1 1 128 96 19|scheme=nf4 group-size=32|--scheme nf4 --group-size 32
2 9 192 64 19|scheme=nf4 group-size=64 double-quant=true|--scheme nf4 --group-size 64 --double-quant true
3 13 77 45 33|scheme=int4 symmetric=false group-size=0|--scheme int4 --symmetric false --group-size 0
4 5 100 64 17|scheme=int8|--scheme int8
5 20 256 192 40|scheme=int8 symmetric=false group-size=64|--scheme int8 --symmetric false --group-size 64
6 4 65 33 7|scheme=fp4 group-size=0|--scheme fp4 --group-size 0
7 70 1152 96 21|scheme=int4 group-size=32|--scheme int4 --group-size 32
8 2 2080 96 24|scheme=int4 group-size=0|--scheme int4 --group-size 0
9 40 1100 300 5|scheme=int8 symmetric=false|--scheme int8 --symmetric false
10 8 2085 64 9|scheme=int4 group-size=0|--scheme int4 --group-size 0
11 8 1024 64 9|scheme=nf4 group-size=32|--scheme nf4 --group-size 32
12 130 200 64 37|scheme=int4 symmetric=false group-size=0|--scheme int4 --symmetric false --group-size 0
13 144 256 64 40|scheme=nf4 group-size=64 double-quant=true|--scheme nf4 --group-size 64 --double-quant true
14 1 128 96 19|scheme=int8 act-int8=1 outlier-threshold=2.5|--scheme int8 --act-int8 true --outlier-threshold 2.5
15 8 77 45 33|scheme=int8 act-int8=1 outlier-threshold=1.5|--scheme int8 --act-int8 true --outlier-threshold 1.5
16 20 256 192 40|scheme=int8 group-size=64 act-int8=1 outlier-threshold=2|--scheme int8 --group-size 64 --act-int8 true --outlier-threshold 2
17 130 200 64 37|scheme=int8 act-int8=1 outlier-threshold=2|--scheme int8 --act-int8 true --outlier-threshold 2"""

BF16 = ("--compute-type bf16", " compute-type=bf16")


def _w8a8(seed, quant):
    return "act-int8" in quant


# name: (pipeline options, extra check args, extra quantize options,
#        which cases (seed, quant) -> bool)
VARIANTS = {
    # AVX-512: the integer path, the f32 dequant path.
    "int": ("isa=avx512", "--int-dot true", "", lambda s, q: True),
    "f32": ("isa=avx512 int-dot=0", "", "", lambda s, q: True),
    # AVX-512 VNNI: the 512-bit integer GEMV and tiles, W8A8's vpdpbusd.
    "vnni": ("isa=avx512vnni", "--int-dot true", "", lambda s, q: True),
    # AVX-512 BF16: bf16 compute (vdpbf16ps GEMV). W8A8 computes in
    # integers; case 8's bf16 bound is wider than its quantization error
    # (qref.py would call the case too weak).
    "bf16": ("isa=avx512bf16",) + BF16 +
            (lambda s, q: not _w8a8(s, q) and s != 8,),
    # OpenMP on the tiles.
    "omp": ("isa=avx512vnni openmp=1", "--int-dot true", "",
            lambda s, q: s in (13, 17)),
    # AMX: bf16-compute tiles (cases 12, 13; 2 and 5, M = 9 and 20, which a
    # single AMX target runs on tiles too), per-channel W8A8 tiles (17).
    "amx": ("isa=amx", "", "", lambda s, q: s == 17),
    "amx-bf16": ("isa=amx",) + BF16 + (lambda s, q: s in (2, 5, 12, 13),),
    "amxomp": ("isa=amx openmp=1", "", "", lambda s, q: s == 17),
    "amxomp-bf16": ("isa=amx openmp=1",) + BF16 +
                   (lambda s, q: s in (2, 5, 12, 13),),
}


def cases(variants):
    """(name, gen args, quantize options, pipeline options, check args)."""
    for line in CASES.splitlines():
        shape, quant, check = line.split("|")
        seed, m, k, h, n = (int(v) for v in shape.split())
        gen = f"--seed {seed} --m {m} --k {k} --h {h} --n {n} --form matmul-tb"
        for v in variants:
            opts, extra_check, extra_quant, takes = VARIANTS[v]
            if takes(seed, quant):
                yield (f"case{seed}-{v}", gen, quant + extra_quant, opts,
                       f"{gen} {check} {extra_check}".strip())


def run(args):
    env = dict(os.environ)
    qref = [sys.executable, os.path.join(HERE, "qref.py")]
    failed = 0
    for name, gen, quant, opts, check in cases(args.variants):
        src = os.path.join(args.dir, name + ".mlir")
        with open(src, "w") as f:
            subprocess.run(qref + ["gen"] + gen.split(), stdout=f, check=True)
        libs = args.runner_libs
        if "openmp=1" in opts:
            libs = f"{args.omp_lib},{libs}"
        if "isa=amx" in opts:
            # AMX needs the tile state, which the library asks Linux for
            # when mlir-runner loads it.
            libs = f"{args.amx_lib},{libs}"
        pipe = (f"quant-opt {src} --qnt-quantize-linear='{quant}' "
                f"--qnt-cpu-pipeline='{opts}' | mlir-runner -e main "
                f"-entry-point-result=void -shared-libs={libs} | "
                f"{' '.join(qref)} check {check}")
        r = subprocess.run(pipe, shell=True, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        last = r.stdout.strip().splitlines()[-1:] or [""]
        if r.returncode == 0:
            print(f"PASS {name}: {last[0]}")
        else:
            failed += 1
            print(f"FAIL {name}:\n{r.stdout}")
    print(f"{failed} failed")
    return 1 if failed else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    lst = sub.add_parser("list")
    lst.add_argument("--variants", default=",".join(VARIANTS))
    r = sub.add_parser("run")
    r.add_argument("--variants", required=True)
    r.add_argument("--dir", required=True)
    r.add_argument("--runner-libs", required=True,
                   help="mlir-runner's -shared-libs (comma-separated)")
    r.add_argument("--omp-lib", default="")
    r.add_argument("--amx-lib", default="")
    args = p.parse_args()
    args.variants = args.variants.split(",")
    for v in args.variants:
        if v not in VARIANTS:
            p.error(f"unknown variant '{v}' (known: {', '.join(VARIANTS)})")
    if args.cmd == "list":
        for c in cases(args.variants):
            print("|".join(c))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
