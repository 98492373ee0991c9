#!/usr/bin/env python3
"""Golden files from the REAL bitsandbytes library, for bit-exactness tests.

Run with a Python that has torch, bitsandbytes, numpy, safetensors and gguf
(see README.md beside this file for the exact venv recipe and versions):

  make_goldens.py --smollm2 ~/.cache/quant-mlir/SmolLM2-135M-Instruct.Q4_1.gguf \
                  --minilm ~/.cache/quant-mlir/all-MiniLM-L6-v2 \
                  --out test/golden/bnb

Writes random.npz, minilm.npz, smollm2.npz and manifest.json into --out.
Every number in them comes from bitsandbytes (bnb) itself, never from
quant-mlir's code. Key scheme: see KEY_SCHEME below (also in manifest.json).
"""

import argparse
import datetime
import hashlib
import json
import os
import platform
import subprocess
import sys

import numpy as np
import torch

import bitsandbytes as bnb
import bitsandbytes.functional as F

QUANT_TYPES = ("nf4", "fp4")
BLOCKSIZES = (64, 128)
INT8_THRESHOLD = 6.0

KEY_SCHEME = {
    "<input>/x": "random.npz only: the input itself, float32, original shape "
                 "(real inputs are not stored: see manifest sha256)",
    "<input>/<qt>/b<bs>/codes": "uint8 [ceil(numel/2)]: packed 4-bit codes of "
                                "F.quantize_4bit(x, blocksize=bs, quant_type=qt), input flattened "
                                "row-major; element 2i in the HIGH nibble of byte i; an odd numel "
                                "is padded with one 0.0 element. Identical with and without "
                                "compress_statistics (asserted when generating), so stored once.",
    "<input>/<qt>/b<bs>/absmax": "float32 [ceil(numel/bs)]: state.absmax with "
                                 "compress_statistics=False",
    "<input>/<qt>/b<bs>/dq/absmax_codes": "uint8 [ceil(numel/bs)]: state.absmax with "
                                          "compress_statistics=True (8-bit codes into dynamic_code)",
    "<input>/<qt>/b<bs>/dq/absmax2": "float32 [ceil(ceil(numel/bs)/256)]: state.state2.absmax",
    "<input>/<qt>/b<bs>/dq/offset": "float32 []: state.offset (= mean of the fp32 absmax)",
    "<input>/int8/codes": "int8 [rows, cols]: F.int8_vectorwise_quant(x, threshold=0.0)[0] "
                          "(2-D inputs only)",
    "<input>/int8/row_stats": "float32 [rows]: its row_stats (row absmax)",
    "<input>/int8_t6/codes": "int8 [rows, cols]: F.int8_vectorwise_quant(x, threshold=6.0)[0] "
                             "(only for inputs listed with int8_threshold in the manifest)",
    "<input>/int8_t6/row_stats": "float32 [rows]",
    "<input>/int8_t6/outlier_cols": "int64 [k]: column indices holding any |x| >= 6.0",
    "dynamic_code": "float32 [256]: state.state2.code, the signed dynamic map used for the "
                    "nested absmax (stored once per file)",
    "nf4_code, fp4_code": "float32 [16]: bnb's 4-bit code tables in code order "
                          "(state.code), stored once per file",
}


def sha256_f32(a):
    a = np.ascontiguousarray(a, dtype="<f4")
    return hashlib.sha256(a.tobytes()).hexdigest()


# ---------------------------------------------------------------- inputs ----

def nf4_fp4_midpoints():
    """The fp32 midpoints bnb's quantize_4bit bucketizes on (sorted)."""
    mids = []
    for qt in QUANT_TYPES:
        code = F.get_4bit_type(qt, device="cpu")
        srt = torch.sort(code).values
        mids.append(((srt[:-1] + srt[1:]) / 2).numpy())
    return np.unique(np.concatenate(mids)).astype(np.float32)


def bucket(scaled, mids):
    # torch.bucketize(right=False): index i with mids[i-1] < v <= mids[i]
    return np.searchsorted(mids, scaled, side="left")


def midpoint_block(rng, A, mids, codes, size=128):
    """One block: absmax A, values fl(m*A) and its two neighbours for every
    midpoint m, plus exact code*A values and zeros; shuffled, A kept first."""
    A = np.float32(A)
    vals = []
    for m in mids:
        c = np.float32(m) * A
        vals += [c, np.nextafter(c, np.float32(-np.inf)), np.nextafter(c, np.float32(np.inf))]
    vals += list(codes.astype(np.float32) * A)
    vals = [v for v in vals if abs(v) <= A]
    while len(vals) < size - 1:
        vals.append(np.float32(0.0))
    vals = np.array(vals[: size - 1], dtype=np.float32)
    rng.shuffle(vals)
    blk = np.concatenate([[A], vals]).astype(np.float32)
    if size > 64:
        blk[64] = -A         # the second 64-block (b64) has the same absmax
    return blk


def divmul_candidates(rng, mids, want, max_tries=200000):
    """(A, x) pairs where x*(1/A) and x/A fall on different sides of a 4-bit
    midpoint, i.e. where the two scalings give different codes."""
    found = {}
    tries = 0
    while sum(len(v) for v in found.values()) < want and tries < max_tries:
        tries += 1
        A = np.float32(rng.uniform(0.001, 10.0))
        inv = np.float32(1.0) / A
        m = mids[rng.integers(len(mids))]
        c = np.float32(m) * A
        for k in range(-4, 5):
            x = c
            step = np.float32(np.inf) if k > 0 else np.float32(-np.inf)
            for _ in range(abs(k)):
                x = np.nextafter(x, step)
            if abs(x) > A:
                continue
            s_mul = np.float32(x * inv)
            s_div = np.float32(x / A)
            if bucket(s_mul, mids) != bucket(s_div, mids):
                found.setdefault(float(A), []).append(x)
    return found


def make_random_inputs():
    rng = np.random.default_rng(20260101)
    mids = nf4_fp4_midpoints()
    codes = np.concatenate([F.get_4bit_type(q, device="cpu").numpy() for q in QUANT_TYPES])
    inputs = {}
    notes = {}

    inputs["normal_64x1024"] = rng.normal(0.0, 0.02, size=(64, 1024)).astype(np.float32)
    notes["normal_64x1024"] = "normal(0, 0.02), 2-D"

    inputs["odd_1000"] = rng.normal(0.0, 1.0, size=(1000,)).astype(np.float32)
    notes["odd_1000"] = "normal(0,1), flat, partial last block for b64 (40 elements) and b128 (104)"

    inputs["odd_999"] = rng.normal(0.0, 1.0, size=(999,)).astype(np.float32)
    notes["odd_999"] = "odd numel: packed codes padded with one 0.0 element"

    x = rng.normal(0.0, 0.5, size=(2048,)).astype(np.float32)
    x[0:128] = 0.0           # all-zero block for b64 and b128
    x[128:256] = 0.37        # constant positive block
    x[256:384] = -1.7        # constant negative block
    x[384:448] = 1e-3        # constant, b64 only (b128 block also holds normals)
    x[512:640] = 0.0
    x[600] = -2.0            # single nonzero in a zero block
    inputs["zero_const_2048"] = x
    notes["zero_const_2048"] = ("all-zero blocks (absmax 0 stored), constant blocks, "
                               "one-spike block")

    inputs["constant_1024"] = np.full((1024,), 0.37, dtype=np.float32)
    notes["constant_1024"] = ("every block has the same absmax, so absmax - offset is all zero: "
                             "the nested 8-bit block takes bnb's absmax == 0 path")

    x = rng.normal(0.0, 1.0, size=(1000,)).astype(np.float32)
    x[1000 - 104:] = 0.0     # the partial last block is all zero for b64 and b128
    inputs["zero_tail_1000"] = x
    notes["zero_tail_1000"] = ("all-zero PARTIAL last block: bnb stores absmax 1e-38 "
                              "(clamped) there, 0 for an all-zero full block")

    blocks = []
    for A in (1.0, 0.37, 3.0, 1e-3, 7.5, 0.0123, 100.0, 2.5e-5, 0.8333333, 1.0e-20):
        blocks.append(midpoint_block(rng, A, mids, codes, 128))
    # a tail of 100 (b64 partial = last 36, b128 partial = last 100), both
    # starting with their absmax
    tail = midpoint_block(rng, 0.61, mids, codes, 128)[:100].copy()
    tail[64] = np.float32(0.61)
    blocks.append(tail)
    inputs["midpoints"] = np.concatenate(blocks).astype(np.float32)
    notes["midpoints"] = ("blocks of 128 with absmax A first, then fl(m*A) and its two fp32 "
                         "neighbours for every NF4 and FP4 midpoint m, exact code*A values, "
                         "zeros; partial tail of 100")

    found = divmul_candidates(rng, mids, want=400)
    items = sorted(found.items())
    chunks = []
    for A, xs in items:
        xs = np.array(xs, dtype=np.float32)
        for i in range(0, len(xs), 63):
            part = xs[i:i + 63]
            blk = np.zeros(64, dtype=np.float32)
            blk[0] = A
            blk[1:1 + len(part)] = part
            # second half of a 128-block: same absmax so b128 sees the same A
            blk2 = blk.copy()
            rng.shuffle(blk2[1:])
            chunks.append(np.concatenate([blk, blk2]))
    body = np.concatenate(chunks[:-1]) if len(chunks) > 1 else np.zeros(0, np.float32)
    last = chunks[-1][:100].copy()       # partial tail (36 for b64, 100 for b128)
    last[64] = last[0]
    inputs["divmul"] = np.concatenate([body, last]).astype(np.float32)
    notes["divmul"] = ("values x near m*A where fl(x*fl(1/A)) and fl(x/A) give different "
                      "4-bit codes; bnb uses x*(1/A) for full blocks and x/A for the partial "
                      "last block")

    inputs["student_t_96x512"] = (rng.standard_t(3.0, size=(96, 512)) * 0.02).astype(np.float32)
    notes["student_t_96x512"] = "student-t (df=3) * 0.02, heavy-tailed, 2-D"

    x = rng.normal(0.0, 1.0, size=(32, 256)).astype(np.float32)
    np.clip(x, -5.5, 5.5, out=x)
    x[3, 17] = 6.0                       # exactly the threshold: an outlier (>=)
    x[9, 17] = -7.25
    x[5, 100] = np.nextafter(np.float32(6.0), np.float32(0.0))   # just below: not one
    x[20, 200] = -6.0
    x[31, 255] = 11.5
    x[0, 0] = 8.0
    inputs["outliers_32x256"] = x
    notes["outliers_32x256"] = ("normal(0,1) clipped to 5.5 with injected |x|>=6 values "
                               "(one exactly 6.0, one just below 6.0); int8 threshold=6.0 too")

    x = rng.normal(0.0, 1.0, size=(4, 256)).astype(np.float32)
    for r in range(4):
        x[r, :] = np.clip(np.round(x[r, :] * 20.0), -120, 120) + np.float32(0.5)
        x[r, 0] = 127.0 if r % 2 == 0 else -127.0
    inputs["int8_ties_4x256"] = x.astype(np.float32)
    notes["int8_ties_4x256"] = ("rows with absmax 127 and half-integer values: 127/absmax "
                               "is exactly 1, so int8 rounding ties (half to even) are hit")

    x = np.zeros(256, dtype=np.float32)
    x[0:64] = rng.normal(0.0, 1.0, 64).astype(np.float32) * np.float32(1e-39)   # subnormal
    x[64:128] = rng.normal(0.0, 1.0, 64).astype(np.float32) * np.float32(2e-38)
    x[128:256] = rng.normal(0.0, 1.0, 128).astype(np.float32)
    x[130] = np.float32(1e-39)
    inputs["subnormal_256"] = x
    notes["subnormal_256"] = ("a block of subnormals (absmax < 1e-38: bnb scales by "
                             "1/clamp(absmax,1e-38), not 1/absmax) and one near FLT_MIN")

    x = rng.normal(0.0, 1.0, size=(8, 4096)).astype(np.float32)
    x *= np.exp(rng.normal(0.0, 2.0, size=(8, 4096 // 64, 1))).repeat(64, axis=2).reshape(8, 4096).astype(np.float32)
    inputs["wide_absmax_8x4096"] = x.astype(np.float32)
    notes["wide_absmax_8x4096"] = ("block scales spread over many decades (log-normal) so the "
                                  "nested 8-bit absmax quantization spans the dynamic map")

    for k, v in inputs.items():
        assert v.dtype == np.float32 and v.size <= 100000, (k, v.dtype, v.size)
    return inputs, notes


def load_minilm(d, names):
    from safetensors.numpy import load_file
    t = load_file(os.path.join(d, "model.safetensors"))
    return {n: np.ascontiguousarray(t[n], dtype=np.float32) for n in names}


def load_smollm2(path, names):
    import gguf
    r = gguf.GGUFReader(path)
    by = {t.name: t for t in r.tensors}
    out, info = {}, {}
    for n in names:
        t = by[n]
        x = gguf.quants.dequantize(t.data, t.tensor_type)
        ne = [int(s) for s in t.shape]          # GGUF order [ne0, ne1]
        x = np.ascontiguousarray(x, dtype=np.float32).reshape(ne[1], ne[0])
        out[n] = x
        info[n] = {"gguf_type": t.tensor_type.name, "gguf_ne": ne}
    return out, info


# ------------------------------------------------------------- quantize ----

def quantize_all(name, x, out, int8_threshold=False):
    """Run bnb on x; add arrays to dict out. Returns notes on the run."""
    meta = {}
    xt = torch.from_numpy(x.copy())
    for qt in QUANT_TYPES:
        for bs in BLOCKSIZES:
            p = f"{name}/{qt}/b{bs}"
            q0, s0 = F.quantize_4bit(xt.clone(), blocksize=bs, quant_type=qt, compress_statistics=False)
            q1, s1 = F.quantize_4bit(xt.clone(), blocksize=bs, quant_type=qt, compress_statistics=True)
            assert q0.dtype == torch.uint8 and q1.dtype == torch.uint8
            assert torch.equal(q0, q1), f"{p}: codes differ with compress_statistics"
            assert s0.absmax.dtype == torch.float32 and s1.absmax.dtype == torch.uint8
            assert s1.state2.absmax.dtype == torch.float32 and s1.offset.dtype == torch.float32
            assert s1.state2.blocksize == 256
            out[f"{p}/codes"] = q0.reshape(-1).numpy().copy()
            out[f"{p}/absmax"] = s0.absmax.numpy().copy()
            out[f"{p}/dq/absmax_codes"] = s1.absmax.numpy().copy()
            out[f"{p}/dq/absmax2"] = s1.state2.absmax.numpy().copy()
            out[f"{p}/dq/offset"] = np.array(s1.offset.item(), dtype=np.float32)
            code2 = s1.state2.code.numpy().astype(np.float32)
            if "dynamic_code" in out:
                assert np.array_equal(out["dynamic_code"], code2)
            else:
                out["dynamic_code"] = code2.copy()
            c = s0.code.numpy().astype(np.float32)
            if f"{qt}_code" in out:
                assert np.array_equal(out[f"{qt}_code"], c)
            else:
                out[f"{qt}_code"] = c.copy()
    if x.ndim == 2:
        a = xt.clone()
        codes, stats, cols = F.int8_vectorwise_quant(a, threshold=0.0)
        assert torch.equal(a, xt)
        assert cols is None
        out[f"{name}/int8/codes"] = codes.numpy().copy()
        out[f"{name}/int8/row_stats"] = stats.numpy().astype(np.float32).copy()
        if int8_threshold:
            a = xt.clone()
            codes, stats, cols = F.int8_vectorwise_quant(a, threshold=INT8_THRESHOLD)
            assert torch.equal(a, xt), "bnb did not restore the outliers"
            out[f"{name}/int8_t6/codes"] = codes.numpy().copy()
            out[f"{name}/int8_t6/row_stats"] = stats.numpy().astype(np.float32).copy()
            out[f"{name}/int8_t6/outlier_cols"] = cols.numpy().astype(np.int64).copy()
            meta["int8_threshold"] = INT8_THRESHOLD
    return meta


def entry(source, name, x, stored, **extra):
    e = {"source": source, "name": name, "shape": list(x.shape), "numel": int(x.size),
         "sha256_f32le": sha256_f32(x), "input_stored": stored}
    e.update(extra)
    return e


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception as exc:  # pragma: no cover
        return f"<{exc}>"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smollm2", required=True, help="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--minilm", required=True, help="all-MiniLM-L6-v2 directory (model.safetensors)")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)

    manifest_inputs = []

    # random
    rnd, notes = make_random_inputs()
    arrs = {}
    for n, x in rnd.items():
        arrs[f"{n}/x"] = x
        meta = quantize_all(n, x, arrs, int8_threshold=(n == "outliers_32x256"))
        manifest_inputs.append(entry("random", n, x, True, note=notes[n], **meta))
    np.savez_compressed(os.path.join(args.out, "random.npz"), **arrs)

    # MiniLM
    minilm_names = ["encoder.layer.0.attention.self.query.weight",
                    "encoder.layer.0.intermediate.dense.weight",
                    "encoder.layer.5.output.dense.weight"]
    arrs = {}
    for n, x in load_minilm(args.minilm, minilm_names).items():
        quantize_all(n, x, arrs)
        manifest_inputs.append(entry("minilm", n, x, False,
                                     file="all-MiniLM-L6-v2/model.safetensors",
                                     how="safetensors F32 tensor as stored, [out, in] row-major"))
    np.savez_compressed(os.path.join(args.out, "minilm.npz"), **arrs)

    # SmolLM2
    smol_names = ["blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.29.ffn_gate.weight"]
    arrs = {}
    xs, info = load_smollm2(args.smollm2, smol_names)
    for n, x in xs.items():
        quantize_all(n, x, arrs)
        manifest_inputs.append(entry(
            "smollm2", n, x, False, file=os.path.basename(args.smollm2),
            how=("gguf.quants.dequantize(tensor.data, tensor.tensor_type) (Q4_1: "
                 "fl32(fl32(d*q) + m), d and m fp16->fp32, no fma), reshaped to "
                 "[ne1, ne0] = [rows, cols] row-major"), **info[n]))
    np.savez_compressed(os.path.join(args.out, "smollm2.npz"), **arrs)

    import gguf
    import safetensors
    try:
        from importlib.metadata import version
        gguf_v = version("gguf")
        st_v = version("safetensors")
    except Exception:  # pragma: no cover
        gguf_v = st_v = "?"
    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-")
    manifest = {
        "generator": "test/golden/bnb/make_goldens.py",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"uname": sh("uname -a"), "cpu": cpu.strip(),
                    "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
                    "torch_num_threads": torch.get_num_threads()},
        "versions": {"python": sys.version.split()[0], "torch": torch.__version__,
                     "bitsandbytes": bnb.__version__, "numpy": np.__version__,
                     "safetensors": st_v, "gguf": gguf_v},
        "bnb_calls": {
            "4bit": "bitsandbytes.functional.quantize_4bit(torch.from_numpy(x), blocksize=bs, "
                    "quant_type=qt, compress_statistics=cs) on CPU float32, quant_storage uint8",
            "int8": "bitsandbytes.functional.int8_vectorwise_quant(torch.from_numpy(x), threshold=t)",
        },
        "quant_types": list(QUANT_TYPES),
        "blocksizes": list(BLOCKSIZES),
        "files": {"random": "random.npz", "minilm": "minilm.npz", "smollm2": "smollm2.npz"},
        "key_scheme": KEY_SCHEME,
        "inputs": manifest_inputs,
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
