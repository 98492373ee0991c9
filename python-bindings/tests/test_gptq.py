"""GPTQ (qmlir.quantize(..., hessian=H)) against an independent numpy GPTQ
(test/reference/gptq_ref.py) and plain rounding."""
import numpy as np
import pytest

import gptq_ref
import qmlir

N, K = 48, 256


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((N, K)).astype(np.float32)
    mix = rng.standard_normal((K, K)) * 0.3 + np.eye(K)  # correlated inputs
    x = rng.standard_normal((1024, K)) @ mix
    return w, x, x.T @ x


SCHEMES = [
    ("nf4", dict(group_size=64)),
    ("nf4", dict(group_size=64, double_quant=True)),
    ("fp4", dict(group_size=32)),
    ("int4", dict(group_size=32)),
    ("int4", dict(group_size=64, asymmetric=True)),
    ("int8", dict()),
]


def _out_err(x, w, q):
    return np.linalg.norm(x @ (w - qmlir.dequantize(q)).T)


@pytest.mark.parametrize("scheme,kw", SCHEMES)
def test_matches_reference_and_beats_rounding(data, scheme, kw):
    w, x, h = data
    rtn = qmlir.quantize(w, scheme, **kw)
    q = qmlir.quantize(w, scheme, hessian=h, **kw)
    # Same parameters and layout as plain rounding: only the codes change.
    for name in ("scales", "zero_points", "dq_codes", "dq_scales"):
        a, b = getattr(rtn, name), getattr(q, name)
        assert (a is None) == (b is None)
        if a is not None:
            assert np.array_equal(a, b), name
    assert q.dq_offset == rtn.dq_offset
    assert q.codes.shape == rtn.codes.shape
    # The independent GPTQ on the same decoded scales: the same weights up
    # to a few near-ties that float64 summation order can flip.
    g = q.group_size or K
    decoded = _decoded_scales(rtn)
    zps = (rtn.zero_points.astype(np.float64) if rtn.zero_points is not None
           else np.zeros_like(decoded))
    ref = gptq_ref.gptq(w, h, decoded, zps, scheme, not kw.get("asymmetric", False), g)
    ours = qmlir.dequantize(q).astype(np.float64)
    assert np.mean(np.isclose(ours, ref, rtol=0, atol=1e-6 * np.abs(w).max())) >= 0.99
    err_ref = np.linalg.norm(x @ (w - ref).T)
    assert _out_err(x, w, q) <= 1.02 * err_ref
    # The point of it: a clearly smaller output error than rounding.
    assert _out_err(x, w, q) <= 0.8 * _out_err(x, w, rtn)


def _decoded_scales(q):
    """The per-group scale (absmax) the codes multiply, double quant
    decoded."""
    if not q.double_quant:
        return q.scales.astype(np.float64)
    table = np.asarray(qmlir.code_table("dynamic"), np.float64)
    flat = q.dq_codes.reshape(-1)
    blocks = np.repeat(q.dq_scales.astype(np.float32), 256)[:flat.size]
    vals = (table[flat].astype(np.float32) * blocks + np.float32(q.dq_offset)).astype(np.float32)
    return vals.reshape(q.dq_codes.shape).astype(np.float64)


@pytest.mark.parametrize("scheme,kw", SCHEMES)
def test_identity_hessian_is_rounding(data, scheme, kw):
    # No correlation between inputs, no damping: nothing to compensate, so
    # GPTQ rounds exactly as quantize() does.
    w = data[0]
    rtn = qmlir.quantize(w, scheme, **kw)
    q = qmlir.quantize(w, scheme, hessian=np.eye(K), damp=0.0, **kw)
    if kw.get("double_quant"):
        # GPTQ rounds against the decoded (double-quantized) absmax, plain
        # rounding against the exact one: the values differ by < 1 %.
        assert np.mean(q.codes == rtn.codes) > 0.95
    else:
        assert np.array_equal(q.codes, rtn.codes)


def test_dead_inputs_keep_rounding(data):
    w, x, h = data
    h = h.copy()
    h[:, 5] = h[5, :] = 0.0  # input 5 is always zero
    q = qmlir.quantize(w, "int4", group_size=32, hessian=h)
    rtn = qmlir.quantize(w, "int4", group_size=32)
    # Column 5 (the low nibble of byte 2) is rounded as plain rounding does.
    assert np.array_equal(q.codes[:, 2] & 0x0F, rtn.codes[:, 2] & 0x0F)


def test_search_clip(data):
    # Heavy-tailed weights: clipping some groups' range rounds the rest
    # better. Each group's scale must be the one an independent numpy search
    # picks (ranges 1, 0.975, ..., 0.75 of the absmax; rounding error
    # weighted by H's diagonal), and the codes GPTQ's with those scales.
    _, x, h = data
    w = np.random.default_rng(3).standard_t(3, (N, K)).astype(np.float32)
    q = qmlir.quantize(w, "int4", group_size=32, hessian=h, search_clip=True)
    plain = qmlir.quantize(w, "int4", group_size=32)
    diag = np.diag(h).reshape(K // 32, 32)
    wg = w.reshape(N, K // 32, 32)
    amax = np.abs(wg).max(axis=2)
    best, best_err = np.ones_like(amax), np.full(amax.shape, np.inf)
    for step in range(11):
        ratio = np.float32(1) - np.float32(0.025) * np.float32(step)
        scale = (amax * ratio / np.float32(7)).astype(np.float32)
        codes = np.clip(np.rint(wg / scale[..., None]), -8, 7)
        err = (diag[None] * (wg - codes * scale[..., None]) ** 2).sum(axis=2)
        better = err < best_err
        best[better], best_err[better] = ratio, err[better]
    expect = (amax * best / np.float32(7)).astype(np.float32)
    assert np.mean(np.isclose(q.scales, expect, rtol=1e-6)) >= 0.98
    assert np.mean(q.scales < plain.scales) > 0.2
    ref = gptq_ref.gptq(w, h, q.scales.astype(np.float64),
                        np.zeros(q.scales.shape), "int4", True, 32)
    ours = qmlir.dequantize(q).astype(np.float64)
    assert np.mean(np.isclose(ours, ref, rtol=0, atol=1e-6 * np.abs(w).max())) >= 0.99


def test_errors(data):
    w, _, h = data
    with pytest.raises(ValueError, match=r"hessian must be \[K, K\] = \[256, 256\]"):
        qmlir.quantize(w, "nf4", hessian=np.eye(10))
    bad = -np.eye(K)
    with pytest.raises(ValueError, match="not positive definite"):
        qmlir.quantize(w, "nf4", hessian=bad, damp=0.0)
    nan = h.copy()
    nan[3, 4] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        qmlir.quantize(w, "nf4", hessian=nan)
    with pytest.raises(ValueError, match="damp"):
        qmlir.quantize(w, "nf4", hessian=h, damp=-1.0)
    with pytest.raises(ValueError, match="outlier_threshold"):
        qmlir.quantize(w, "int8", group_size=0, hessian=h, outlier_threshold=6.0)
    with pytest.raises(ValueError, match="search_clip applies to GPTQ"):
        qmlir.quantize(w, "nf4", search_clip=True)
