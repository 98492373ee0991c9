#!/usr/bin/env python3
"""Independent numpy reference for quant-mlir's weight quantization.

Written from the spec only (include/qmlir/Numerics/Quantize.h, docs of the
bitsandbytes algorithms in PLATFORM.md), never from the C++ in lib/.

Sub-commands
  gen       write a 2-layer MLP model (.mlir) built from a seed to stdout
  check     read mlir-runner output (printMemrefF32) on stdin and compare it
            with the quantized model evaluated here (tolerance: a rigorous
            float32 error bound, see quantized_reference); also require the
            output to be measurably away from the float model and within a
            scheme-level quantization error bound of it
  check-ir  read `quant-opt --qnt-quantize-linear` output on stdin and compare
            the stored codes / scales / zero points / double-quant pieces of
            each qnt.matmul with this reference, bit for bit
  compare   two mlir-runner outputs (printMemrefF32) agree elementwise
            within --tol (same shape)
  selftest  hand-computed checks of this reference itself

Example:
  qref.py gen --seed 3 --k 128 --h 96 --n 40 > m.mlir
  quant-opt m.mlir --qnt-quantize-linear="scheme=nf4 double-quant=true" \
      --qnt-cpu-pipeline | mlir-runner -e main -entry-point-result=void \
      -shared-libs=... | qref.py check --seed 3 --k 128 --h 96 --n 40 \
      --scheme nf4 --double-quant true

Conventions (as in Quantize.h): every weight is handled in its [N, K]
(out x in) row-major view; groups run along K for each output channel n.
All quantization arithmetic is done in float32, one rounding per step, the
way bitsandbytes does it, so dequantized weights match bit for bit in the
common case. Network evaluation is float64.
"""

import argparse
import math
import os
import re
import sys

import numpy as np

F32 = np.float32
U32 = 2.0 ** -24  # unit roundoff of float32

# --------------------------------------------------------------------------
# Code books
# --------------------------------------------------------------------------

NF4_TABLE = np.array([
    -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
    -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
    0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
    0.7229568362236023, 1.0], dtype=F32)

# bnb FP4, code order: codes 0-7 = [0, 0.0625, 8, 12, 4, 6, 2, 3] / 12,
# codes 8-15 the same negated (bit 3 = sign; code 8 is -0.0).
_FP4_POS = np.array([0.0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0]) / 12.0
FP4_TABLE = np.concatenate([_FP4_POS, -_FP4_POS]).astype(F32)


def torch_linspace_f32(start, end, n):
    """torch.linspace(start, end, n, dtype=float32) on the CPU."""
    start, end = F32(start), F32(end)
    if n == 1:
        return np.array([start], dtype=F32)
    step = F32(F32(end - start) / F32(n - 1))
    out = np.empty(n, dtype=F32)
    for j in range(n):
        if j < n // 2:
            out[j] = F32(start + F32(step * F32(j)))
        else:
            out[j] = F32(end - F32(step * F32(n - 1 - j)))
    return out


def dynamic_map():
    """bitsandbytes create_dynamic_map(signed=True, max_exponent_bits=7,
    total_bits=8): 256 sorted float32 values."""
    data = []
    for i in range(7):
        b = torch_linspace_f32(0.1, 1.0, 2 ** i + 1)
        means = ((b[:-1] + b[1:]).astype(F32) / F32(2.0)).astype(F32)
        factor = F32(10.0 ** (-6 + i))
        data += list((means * factor).astype(F32))
        data += list((means * -factor).astype(F32))
    data += [F32(0.0), F32(1.0)]
    assert len(data) == 256
    return np.array(sorted(float(v) for v in data), dtype=F32)


DYN_MAP = dynamic_map()


def table_for(kind):
    return {"nf4": NF4_TABLE, "fp4": FP4_TABLE}[kind]


class SortedTable:
    """A code book sorted ascending (stable, so +0 = fp4 code 0 precedes
    -0 = code 8) with the float32 midpoints of adjacent entries."""

    def __init__(self, table):
        self.table = np.asarray(table, dtype=F32)
        self.order = np.argsort(self.table, kind="stable")
        self.sorted = self.table[self.order]
        self.mids = ((self.sorted[:-1] + self.sorted[1:]).astype(F32)
                     / F32(2.0)).astype(F32)
        # Equal values (fp4 +0 = code 0, -0 = code 8) stay in code order, as
        # torch.argsort orders them in bitsandbytes' quantize_4bit; with the
        # lower-entry rule x <= 0 takes code 0 and tiny positives code 8.
        self.code_of = self.order

    def quantize(self, v, slack):
        """Codes of float32 values v by the bnb midpoint rule (a value equal
        to a midpoint takes the lower sorted entry). Also returns the
        alternative code for values within `slack` of a midpoint (where an
        implementation that rounds differently by a few ulps may choose the
        other side) -- equal to the code elsewhere."""
        idx = np.searchsorted(self.mids, v, side="left")
        alt = idx.copy()
        # distance to the midpoint below (idx-1) and above (idx)
        below = np.clip(idx - 1, 0, len(self.mids) - 1)
        above = np.clip(idx, 0, len(self.mids) - 1)
        near_below = (idx > 0) & (np.abs(v - self.mids[below]) <= slack)
        near_above = (idx < len(self.mids)) & (np.abs(v - self.mids[above]) <= slack)
        alt = np.where(near_below, idx - 1, alt)
        alt = np.where(near_above & ~near_below, idx + 1, alt)
        return self.code_of[idx], self.code_of[alt]


def _slack(v, extra=0.0):
    """Half-width of the window around a rounding boundary inside which two
    correct float32 implementations may disagree because of equivalent but
    differently rounded formulas (x*(1/a) vs x/a, w/s vs w*(qmax/absmax),
    round(w/s)+zp vs round(w/s+zp), float32 vs float64 midpoints): each
    differs by at most ~2-3 ulps of the magnitudes involved; we allow 8 ulps
    of max(1, |v| + extra), where extra covers an added zero point."""
    return 8.0 * U32 * np.maximum(1.0, np.abs(v) + extra)


# --------------------------------------------------------------------------
# Quantization of an [N, K] weight
# --------------------------------------------------------------------------

class Scheme:
    def __init__(self, kind="int8", symmetric=True, group_size=-1,
                 double_quant=False, compute_type="f32"):
        if kind not in ("int8", "int4", "nf4", "fp4"):
            raise ValueError("unknown scheme " + kind)
        self.kind = kind
        self.symmetric = symmetric if kind in ("int8", "int4") else True
        if group_size < 0:
            group_size = {"int8": 0, "int4": 128}.get(kind, 64)
        self.group_size = group_size
        self.double_quant = double_quant and kind in ("nf4", "fp4")
        self.compute_type = compute_type
        self.act_int8 = False   # W8A8 (IntDot.h matmulActInt8)
        self.threshold = 0.0    # its outlier threshold

    def describe(self):
        s = self.kind
        if self.kind in ("int8", "int4"):
            s += " sym" if self.symmetric else " asym"
        s += " g%d" % self.group_size
        if self.double_quant:
            s += " dq"
        if self.act_int8:
            s += " a8" + (" t%g" % self.threshold if self.threshold else "")
        return s + " " + self.compute_type


def num_groups(k, gs):
    return 1 if gs == 0 else -(-k // gs)


def round_half_even(v):
    return np.round(v)  # numpy rounds half to even


class Quantized:
    """Result of quantizing an [N, K] weight.

    codes    [N, K] int codes (int8 sym: q in [-127,127]; int8 asym: 0..255;
             int4 sym: -8..7; int4 asym: 0..15; nf4/fp4: table index)
    scales   [N, G] float32: the scale (int kinds) or the decoded absmax
    zp       [N, G] zero points (asymmetric) or None
    deq      [N, K] float32 dequantized weight
    lo, hi   [N, K] float64 bounds on the dequantized weight of any correct
             float32 implementation (alternative codes near rounding
             boundaries, a few ulps on the float32 arithmetic).
    """


def _int_params(kind, symmetric):
    bits = 8 if kind == "int8" else 4
    if symmetric:
        qmax = 2 ** (bits - 1) - 1               # 127 / 7
        return float(qmax), -(2 ** (bits - 1)), qmax  # divisor, qmin, qmax
    levels = 2 ** bits - 1                       # 255 / 15
    return float(levels), 0, levels


def quantize(scheme, w):
    """Quantizes a float32 [N, K] weight; returns a Quantized."""
    w = np.asarray(w, dtype=F32)
    n, k = w.shape
    gs = scheme.group_size if scheme.group_size > 0 else k
    g = num_groups(k, scheme.group_size)
    codes = np.zeros((n, k), dtype=np.int64)
    alt_codes = np.zeros((n, k), dtype=np.int64)
    scales = np.zeros((n, g), dtype=F32)
    zps = None
    q = Quantized()
    q.scheme, q.n, q.k, q.groups, q.w = scheme, n, k, g, w

    if scheme.kind in ("int8", "int4"):
        div, qmin, qmax = _int_params(scheme.kind, scheme.symmetric)
        if not scheme.symmetric:
            zps = np.zeros((n, g), dtype=np.int64)
            alt_zps = np.zeros((n, g), dtype=np.int64)
        for j in range(g):
            blk = w[:, j * gs:(j + 1) * gs]
            if scheme.symmetric:
                s = (np.max(np.abs(blk), axis=1) / F32(div)).astype(F32)
                z = np.zeros(n, dtype=np.int64)
                az = z
            else:
                lo = np.minimum(np.min(blk, axis=1), F32(0))
                hi = np.maximum(np.max(blk, axis=1), F32(0))
                s = ((hi - lo).astype(F32) / F32(div)).astype(F32)
                safe = np.where(s == 0, F32(1), s)
                zv = np.where(s == 0, F32(0), (-lo / safe).astype(F32))
                z = np.clip(round_half_even(zv), 0, qmax).astype(np.int64)
                az = np.clip(_alt_round(zv), 0, qmax).astype(np.int64)
                zps[:, j], alt_zps[:, j] = z, az
            safe = np.where(s == 0, F32(1), s)[:, None]
            v = np.where(s[:, None] == 0, F32(0), (blk / safe).astype(F32))
            if scheme.kind == "int8" and scheme.symmetric:
                # bitsandbytes: x * fl(fl(1 / absmax) * 127)
                a = np.max(np.abs(blk), axis=1).astype(F32)
                with np.errstate(divide="ignore", invalid="ignore"):
                    fac = ((F32(1) / a).astype(F32) * F32(127)).astype(F32)
                    v = np.where(a[:, None] == 0, F32(0),
                                 (blk * fac[:, None]).astype(F32))
            r = round_half_even(v)
            ar = _alt_round(v, 0.0 if scheme.symmetric else float(qmax))
            codes[:, j * gs:(j + 1) * gs] = np.clip(r + z[:, None], qmin, qmax)
            alt_codes[:, j * gs:(j + 1) * gs] = np.clip(ar + z[:, None], qmin, qmax)
            scales[:, j] = s
        zcol = np.repeat(zps if zps is not None else np.zeros((n, g), np.int64),
                         gs, axis=1)[:, :k]
        scol = np.repeat(scales, gs, axis=1)[:, :k]
        q.deq = ((codes - zcol).astype(F32) * scol).astype(F32)
        variants = [q.deq, ((alt_codes - zcol).astype(F32) * scol).astype(F32)]
        if zps is not None:
            # an alternative zero point shifts the codes too (only the
            # clamping at 0 / qmax can change the dequantized value)
            azcol = np.repeat(alt_zps, gs, axis=1)[:, :k]
            for c in (codes - zcol, alt_codes - zcol):
                cc = np.clip(c + azcol, qmin, qmax) - azcol
                variants.append((cc.astype(F32) * scol).astype(F32))
        q.codes, q.scales, q.zp = codes, scales, zps
        q.alt_codes, q.alt_zp = alt_codes, (alt_zps if zps is not None else None)
        q.lo, q.hi = _bounds(variants, rel=4 * U32)
        return q

    # nf4 / fp4
    st = SortedTable(table_for(scheme.kind))
    absmax = np.zeros((n, g), dtype=F32)
    for j in range(g):
        blk = w[:, j * gs:(j + 1) * gs]
        a = np.max(np.abs(blk), axis=1).astype(F32)
        am = np.maximum(a, F32(1e-38))
        if blk.shape[1] < gs:
            # bitsandbytes divides a partial block and stores the clamped max
            absmax[:, j] = am
            v = np.clip((blk / am[:, None]).astype(F32), F32(-1), F32(1))
        else:
            absmax[:, j] = a
            inv = (F32(1) / am).astype(F32)
            v = np.clip((blk * inv[:, None]).astype(F32), F32(-1), F32(1))
        c, ac = st.quantize(v, _slack(v))
        codes[:, j * gs:(j + 1) * gs] = c
        alt_codes[:, j * gs:(j + 1) * gs] = ac
    q.absmax = absmax
    if scheme.double_quant:
        dq = double_quantize(absmax.reshape(-1))
        q.dq = dq
        scales = dq["decoded"].reshape(n, g)
        s_lo = dq["lo"].reshape(n, g)
        s_hi = dq["hi"].reshape(n, g)
    else:
        scales = absmax
        s_lo = s_hi = absmax.astype(np.float64)
    t = st.table
    scol = np.repeat(scales, gs, axis=1)[:, :k]
    q.deq = (t[codes] * scol).astype(F32)
    variants = [q.deq, (t[alt_codes] * scol).astype(F32)]
    for sb in (s_lo, s_hi):
        sbc = np.repeat(sb, gs, axis=1)[:, :k]
        variants += [t[codes] * sbc, t[alt_codes] * sbc]
    q.codes, q.scales, q.zp = codes, scales, None
    q.alt_codes, q.s_lo, q.s_hi = alt_codes, s_lo, s_hi
    q.lo, q.hi = _bounds(variants, rel=4 * U32)
    return q


def _alt_round(v, extra=0.0):
    """The other integer neighbour of v when v is within the slack of a .5
    tie, else round(v)."""
    r = round_half_even(v)
    fl = np.floor(v)
    near = np.abs(v - fl - 0.5) <= _slack(v, extra)
    other = np.where(r == fl, fl + 1, fl)
    return np.where(near, other, r)


def _bounds(variants, rel):
    arr = np.stack([np.asarray(a, dtype=np.float64) for a in variants])
    lo, hi = arr.min(axis=0), arr.max(axis=0)
    mag = np.maximum(np.abs(lo), np.abs(hi))
    return lo - rel * mag, hi + rel * mag


_DYN_LUT = None


def _dynamic_lut():
    """bitsandbytes' CPU quantize_blockwise table (csrc/cpu_ops.cpp,
    build_quantize_lut): grid point i of [-1, 1] takes the first sorted map
    entry whose upper midpoint is not below it."""
    mids = (F32(0.5) * (DYN_MAP[:-1] + DYN_MAP[1:]).astype(F32)).astype(F32)
    grid = ((F32(2) * np.arange(65536, dtype=F32)).astype(F32) / F32(65535)
            - F32(1)).astype(F32)
    return np.searchsorted(mids, grid, side="left")


def dynamic_codes(v):
    """Codes of values v in [-1, 1]: index (int)fma((v + 1) * 0.5, 65535,
    0.5) into the table. The product t * 65535 is exact in float64, so the
    float64 sum rounded to float32 is the fused result."""
    t = ((np.asarray(v, dtype=F32) + F32(1)).astype(F32) * F32(0.5)).astype(F32)
    fused = (t.astype(np.float64) * 65535.0 + 0.5).astype(F32)
    global _DYN_LUT
    if _DYN_LUT is None:
        _DYN_LUT = _dynamic_lut()
    return _DYN_LUT[np.minimum(np.trunc(fused).astype(np.int64), 65535)]


def quantize_blockwise_dynamic(x, block=256):
    """bnb quantize_blockwise with the signed dynamic map on a flat float32
    array, as its CPU kernel does: (codes, absmax per block float32, alt
    codes). An all-zero block keeps code 0."""
    x = np.asarray(x, dtype=F32)
    codes = np.zeros(x.size, dtype=np.int64)
    nb = -(-x.size // block)
    bam = np.zeros(nb, dtype=F32)
    for b in range(nb):
        seg = x[b * block:(b + 1) * block]
        a = F32(np.max(np.abs(seg)))
        bam[b] = a
        if a == 0:
            continue
        v = np.clip((seg * F32(F32(1) / a)).astype(F32), F32(-1), F32(1))
        codes[b * block:(b + 1) * block] = dynamic_codes(v)
    return codes, bam, codes.copy()


def double_quantize(absmax):
    """Double quantization of the flattened [N, G] absmax values. Returns
    the stored pieces and the decoded scales with bounds."""
    absmax = np.asarray(absmax, dtype=F32)
    # offset = mean(absmax) in float32 (computed exactly, then rounded once;
    # torch's float32 sum may differ by a few ulps: see `doff`).
    offset = F32(np.mean(absmax.astype(np.float64)))
    centered = (absmax - offset).astype(F32)
    codes, bam, alt = quantize_blockwise_dynamic(centered, 256)
    blk = np.repeat(bam, 256)[:absmax.size]
    decoded = (DYN_MAP[codes] * blk).astype(F32)
    decoded = (decoded + offset).astype(F32)
    alt_dec = (DYN_MAP[alt] * blk).astype(F32) + offset
    # An implementation's float32 mean may be off by a few ulps (summation
    # order); allow 16 ulps of the offset plus codes that flip because of it.
    doff = 16.0 * U32 * abs(float(offset))
    lo = np.minimum(decoded, alt_dec).astype(np.float64)
    hi = np.maximum(decoded, alt_dec).astype(np.float64)
    # codes near a midpoint by less than doff/bam may flip as well
    st = SortedTable(DYN_MAP)
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(blk == 0, 0.0, centered / np.where(blk == 0, 1, blk))
        extra = np.where(blk == 0, 0.0, doff / np.where(blk == 0, 1, blk))
    c2, a2 = st.quantize(v.astype(F32), _slack(v) + extra)
    alt2 = DYN_MAP[a2].astype(np.float64) * blk + offset
    lo = np.minimum(lo, alt2) - doff - 4 * U32 * np.abs(hi)
    hi = np.maximum(hi, alt2) + doff + 4 * U32 * np.abs(hi)
    return {"codes": codes, "alt_codes": (alt, a2), "block_absmax": bam,
            "offset": offset, "decoded": decoded, "lo": lo, "hi": hi}


def pack_nibbles(codes):
    """Packs a row of 4-bit codes, element 2i in the high nibble; an odd
    count pads the last low nibble with 0."""
    codes = list(codes) + ([0] if len(codes) % 2 else [])
    return bytes(((codes[i] & 15) << 4) | (codes[i + 1] & 15)
                 for i in range(0, len(codes), 2))


def unpack_nibble(packed, i):
    b = packed[i // 2]
    return (b >> 4) if i % 2 == 0 else (b & 15)


# --------------------------------------------------------------------------
# Compute-type rounding
# --------------------------------------------------------------------------

def round_bf16(a):
    """float -> bf16 (round to nearest even on the float32 bits) -> float64."""
    f = np.ascontiguousarray(np.asarray(a, dtype=F32))
    bits = f.view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(F32).astype(np.float64)


def round_to(a, ctype):
    if ctype == "bf16":
        return round_bf16(a)
    if ctype == "f16":
        return np.asarray(a, dtype=F32).astype(np.float16).astype(np.float64)
    return np.asarray(a, dtype=F32).astype(np.float64)


UNIT_ROUNDOFF = {"f32": 0.0, "bf16": 2.0 ** -8, "f16": 2.0 ** -11}

# --------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------


class Model:
    """x [R, K] (R = batch*M) -> relu(x W1^T + b1) -> W2^T; W in [out, in]."""

    def __init__(self, a):
        rng = np.random.default_rng(a.seed)
        b = a.batch if a.form == "batch" else 1
        self.rows = b * a.m
        self.form = a.form
        self.x = rng.standard_normal((self.rows, a.k)).astype(F32)
        self.w1 = (rng.standard_normal((a.h, a.k)) / math.sqrt(a.k)).astype(F32)
        self.b1 = (0.5 * rng.standard_normal(a.h)).astype(F32)
        self.w2 = (rng.standard_normal((a.n, a.h)) / math.sqrt(a.h)).astype(F32)
        if a.edge:
            self.w1[0, :] = 0.0                           # a zero row/group
            half = max(1, a.k // 2)
            self.w1[1, :half] = np.abs(self.w1[1, :half])  # one-signed group
            self.w2[0, 0] *= 20.0                         # an outlier
        if a.bias == "none":
            self.b1[:] = 0.0
        self.out_shape = ([a.batch] if a.form == "batch" else []) + [a.m, a.n]

    def float_forward(self):
        h = np.maximum(self.x.astype(np.float64) @ self.w1.T.astype(np.float64)
                       + self.b1, 0.0)
        return h, h @ self.w2.T.astype(np.float64)


# --------------------------------------------------------------------------
# gen
# --------------------------------------------------------------------------

def hexlit(arr):
    return 'dense<"0x%s">' % np.ascontiguousarray(arr, dtype="<f4").tobytes().hex().upper()


def ttype(shape):
    return "tensor<%sxf32>" % "x".join(str(s) for s in shape)


class Emitter:
    def __init__(self):
        self.lines, self.count = [], 0

    def tmp(self, base):
        self.count += 1
        return "%%%s%d" % (base, self.count)

    def op(self, text):
        self.lines.append("  " + text)


MAP_TB = ("indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
          "affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>]")


def emit_linear(e, form, x, xshape, w_nk, init, layer):
    """Emits y = x W^T + init for weight w_nk [N, K]; returns the result."""
    n, k = w_nk.shape
    lead = xshape[:-1]
    yshape = lead + [n]
    y = e.tmp("y")
    w = e.tmp("w")
    if form == "matmul":
        e.op("%s = arith.constant %s : %s" % (w, hexlit(w_nk.T), ttype([k, n])))
        e.op("%s = linalg.matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
            y, x, w, ttype(xshape), ttype([k, n]), init, ttype(yshape), ttype(yshape)))
    elif form == "transpose":
        e.op("%s = arith.constant %s : %s" % (w, hexlit(w_nk), ttype([n, k])))
        et, wt = e.tmp("et"), e.tmp("wt")
        e.op("%s = tensor.empty() : %s" % (et, ttype([k, n])))
        e.op("%s = linalg.transpose ins(%s : %s) outs(%s : %s) permutation = [1, 0]" % (
            wt, w, ttype([n, k]), et, ttype([k, n])))
        e.op("%s = linalg.matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
            y, x, wt, ttype(xshape), ttype([k, n]), init, ttype(yshape), ttype(yshape)))
    elif form == "matmul-tb":
        e.op("%s = arith.constant %s : %s" % (w, hexlit(w_nk), ttype([n, k])))
        e.op("%s = linalg.matmul %s ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
            y, MAP_TB, x, w, ttype(xshape), ttype([n, k]), init, ttype(yshape),
            ttype(yshape)))
    elif form == "batch":
        bsz = xshape[0]
        e.op("%s = arith.constant %s : %s" % (w, hexlit(w_nk.T), ttype([k, n])))
        eb, wb = e.tmp("eb"), e.tmp("wb")
        e.op("%s = tensor.empty() : %s" % (eb, ttype([bsz, k, n])))
        e.op("%s = linalg.broadcast ins(%s : %s) outs(%s : %s) dimensions = [0]" % (
            wb, w, ttype([k, n]), eb, ttype([bsz, k, n])))
        e.op("%s = linalg.batch_matmul ins(%s, %s : %s, %s) outs(%s : %s) -> %s" % (
            y, x, wb, ttype(xshape), ttype([bsz, k, n]), init, ttype(yshape),
            ttype(yshape)))
    elif form == "generic":
        # layer 1 reads the weight as (k, n), layer 2 as (n, k)
        if layer == 1:
            e.op("%s = arith.constant %s : %s" % (w, hexlit(w_nk.T), ttype([k, n])))
            wmap, wty = "(d2, d1)", ttype([k, n])
        else:
            e.op("%s = arith.constant %s : %s" % (w, hexlit(w_nk), ttype([n, k])))
            wmap, wty = "(d1, d2)", ttype([n, k])
        e.op("%s = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, "
             "affine_map<(d0, d1, d2) -> %s>, affine_map<(d0, d1, d2) -> (d0, d1)>], "
             "iterator_types = [\"parallel\", \"parallel\", \"reduction\"]} "
             "ins(%s, %s : %s, %s) outs(%s : %s) {" % (
                 y, wmap, x, w, ttype(xshape), wty, init, ttype(yshape)))
        e.lines.append("  ^bb0(%a: f32, %b: f32, %c: f32):")
        e.lines.append("    %p = arith.mulf %a, %b : f32")
        e.lines.append("    %s = arith.addf %c, %p : f32")
        e.lines.append("    linalg.yield %s : f32")
        e.lines.append("  } -> %s" % ttype(yshape))
    else:
        raise ValueError(form)
    return y, yshape


def elementwise_maps(rank, extra_bias=False):
    dims = ", ".join("d%d" % i for i in range(rank))
    ident = "affine_map<(%s) -> (%s)>" % (dims, dims)
    maps = [ident]
    if extra_bias:
        maps.append("affine_map<(%s) -> (d%d)>" % (dims, rank - 1))
    maps.append(ident)
    its = ", ".join(['"parallel"'] * rank)
    return "{indexing_maps = [%s], iterator_types = [%s]}" % (", ".join(maps), its)


def gen_model(a):
    m = Model(a)
    e = Emitter()
    lead = [a.batch, a.m] if a.form == "batch" else [a.m]
    xshape = lead + [a.k]
    hshape = lead + [a.h]
    e.op("%%x = arith.constant %s : %s" % (hexlit(m.x.reshape(xshape)), ttype(xshape)))
    e.op("%zero = arith.constant 0.0 : f32")
    e.op("%%b1 = arith.constant %s : %s" % (hexlit(m.b1), ttype([a.h])))
    e.op("%%eh = tensor.empty() : %s" % ttype(hshape))
    e.op("%%zh = linalg.fill ins(%%zero : f32) outs(%%eh : %s) -> %s" % (
        ttype(hshape), ttype(hshape)))
    if a.bias == "init":
        bdims = ", ".join(str(i) for i in range(len(lead)))
        e.op("%%ih = linalg.broadcast ins(%%b1 : %s) outs(%%eh : %s) dimensions = [%s]" % (
            ttype([a.h]), ttype(hshape), bdims))
        y1, _ = emit_linear(e, a.form, "%x", xshape, m.w1, "%ih", 1)
        e.op("%%h = linalg.generic %s ins(%s : %s) outs(%%eh : %s) {" % (
            elementwise_maps(len(hshape)), y1, ttype(hshape), ttype(hshape)))
        e.lines.append("  ^bb0(%a: f32, %o: f32):")
        e.lines.append("    %r = arith.maximumf %a, %zero : f32")
        e.lines.append("    linalg.yield %r : f32")
        e.lines.append("  } -> %s" % ttype(hshape))
    else:  # bias added after the matmul (bias "none" adds zeros)
        y1, _ = emit_linear(e, a.form, "%x", xshape, m.w1, "%zh", 1)
        e.op("%%h = linalg.generic %s ins(%s, %%b1 : %s, %s) outs(%%eh : %s) {" % (
            elementwise_maps(len(hshape), True), y1, ttype(hshape), ttype([a.h]),
            ttype(hshape)))
        e.lines.append("  ^bb0(%a: f32, %bb: f32, %o: f32):")
        e.lines.append("    %s = arith.addf %a, %bb : f32")
        e.lines.append("    %r = arith.maximumf %s, %zero : f32")
        e.lines.append("    linalg.yield %r : f32")
        e.lines.append("  } -> %s" % ttype(hshape))
    yshape = lead + [a.n]
    e.op("%%ey = tensor.empty() : %s" % ttype(yshape))
    e.op("%%zy = linalg.fill ins(%%zero : f32) outs(%%ey : %s) -> %s" % (
        ttype(yshape), ttype(yshape)))
    y2, _ = emit_linear(e, a.form, "%h", hshape, m.w2, "%zy", 2)
    mty = "memref<%sxf32>" % "x".join(str(s) for s in yshape)
    e.op("%%buf = bufferization.to_buffer %s : %s to %s" % (y2, ttype(yshape), mty))
    e.op("%%ubuf = memref.cast %%buf : %s to memref<*xf32>" % mty)
    e.op("call @printMemrefF32(%ubuf) : (memref<*xf32>) -> ()")
    e.op("return")
    head = ("// Generated by qref.py gen --seed %d --m %d --k %d --h %d --n %d "
            "--form %s --batch %d --bias %s%s\n" % (
                a.seed, a.m, a.k, a.h, a.n, a.form, a.batch, a.bias,
                " --edge" if a.edge else ""))
    return (head + "func.func @main() {\n" + "\n".join(e.lines) + "\n}\n"
            "func.func private @printMemrefF32(memref<*xf32>)\n")


# --------------------------------------------------------------------------
# check
# --------------------------------------------------------------------------

NUM_RE = re.compile(r"[-+]?(?:nan|inf|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)",
                    re.IGNORECASE)


def parse_runner_output(text):
    """Numbers printed by printMemrefF32 (after 'data =') and the sizes."""
    pos = text.find("data =")
    if pos < 0:
        raise ValueError("no printMemrefF32 output found")
    sizes = re.search(r"sizes = \[([^\]]*)\]", text)
    shape = [int(s) for s in sizes.group(1).split(",") if s.strip()] if sizes else None
    vals = [float(t) for t in NUM_RE.findall(text[pos + len("data ="):])]
    return shape, np.array(vals, dtype=np.float64)


def gamma(n):
    return n * U32 / (1.0 - n * U32)


def is_quantized(scheme, w):
    """Whether the pass quantizes an [N, K] weight: the group size must
    divide K (0 = one group per row always does)."""
    k = w.shape[1]
    return scheme.group_size == 0 or k % scheme.group_size == 0


def float_as_quantized(w):
    q = Quantized()
    q.w = w
    q.deq = np.asarray(w, dtype=F32)
    q.lo = q.hi = q.deq.astype(np.float64)
    return q


# The CPU GEMV's integer path (spec: include/qmlir/Numerics/IntDot.h):
# activations per block scaled to +-ACT_MAX and rounded, weights as
# integers (tables: the code book scaled to +-T and rounded), exact integer
# sums per block, then float32 scaling and accumulation.
ACT_MAX = 8191
ACT_TINY = 2.0 ** -100


def int_dot_applies(scheme, k, ct):
    """Whether a (2-D) layer takes the integer path."""
    gs = scheme.group_size
    return ct == "f32" and (num_groups(k, gs) == 1 or gs % 32 == 0)


def int_dot_block(scheme, k):
    """(K per block, T) of the integer path."""
    table = scheme.kind in ("nf4", "fp4")
    limit = 64 if table else 256
    gs = scheme.group_size
    if num_groups(k, gs) == 1:
        block = limit
    else:
        block = max(b for b in range(32, min(gs, limit) + 1, 32) if gs % b == 0)
    return block, min((2 ** 31 - 1) // (block * ACT_MAX), 16383)


def int_dot_weights(scheme, q, t_int):
    """The integer path's weights (integer * scale, float64) as (center,
    deviation, magnitude), like quantized_reference's `wint`: int kinds are
    the dequantized weights exactly; table kinds use the code book scaled
    to +-T, rounded, times max|t| / T."""
    c = q.deq.astype(np.float64)
    if scheme.kind in ("int8", "int4"):
        lo, hi = q.lo, q.hi
    else:
        k = q.deq.shape[1]
        gs = scheme.group_size if scheme.group_size > 0 else k
        tab = table_for(scheme.kind)
        tmax = np.max(np.abs(tab)).astype(F32)
        ti = np.round((tab * (F32(t_int) / tmax).astype(F32)).astype(F32))
        val = ti.astype(np.float64) * float((tmax / F32(t_int)).astype(F32))
        col = lambda sc: np.repeat(np.asarray(sc, np.float64), gs, axis=1)[:, :k]
        c = val[q.codes] * col(q.scales)
        variants = [c]
        for sc in (q.scales, q.s_lo, q.s_hi):
            variants += [val[q.codes] * col(sc), val[q.alt_codes] * col(sc)]
        lo, hi = _bounds(variants, rel=4 * U32)
    return c, np.maximum(hi - c, c - lo), np.maximum(np.abs(lo), np.abs(hi))


def int_dot_activations(a, lo, hi, block):
    """The integer path's activations (integer * block scale, float64) of
    an input known to lie in [lo, hi] (elementwise; equal bounds: exactly
    `a`; otherwise all >= 0) as (center from `a`, deviation, magnitude)."""
    a, lo, hi = (np.asarray(v, np.float64) for v in (a, lo, hi))
    exact = np.array_equal(lo, hi)
    assert exact or np.all(lo >= 0)
    c, dev, mag = (np.zeros(a.shape) for _ in range(3))
    for b0 in range(0, a.shape[1], block):
        sl = slice(b0, b0 + block)
        am = np.max(np.abs(a[:, sl]), axis=1, keepdims=True).astype(F32)
        with np.errstate(divide="ignore"):
            inv = np.where(am >= ACT_TINY, F32(ACT_MAX) / am, F32(0)).astype(F32)
        qc = np.round((a[:, sl].astype(F32) * inv).astype(F32)).astype(np.float64)
        sc = (am / F32(ACT_MAX)).astype(F32).astype(np.float64)
        c[:, sl] = qc * sc
        if exact:
            mag[:, sl] = np.abs(c[:, sl])
            continue
        # Whatever amax in [max lo, max hi] the input gives, the scale s
        # and the inverse come from it: round(v * inv) * s lies within
        # s / 2 of v (v in [lo, hi]) up to the float32 roundings of s, inv
        # and the product.
        s_hi = np.max(hi[:, sl], axis=1, keepdims=True) / ACT_MAX * (1 + 2 * U32)
        v_lo = lo[:, sl] * (1 - 4 * U32) - 0.5 * s_hi
        v_hi = hi[:, sl] * (1 + 4 * U32) + 0.5 * s_hi
        v_lo = np.where(s_hi * ACT_MAX < 2 * ACT_TINY, 0.0, v_lo)  # all zero
        dev[:, sl] = np.maximum(v_hi - c[:, sl], c[:, sl] - v_lo)
        mag[:, sl] = np.maximum(np.abs(v_lo), np.abs(v_hi))
    return c, dev, mag


def act8_activations(a, lo, hi, threshold):
    """W8A8 activations (spec: include/qmlir/Numerics/IntDot.h,
    matmulActInt8) of an input known to lie in [lo, hi], as (center from
    `a`, deviation, magnitude), like int_dot_activations: per row, the
    inliers' absmax a_r, codes clampRound(x * fl(fl(1 / a_r) * 127)) (NaN
    -> 0) times a_r / 127; outliers (|x| >= threshold > 0) exactly x."""
    a, lo, hi = (np.asarray(v, np.float64) for v in (a, lo, hi))
    exact = np.array_equal(lo, hi)
    assert exact or np.all(lo >= 0)
    af = a.astype(F32)
    out = (np.abs(af) >= F32(threshold)) if threshold > 0 else np.zeros(a.shape, bool)
    am = np.max(np.where(out, F32(0), np.abs(af)), axis=1, keepdims=True).astype(F32)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv = ((F32(1) / am).astype(F32) * F32(127)).astype(F32)
        r = np.round((af * inv).astype(F32)).astype(np.float64)
    r = np.where(np.isnan(r), 0.0, np.clip(r, -127.0, 127.0))
    sc = (am / F32(127)).astype(F32).astype(np.float64)
    c = np.where(out, a, r * sc)
    if exact:
        return c, np.zeros(a.shape), np.abs(c)
    # Any input in [lo, hi]: the row's scale lies in [s_lo, s_hi] (its
    # absmax between the largest sure inlier's lo and the largest possible
    # inlier's hi), so an inlier's code lies between the roundings of
    # lo / s_hi and hi / s_lo (margins for the float32 inverse and
    # product) and its value in [code_lo s_lo, code_hi s_hi]; a possible
    # outlier may also be exactly itself.
    t = threshold if threshold > 0 else np.inf
    sure_out, maybe_out = lo >= t, hi >= t
    m = 8 * U32
    s_lo = np.max(np.where(maybe_out, 0.0, lo), axis=1, keepdims=True) / 127 * (1 - m)
    s_hi = np.max(np.where(sure_out, 0.0, hi), axis=1, keepdims=True) / 127 * (1 + m)
    with np.errstate(divide="ignore", invalid="ignore"):
        code_lo = np.clip(np.ceil(lo * (1 - m) / s_hi - 0.5), 0, 127)
        code_hi = np.clip(np.floor(hi * (1 + m) / s_lo + 0.5), 0, 127)
    code_lo = np.where(np.isnan(code_lo), 0.0, code_lo)
    code_hi = np.where(np.isnan(code_hi), 127.0, code_hi)
    v_lo = np.where(sure_out, lo, code_lo * s_lo)
    v_hi = np.where(sure_out, hi, code_hi * s_hi)
    both = maybe_out & ~sure_out
    v_lo = np.where(both, np.minimum(v_lo, lo), v_lo)
    v_hi = np.where(both, np.maximum(v_hi, hi), v_hi)
    return (c, np.maximum(v_hi - c, c - v_lo),
            np.maximum(np.abs(v_lo), np.abs(v_hi)))


def quantized_reference(model, scheme, int_dot=False):
    """The quantized model in float64 with a rigorous elementwise bound on
    the distance of any correct float32 execution from it.

    Tolerance, elementwise, for y = sum_k a_k w_k (+ bias):
      |a| @ dev(W)          weights: each dequantized element may be any
                            value in [lo, hi] (alternative code when the
                            value lies within 8 ulps of a rounding
                            boundary, see _slack; 4 ulps on the float32
                            dequant formula;
                            double quant: 16 ulps on the float32 mean),
                            then rounded to the compute type (monotone, so
                            the interval maps to [R(lo), R(hi)]);
      gamma_{K+3} |a| @ |W| (+|b|)  float32 products and accumulation in any
                            order (Higham: |fl(sum) - sum| <= gamma_n sum|.|)
                            + the separate bias add;
    then propagated through relu (monotone: interval [R(relu(p-e)),
    R(relu(p+e))]) into layer 2. printMemrefF32 prints 6 significant digits:
    + 5e-6 |out|.
    """
    q1, q2 = quantize(scheme, model.w1), quantize(scheme, model.w2)
    act8 = scheme.act_int8
    # A layer whose K the group size does not divide stays float (the pass
    # validates without partial groups and skips it, see Quantize.h
    # `validate`); it then computes in f32 with its original weights.
    ct1 = scheme.compute_type if is_quantized(scheme, model.w1) else "f32"
    ct2 = scheme.compute_type if is_quantized(scheme, model.w2) else "f32"

    def wint(q, ct):
        if not is_quantized(scheme, q.w):
            q = float_as_quantized(q.w)
        c = round_to(q.deq, ct)
        lo, hi = round_to(q.lo, ct), round_to(q.hi, ct)
        # round_to goes through float32: widen by the float32 step it took
        lo = np.minimum(lo, c) - 2 * U32 * np.abs(q.lo)
        hi = np.maximum(hi, c) + 2 * U32 * np.abs(q.hi)
        return c, np.maximum(hi - c, c - lo), np.maximum(np.abs(lo), np.abs(hi))

    w1c, w1d, w1m = wint(q1, ct1)
    w2c, w2d, w2m = wint(q2, ct2)
    xr = round_to(model.x, ct1)
    b = model.b1.astype(np.float64)
    k, hdim = model.w1.shape[1], model.w1.shape[0]

    pre = xr @ w1c.T + b
    e1 = np.abs(xr) @ w1d.T + gamma(k + 3) * (np.abs(xr) @ w1m.T + np.abs(b))
    # Batched (3-D) matmuls do not reach the CPU kernels.
    int_dot = int_dot and model.form != "batch"
    int1 = (int_dot and is_quantized(scheme, q1.w)
            and int_dot_applies(scheme, k, ct1))
    int2 = (int_dot and is_quantized(scheme, q2.w)
            and int_dot_applies(scheme, hdim, ct2))
    # W8A8: every lowering, any form.
    a81 = act8 and is_quantized(scheme, q1.w)
    a82 = act8 and is_quantized(scheme, q2.w)
    if a81:
        ac, _, am = act8_activations(xr, xr, xr, scheme.threshold)
        pre = ac @ w1c.T + b
        e1 = np.abs(ac) @ w1d.T + gamma(k + 11) * (am @ w1m.T + np.abs(b))
    elif int1:  # Integer path: its own activations and weights, exact sums.
        block, t_int = int_dot_block(scheme, k)
        wc, wd, wm = int_dot_weights(scheme, q1, t_int)
        ac, _, am = int_dot_activations(xr, xr, xr, block)
        pre = ac @ wc.T + b
        e1 = np.abs(ac) @ wd.T + gamma(k + 11) * (am @ wm.T + np.abs(b))
    hc = round_to(np.maximum(pre, 0.0), ct2)
    hlo = round_to(np.maximum(pre - e1, 0.0), ct2) - 2 * U32 * np.abs(pre - e1)
    hhi = round_to(np.maximum(pre + e1, 0.0), ct2) + 2 * U32 * np.abs(pre + e1)
    hd = np.maximum(hhi - hc, hc - hlo)
    hm = np.maximum(np.abs(hlo), np.abs(hhi))

    y = hc @ w2c.T
    e2 = (np.abs(hc) @ w2d.T + hd @ np.abs(w2c).T + hd @ w2d.T
          + gamma(hdim + 3) * (hm @ w2m.T))
    if a82:
        ac, ad, am = act8_activations(hc, np.maximum(hlo, 0.0), hhi,
                                      scheme.threshold)
        y = ac @ w2c.T
        e2 = (np.abs(ac) @ w2d.T + ad @ np.abs(w2c).T + ad @ w2d.T
              + gamma(hdim + 11) * (am @ w2m.T))
    elif int2:
        block, t_int = int_dot_block(scheme, hdim)
        wc, wd, wm = int_dot_weights(scheme, q2, t_int)
        ac, ad, am = int_dot_activations(hc, np.maximum(hlo, 0.0), hhi, block)
        y = ac @ wc.T
        e2 = (np.abs(ac) @ wd.T + ad @ np.abs(wc).T + ad @ wd.T
              + gamma(hdim + 11) * (am @ wm.T))
    return y, e2, (q1, q2)


def quant_error_bound(model, scheme, q1, q2):
    """Scheme-level bound on |quantized model - float model| that uses only
    the per-group scales (no codes): per element |w - deq| <= step/2 (int
    symmetric), step (int asymmetric: zero point rounding can clamp the
    ends), largest half gap of the code book * absmax (nf4/fp4), plus the
    double-quant scale error; activations/weights rounded to the compute
    type add a relative 2r + r^2."""
    def delta(q, w):
        n, k = w.shape
        if not is_quantized(scheme, w):
            return np.zeros((n, k))
        gs = q.scheme.group_size if q.scheme.group_size > 0 else k
        if q.scheme.kind in ("int8", "int4"):
            f = 0.5 if q.scheme.symmetric else 1.0
            d = f * q.scales.astype(np.float64)
        else:
            st = SortedTable(table_for(q.scheme.kind))
            hg = 0.5 * float(np.max(np.diff(st.sorted.astype(np.float64))))
            d = hg * q.absmax.astype(np.float64)
            if q.scheme.double_quant:
                d = d + np.abs(q.scales.astype(np.float64) - q.absmax)
        d = np.repeat(d, gs, axis=1)[:, :k]
        return d * (1 + 1e-6) + 1e-30

    def rounding(w):
        r = UNIT_ROUNDOFF[scheme.compute_type] if is_quantized(scheme, w) else 0.0
        return r, 2 * r + r * r

    r1, rr1 = rounding(model.w1)
    r2, rr2 = rounding(model.w2)
    x = np.abs(model.x.astype(np.float64))
    d1, d2 = delta(q1, model.w1), delta(q2, model.w2)
    a1, a2 = np.abs(model.w1.astype(np.float64)), np.abs(model.w2.astype(np.float64))
    hf, _ = model.float_forward()

    def act8(v, w):  # W8A8: each activation within its row's absmax / 254
        if not (scheme.act_int8 and is_quantized(scheme, w)):
            return 0.0
        return np.max(v, axis=1, keepdims=True) / 254 * (1 + 1e-6)

    e1 = x @ d1.T + rr1 * (x @ (a1 + d1).T)
    e1 = e1 + act8(x, model.w1) * np.sum(a1 + d1, axis=1)
    eh = e1 + r2 * (hf + e1)         # relu is 1-Lipschitz; then rounding
    ea = act8(hf + eh, model.w2) * np.sum(a2 + d2, axis=1)
    return (eh @ (a2 + d2).T + np.abs(hf) @ d2.T
            + rr2 * ((hf + eh) @ (a2 + d2).T) + ea)


def cmd_compare(a):
    shapes, vals = [], []
    for path in (a.first, a.second):
        with open(path) as f:
            shape, v = parse_runner_output(f.read())
        shapes.append(shape)
        vals.append(v)
    if shapes[0] != shapes[1] or vals[0].size != vals[1].size:
        print("FAIL shapes differ: %s vs %s" % (shapes[0], shapes[1]))
        return 1
    err = float(np.max(np.abs(vals[0] - vals[1]))) if vals[0].size else 0.0
    if not err <= a.tol:
        print("FAIL max |a - b| = %.3g > tol %.3g" % (err, a.tol))
        return 1
    print("PASS max |a - b| = %.3g <= tol %.3g" % (err, a.tol))
    return 0


def cmd_check(a):
    scheme = scheme_from_args(a)
    model = Model(a)
    shape, out = parse_runner_output(sys.stdin.read())
    if shape is not None and shape != model.out_shape:
        print("FAIL shape: printed %s, expected %s" % (shape, model.out_shape))
        return 1
    quantized = [is_quantized(scheme, w) for w in (model.w1, model.w2)]
    if not any(quantized):
        print("FAIL %s: the group size divides the K of no layer; nothing "
              "would be quantized" % scheme.describe())
        return 1
    ref, bound, (q1, q2) = quantized_reference(model, scheme, a.int_dot)
    ref, bound = ref.reshape(-1), bound.reshape(-1)
    if out.size != ref.size:
        print("FAIL: %d numbers printed, expected %d" % (out.size, ref.size))
        return 1
    tol = bound + 5e-6 * np.abs(out) + 1e-30
    err = np.abs(out - ref)
    err = np.where(np.isfinite(out), err, np.inf)
    ratio = err / tol
    worst = int(np.argmax(ratio))
    idx = np.unravel_index(worst, model.out_shape)
    desc = scheme.describe()
    if ratio[worst] > 1.0:
        print("FAIL %s: element %s got %.9g expected %.9g |err| %.3g > tol %.3g" % (
            desc, [int(i) for i in idx], out[worst], ref[worst], err[worst], tol[worst]))
        return 1

    # The output must be measurably quantized, and within a scheme-level
    # error bound of the float model (guards against a silently skipped
    # pass and against a reference that agrees with a wrong compiler).
    _, yf = model.float_forward()
    yf = yf.reshape(-1)
    dist = np.abs(out - yf)
    qb = quant_error_bound(model, scheme, q1, q2).reshape(-1) + tol
    over = dist / qb
    wq = int(np.argmax(over))
    if over[wq] > 1.0:
        print("FAIL %s: element %s is %.3g away from the float model, beyond "
              "the quantization error bound %.3g" % (
                  desc, [int(i) for i in np.unravel_index(wq, model.out_shape)], dist[wq], qb[wq]))
        return 1
    # Discriminating elements: where the quantized reference is more than
    # 20 tolerances away from the float model. The 4-bit schemes must have
    # some (else the test could not tell a skipped pass), and there the output
    # must be at least 10 tolerances away from the float model.
    disc = np.abs(ref - yf) > 20 * tol
    if np.any(disc):
        sep = float(np.max(dist[disc] / tol[disc]))
        if sep < 10:
            print("FAIL %s: output equals the float model (max |out - float| / "
                  "tol = %.3g): quantization was not applied" % (desc, sep))
            return 1
    elif scheme.kind != "int8":
        print("FAIL %s: test too weak, the quantized and float models differ "
              "by less than 20 tolerances everywhere" % desc)
        return 1
    if not all(quantized):
        desc += " (layer %d stays float: group size does not divide K)" % (
            quantized.index(False) + 1)
    print("PASS %s max_abs_err=%.3g max_err/tol=%.3f max|out-float|=%.3g" % (
        desc, float(np.max(err)), float(ratio[worst]), float(np.max(dist))))
    return 0


# --------------------------------------------------------------------------
# check-ir: the stored codes and parameters, bit for bit
# --------------------------------------------------------------------------

QMATMUL_RE = re.compile(
    r"qnt\.matmul\s*<([^>]*)>\s*%[\w.]+\s*:\s*tensor<[^>]*>\s*,\s*(%[\w.]+)\s*:"
    r"\s*tensor<([^>]*)>\s*scales\((%[\w.]+)\s*:\s*tensor<([^>]*)>\)"
    r"(?:\s*zero_points\((%[\w.]+)\s*:[^)]*\))?"
    r"(?:\s*dq\((%[\w.]+)\s*:\s*tensor<[^>]*>\s*,\s*(%[\w.]+)\s*:[^)]*\))?")
CONST_RE = re.compile(
    r"(%[\w.]+)\s*=\s*arith\.constant\s+(dense_resource<([\w.]+)>|dense<(.*?)>)"
    r"\s*:\s*tensor<([^>]*)>")
RESOURCE_RE = re.compile(r"([\w.]+)\s*:\s*\"0x([0-9A-Fa-f]*)\"")


def _elem_dtype(ttext):
    et = ttext.split("x")[-1].strip()
    return {"f32": "<f4", "i8": "u1", "ui8": "u1", "i32": "<i4"}[et]


def ir_constants(text):
    """Maps SSA names of arith.constant tensors to numpy arrays (flat)."""
    res = {}
    tail = text.find("dialect_resources")
    if tail >= 0:
        for name, hx in RESOURCE_RE.findall(text[tail:]):
            res[name] = bytes.fromhex(hx)[4:]  # blob: 4-byte alignment, data
    consts = {}
    for name, _, rname, lit, ttext in CONST_RE.findall(text[:tail if tail >= 0 else None]):
        dt = _elem_dtype(ttext)
        if rname:
            if rname in res:
                consts[name] = np.frombuffer(res[rname], dtype=dt)
        elif lit.startswith('"0x'):
            consts[name] = np.frombuffer(bytes.fromhex(lit[3:-1]), dtype=dt)
        else:
            nums = [float(t) for t in NUM_RE.findall(lit)]
            consts[name] = np.array(nums).astype(dt)
    return consts


def stored_codes(q):
    """The reference codes (and allowed alternatives) as stored values:
    8-bit two's complement / uint8, or 4-bit nibbles, [N, K]."""
    mask = 0xFF if q.scheme.kind == "int8" else 0x0F
    return q.codes & mask, q.alt_codes & mask


def unpack_codes(raw, n, k, kind):
    raw = np.asarray(raw, dtype=np.uint8)
    if kind == "int8":
        return raw.reshape(n, k).astype(np.int64)
    packed = raw.reshape(n, -1)
    hi, lo = packed >> 4, packed & 0x0F
    out = np.stack([hi, lo], axis=2).reshape(n, -1)
    return out[:, :k].astype(np.int64), out[:, k:]


def cmd_check_ir(a):
    """Compares the constants of each qnt.matmul (in program order) with the
    reference quantization of the quantized layers: codes, scales/absmax,
    zero points and the double-quant pieces must be equal bit for bit, except
    codes of values within 8 ulps of a rounding boundary (either neighbour is
    accepted there)."""
    scheme = scheme_from_args(a)
    model = Model(a)
    text = sys.stdin.read()
    consts = ir_constants(text)
    ops = QMATMUL_RE.findall(text)
    layers = [w for w in (model.w1, model.w2) if is_quantized(scheme, w)]
    desc = scheme.describe()
    if len(ops) != len(layers):
        print("FAIL %s: %d qnt.matmul ops, expected %d" % (desc, len(ops), len(layers)))
        return 1
    fails, stats = [], []
    for li, (w, op) in enumerate(zip(layers, ops)):
        attrs, cname, ctype, sname, stype, zname, dqs, dqo = op
        n, k = w.shape
        tag = "op %d" % (li + 1)
        toks = [t.strip() for t in attrs.split(",")]
        exp_toks = [scheme.kind]
        if not scheme.symmetric:
            exp_toks.append("asymmetric")
        if scheme.group_size:
            exp_toks.append("group = %d" % scheme.group_size)
        if scheme.double_quant:
            exp_toks.append("double_quant")
        if scheme.compute_type != "f32":
            exp_toks.append("compute = %s" % scheme.compute_type)
        if sorted(toks) != sorted(exp_toks):
            fails.append("%s: attributes <%s>, expected <%s>" % (
                tag, attrs, ", ".join(exp_toks)))
        q = quantize(scheme, w)
        ref, alt = stored_codes(q)
        raw = consts.get(cname)
        if raw is None:
            fails.append("%s: codes constant %s not found" % (tag, cname))
            continue
        got = unpack_codes(raw, n, k, scheme.kind)
        if scheme.kind != "int8":
            got, pad = got
            if pad.size and np.any(pad != 0):
                fails.append("%s: odd-K padding nibble is not 0" % tag)
        bad = (got != ref) & (got != alt)
        nalt = int(np.sum((got != ref) & (got == alt)))
        if np.any(bad):
            i, j = np.argwhere(bad)[0]
            fails.append("%s: %d codes differ, first [n=%d, k=%d] got %d expected %d "
                         "(w=%.9g)" % (tag, int(bad.sum()), i, j, got[i, j], ref[i, j], w[i, j]))
        g = q.groups
        sc = consts.get(sname)
        missing = [what for what, name, need in (
            ("scales", sname, True), ("zero_points", zname, not scheme.symmetric),
            ("dq absmax", dqs, scheme.double_quant), ("dq offset", dqo, scheme.double_quant))
            if need and consts.get(name) is None]
        if missing:
            fails.append("%s: no %s operand/constant" % (tag, ", ".join(missing)))
            continue
        if scheme.double_quant:
            dq = q.dq
            dcodes = np.asarray(sc, dtype=np.int64)
            ok = (dcodes == dq["codes"]) | (dcodes == dq["alt_codes"][0]) | \
                (dcodes == dq["alt_codes"][1])
            if not np.all(ok):
                i = int(np.argmin(ok))
                fails.append("%s: %d absmax codes differ, first [%d] got %d expected %d" % (
                    tag, int((~ok).sum()), i, dcodes[i], dq["codes"][i]))
            for nm, got_v, exp_v in (("dq absmax", consts.get(dqs), dq["block_absmax"]),
                                     ("dq offset", consts.get(dqo), [dq["offset"]])):
                got_v = np.asarray(got_v, dtype=F32).reshape(-1)
                exp_v = np.asarray(exp_v, dtype=F32).reshape(-1)
                if got_v.shape != exp_v.shape or np.any(got_v != exp_v):
                    fails.append("%s: %s %s, expected %s" % (tag, nm, got_v[:4], exp_v[:4]))
        else:
            sc = np.asarray(sc, dtype=F32).reshape(n, g)
            if np.any(sc != q.scales):
                i, j = np.argwhere(sc != q.scales)[0]
                fails.append("%s: %d scales differ, first [%d, %d] got %.9g expected %.9g" % (
                    tag, int((sc != q.scales).sum()), i, j, sc[i, j], q.scales[i, j]))
        if not scheme.symmetric:
            zp = np.asarray(consts.get(zname), dtype=np.int64).reshape(n, g)
            zbad = (zp != q.zp) & (zp != q.alt_zp)
            if np.any(zbad):
                i, j = np.argwhere(zbad)[0]
                fails.append("%s: %d zero points differ, first [%d, %d] got %d expected %d" % (
                    tag, int(zbad.sum()), i, j, zp[i, j], q.zp[i, j]))
        stats.append("op%d %dx%d codes_on_alternative=%d" % (li + 1, n, k, nalt))
    if fails:
        print("FAIL %s: %s" % (desc, fails[0]))
        for f in fails[1:]:
            print("  " + f)
        return 1
    print("PASS %s bit-exact %s" % (desc, " ".join(stats)))
    return 0


# --------------------------------------------------------------------------
# selftest
# --------------------------------------------------------------------------

def cmd_selftest(_a):
    fails = []

    def expect(cond, what):
        if not cond:
            fails.append(what)

    # NF4: the 16 bnb values, ascending, each quantizes to itself.
    nf4 = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
           -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
           0.07958029955625534, 0.16093020141124725, 0.24611230194568634,
           0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
           0.7229568362236023, 1.0]
    expect(np.array_equal(NF4_TABLE, np.array(nf4, dtype=F32)), "nf4 table values")
    expect(np.all(np.diff(NF4_TABLE) > 0), "nf4 table ascending")
    s = Scheme("nf4", group_size=16)
    q = quantize(s, np.array([nf4], dtype=F32))
    expect(list(q.codes[0]) == list(range(16)), "nf4 values map to own codes")
    expect(np.array_equal(q.deq[0], NF4_TABLE), "nf4 dequant of table exact")

    # FP4: code order and a few codes.
    expect(FP4_TABLE[3] == 1.0 and FP4_TABLE[11] == -1.0, "fp4 +-1 at codes 3/11")
    expect(FP4_TABLE[2] == F32(2.0 / 3.0) and FP4_TABLE[1] == F32(0.0625 / 12),
           "fp4 codes 1, 2")
    expect(FP4_TABLE[8] == 0.0 and np.signbit(FP4_TABLE[8]), "fp4 code 8 = -0")
    s = Scheme("fp4", group_size=8)
    v = np.array([[1.0, 0.5, 0.25, 0.0, -1.0, -0.5, 1 / 3, -1 / 6]], dtype=F32)
    expect(list(quantize(s, v).codes[0]) == [3, 5, 7, 0, 11, 13, 4, 14],
           "fp4 codes of exact values")
    expect(list(SortedTable(FP4_TABLE).order[7:9]) == [0, 8], "fp4 +0 sorts before -0")
    # equal values (+0 / -0) stay in code order with midpoint 0 between
    # them (bitsandbytes 0.50's bucketize): 0 and tiny negatives -> code 0,
    # tiny positives up to the midpoint 0.0026 of 0 and 0.0052 -> code 8
    v = np.array([[1.0, 1e-3, -1e-3, 0.0, -0.0, 0.0026, -0.003]], dtype=F32)
    expect(list(quantize(Scheme("fp4", group_size=7), v).codes[0]) == [3, 8, 0, 0, 0, 8, 9],
           "fp4 tiny values -> code 0 / 8")

    # Midpoint ties take the lower value (nf4 between 0 and 0.0795...).
    mid = F32((NF4_TABLE[7] + NF4_TABLE[8]) / F32(2))
    row = np.array([[1.0, mid, np.nextafter(mid, F32(1))]], dtype=F32)
    expect(list(quantize(Scheme("nf4", group_size=3), row).codes[0]) == [15, 7, 8],
           "nf4 midpoint tie takes the lower code")
    mid = F32((F32(0.25) + F32(1 / 3)) / F32(2))
    row = np.array([[1.0, mid, np.nextafter(mid, F32(1))]], dtype=F32)
    expect(list(quantize(Scheme("fp4", group_size=3), row).codes[0]) == [3, 7, 4],
           "fp4 midpoint tie takes the lower code")
    # int rounding is half to even.
    row = np.array([[127.0, 2.5, 3.5, -2.5, 0.5]], dtype=F32)
    q = quantize(Scheme("int8", group_size=0), row)
    expect(list(q.codes[0]) == [127, 2, 4, -2, 0] and q.scales[0, 0] == 1.0,
           "int8 sym half-even")
    row = np.array([[7.0, 2.5, -3.5, -7.0]], dtype=F32)
    expect(list(quantize(Scheme("int4", group_size=4), row).codes[0]) == [7, 2, -4, -7],
           "int4 sym half-even")
    # int4 asym by hand: [-1, 3]: scale 4/15, zp = round(3.75) = 4.
    q = quantize(Scheme("int4", symmetric=False, group_size=2),
                 np.array([[-1.0, 3.0]], dtype=F32))
    sc = F32(F32(4) / F32(15))
    expect(q.scales[0, 0] == sc and q.zp[0, 0] == 4 and list(q.codes[0]) == [0, 15],
           "int4 asym hand case")
    expect(q.deq[0, 1] == F32(11 * sc) and q.deq[0, 0] == F32(-4 * sc),
           "int4 asym dequant")
    # int8 asym, all-positive group: range extended to 0 -> zp = 0.
    q = quantize(Scheme("int8", symmetric=False), np.array([[1.0, 2.0, 2.55]], dtype=F32))
    expect(q.zp[0, 0] == 0 and q.codes[0, 2] == 255 and q.scales[0, 0] == F32(F32(2.55) / F32(255)),
           "int8 asym positive group")

    # Nibble order: element 2i in the high nibble, odd K pads with 0.
    expect(pack_nibbles([1, 2, 3]) == bytes([0x12, 0x30]), "nibble packing")
    expect([unpack_nibble(b"\x12\x30", i) for i in range(3)] == [1, 2, 3], "nibble unpack")

    # A zero group dequantizes to exact zeros in every scheme.
    w = np.zeros((2, 8), dtype=F32)
    w[1] = np.arange(8) - 3.0
    for kind, sym, dq in [("int8", True, False), ("int8", False, False),
                          ("int4", True, False), ("int4", False, False),
                          ("nf4", True, False), ("nf4", True, True),
                          ("fp4", True, False), ("fp4", True, True)]:
        q = quantize(Scheme(kind, sym, 8, dq), w)
        expect(np.all(q.deq[0] == 0) and np.all(np.isfinite(q.deq)),
               "zero group exact 0 (%s sym=%s dq=%s)" % (kind, sym, dq))

    # Dynamic map: 256 strictly ascending entries, 0 and 1.0, by hand.
    dm = DYN_MAP
    expect(dm.size == 256 and np.all(np.diff(dm) > 0), "dynamic map 256 sorted")
    expect(dm[127] == 0.0 and dm[255] == 1.0, "dynamic map 0 and 1")
    expect(dm[128] == F32(F32(0.55) * F32(1e-6)), "dynamic map smallest positive")
    expect(abs(float(dm[0]) + 0.99296875) < 1e-7 and dm[254] == -dm[0],
           "dynamic map extreme = (0.9859375 + 1) / 2")
    expect(np.sum(dm < 0) == 127, "dynamic map 127 negatives")
    lin = torch_linspace_f32(0.1, 1.0, 5)
    expect(np.allclose(lin, [0.1, 0.325, 0.55, 0.775, 1.0], atol=1e-7) and lin[-1] == 1.0,
           "float32 linspace")
    # Double quant by hand: absmax [1, 2, 3, 4] -> offset 2.5, block absmax
    # 1.5, 1.0 -> code 255 (decodes exactly), -1 -> code 0 (-0.99296875).
    dq = double_quantize(np.array([1, 2, 3, 4], dtype=F32))
    expect(dq["offset"] == 2.5 and dq["block_absmax"][0] == 1.5, "dq offset/absmax")
    expect(dq["codes"][3] == 255 and dq["decoded"][3] == 4.0, "dq top code exact")
    expect(dq["codes"][0] == 0 and abs(dq["decoded"][0] - (2.5 - 1.5 * 0.99296875)) < 1e-6,
           "dq bottom code")
    # several 256-blocks: each gets its own absmax
    am = np.concatenate([np.full(256, 1.0), np.full(256, 1.0)]).astype(F32)
    am[0], am[300] = 3.0, 2.0
    dq = double_quantize(am)
    expect(dq["block_absmax"].size == 2 and dq["block_absmax"][1] < dq["block_absmax"][0],
           "dq per-256 blocks")

    # bf16 / f16 rounding: nearest even.
    expect(round_bf16(F32(1 + 2 ** -8)) == 1.0, "bf16 tie to even (down)")
    expect(round_bf16(F32(1 + 3 * 2 ** -8)) == 1 + 2 ** -6, "bf16 tie to even (up)")
    expect(round_bf16(F32(1 + 2 ** -8 + 2 ** -20)) == 1 + 2 ** -7, "bf16 above tie")
    expect(round_to(F32(1 + 2 ** -11), "f16") == 1.0, "f16 tie to even")

    # Output parsing.
    txt = ("Unranked Memref base@ = 0x5 rank = 2 offset = 0 sizes = [2, 2] "
           "strides = [2, 1] data = \n[[1.5,   -2e-05], \n [nan,   3]]\n")
    shape, vals = parse_runner_output(txt)
    expect(shape == [2, 2] and vals.size == 4 and vals[1] == -2e-05 and np.isnan(vals[2]),
           "printMemrefF32 parsing")

    for f in fails:
        print("FAIL selftest: " + f)
    if fails:
        return 1
    print("PASS selftest")
    return 0


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------

def parse_bool(s):
    if s.lower() in ("true", "1", "yes"):
        return True
    if s.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError("expected true or false")


def scheme_from_args(a):
    s = Scheme(a.scheme, a.symmetric, a.group_size, a.double_quant, a.compute_type)
    s.act_int8 = getattr(a, "act_int8", False)
    s.threshold = getattr(a, "outlier_threshold", 0.0)
    return s


def add_model_args(p):
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--m", type=int, default=2, help="rows of x")
    p.add_argument("--k", type=int, default=64, help="input features")
    p.add_argument("--h", type=int, default=64, help="hidden features")
    p.add_argument("--n", type=int, default=16, help="output features")
    p.add_argument("--batch", type=int, default=2, help="batch (form=batch)")
    p.add_argument("--form", default="matmul",
                   choices=["matmul", "transpose", "matmul-tb", "batch", "generic"])
    p.add_argument("--bias", default="init", choices=["init", "add", "none"],
                   help="bias as the broadcast matmul init, or added after")
    p.add_argument("--edge", action="store_true",
                   help="zero row in W1, one-signed half row, outlier in W2")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen", help="write a model .mlir to stdout")
    add_model_args(g)
    c = sub.add_parser("check", help="compare mlir-runner output on stdin")
    add_model_args(c)
    c.add_argument("--scheme", required=True, choices=["int8", "int4", "nf4", "fp4"])
    c.add_argument("--symmetric", type=parse_bool, default=True)
    c.add_argument("--group-size", type=int, default=-1)
    c.add_argument("--double-quant", type=parse_bool, default=False)
    c.add_argument("--compute-type", default="f32", choices=["f32", "bf16", "f16"])
    c.add_argument("--act-int8", type=parse_bool, default=False,
                   help="W8A8: int8 activations per row (scheme int8)")
    c.add_argument("--outlier-threshold", type=float, default=0.0,
                   help="with --act-int8: LLM.int8's threshold")
    c.add_argument("--int-dot", type=parse_bool, default=False,
                   help="the layers ran the CPU kernels' integer path "
                   "(emulated: its activations and weights, exact sums)")
    ci = sub.add_parser("check-ir", help="compare the quantized constants of "
                        "quant-opt --qnt-quantize-linear output on stdin")
    add_model_args(ci)
    for sp in (c, ci):
        if sp is ci:
            sp.add_argument("--scheme", required=True, choices=["int8", "int4", "nf4", "fp4"])
            sp.add_argument("--symmetric", type=parse_bool, default=True)
            sp.add_argument("--group-size", type=int, default=-1)
            sp.add_argument("--double-quant", type=parse_bool, default=False)
            sp.add_argument("--compute-type", default="f32", choices=["f32", "bf16", "f16"])
    cmp = sub.add_parser("compare", help="two mlir-runner outputs agree within --tol")
    cmp.add_argument("first")
    cmp.add_argument("second")
    cmp.add_argument("--tol", type=float, required=True)
    sub.add_parser("selftest", help="check the reference on hand cases")
    a = p.parse_args(argv)
    if a.cmd == "check-ir":
        return cmd_check_ir(a)
    if a.cmd == "gen":
        sys.stdout.write(gen_model(a))
        return 0
    if a.cmd == "check":
        return cmd_check(a)
    if a.cmd == "compare":
        return cmd_compare(a)
    return cmd_selftest(a)


if __name__ == "__main__":
    sys.exit(main())
