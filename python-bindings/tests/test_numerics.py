"""qmlir.quantize / dequantize / memory_report against the independent numpy
reference (test/reference/qref.py) and hand-computed sizes; argument errors."""
import numpy as np
import pytest

import qmlir
import qref

RNG = np.random.default_rng(1234)
W = RNG.normal(0.0, 0.02, size=(48, 200)).astype(np.float32)

SCHEMES = [
    ("int8", 0, False, False), ("int8", 0, True, False), ("int8", 64, False, False),
    ("int4", 64, False, False), ("int4", 32, True, False),
    ("nf4", 64, False, False), ("nf4", 64, False, True),
    ("fp4", 32, False, False), ("fp4", 64, False, True),
]


def unpack(q):
    """Per-element codes of a QuantizedTensor in qref's convention."""
    n, k = q.shape
    c = q.codes.astype(np.int64)
    if q.scheme in ("int4", "nf4", "fp4"):
        c = np.stack([c >> 4, c & 15], axis=2).reshape(n, -1)[:, :k]
        if q.scheme == "int4" and q.symmetric:
            c = np.where(c >= 8, c - 16, c)
    elif q.symmetric:
        c = q.codes.view(np.int8).astype(np.int64)
    return c


@pytest.mark.parametrize("scheme,group,asym,dq", SCHEMES)
def test_codes_and_dequantize_match_reference(scheme, group, asym, dq):
    # group 64 does not divide K = 200: every row ends in a partial group.
    q = qmlir.quantize(W, scheme, group, asymmetric=asym, double_quant=dq)
    ref = qref.quantize(qref.Scheme(scheme, not asym, group, dq), W)
    codes = unpack(q)
    ok = (codes == ref.codes) | (codes == ref.alt_codes)
    assert ok.all(), f"{(~ok).sum()} codes differ from the reference"
    d = qmlir.dequantize(q)
    assert d.shape == W.shape and d.dtype == np.float32
    inside = (d >= ref.lo) & (d <= ref.hi)
    assert inside.all(), f"{(~inside).sum()} values outside the reference bounds"
    if dq:
        assert q.scales is None and q.dq_codes.shape == (48, qref.num_groups(200, group))
        assert q.dq_offset == pytest.approx(float(ref.dq["offset"]), rel=1e-6)
    assert q.nbytes == qmlir.memory_report([W.shape], scheme, group, asymmetric=asym,
                                           double_quant=dq).stored_bytes


def test_rows_of_higher_rank_and_dtypes():
    w3 = W.reshape(4, 12, 200)
    a = qmlir.quantize(w3, "nf4")
    b = qmlir.quantize(W, "nf4")
    assert a.shape == (48, 200) and np.array_equal(a.codes, b.codes)
    # float64 and float16 inputs are converted to float32 first.
    c = qmlir.quantize(W.astype(np.float64), "nf4")
    assert np.array_equal(c.codes, b.codes)
    h = W.astype(np.float16)
    assert np.array_equal(qmlir.quantize(h, "int8").codes,
                          qmlir.quantize(h.astype(np.float32), "int8").codes)


def test_outputs_are_views_of_native_memory():
    q = qmlir.quantize(W, "int4", 64)
    # The arrays wrap the C++ vectors (no copy): they do not own their data.
    assert not q.codes.flags.owndata and not q.scales.flags.owndata
    q.codes[0, 0] ^= 0  # writable
    assert q.codes.dtype == np.uint8 and q.scales.dtype == np.float32


def test_memory_report_hand_formulas():
    shapes = {"q": (4096, 4096), "down": (4096, 14336)}
    params = 4096 * 4096 + 4096 * 14336
    r8 = qmlir.memory_report(shapes, "int8")
    assert r8.stored_bytes == params + 4 * (4096 + 4096)
    assert r8.fp32_bytes == 4 * params and r8.fp16_bytes == 2 * params
    nf = qmlir.memory_report(shapes, "nf4", 64, double_quant=True)
    groups = params // 64
    assert nf.stored_bytes == params // 2 + groups + 4 * (-(-4096 * 4096 // 64 // 256)) \
        + 4 * (-(-4096 * 14336 // 64 // 256)) + 2 * 4
    assert abs(nf.bits_per_weight - 4.127) < 1e-3
    text = str(nf)
    assert "FP32" in text and "FP16" in text and "nf4-g64+dq" in text


def test_tables():
    assert np.array_equal(qmlir.code_table("nf4"), np.array(qref.NF4_TABLE, np.float32))
    assert qmlir.code_table("dynamic").shape == (256,)
    with pytest.raises(ValueError, match="'int8' is not one of nf4, fp4, dynamic"):
        qmlir.code_table("int8")


@pytest.mark.parametrize("call,exc,message", [
    (lambda: qmlir.quantize(W, "int3"), ValueError, "scheme 'int3' is not one of int8, int4, nf4, fp4"),
    (lambda: qmlir.quantize(W, "nf4", 1.5), TypeError, "group_size must be an int, not float"),
    (lambda: qmlir.quantize(W, "nf4", asymmetric=True), ValueError, "asymmetric does not apply to scheme nf4"),
    (lambda: qmlir.quantize(W, "int8", double_quant=True), ValueError, "double_quant applies to nf4 and fp4, not int8"),
    (lambda: qmlir.quantize(W, "int8", -2), ValueError, "group_size -2 is negative"),
    (lambda: qmlir.quantize(W, "nf4", 64, codebook=[0.0] * 3), ValueError, "codebook has 3 values"),
    (lambda: qmlir.quantize(W.astype(np.int32), "int8"), TypeError, "dtype is int32; a floating-point array is needed"),
    (lambda: qmlir.quantize(np.float32(1.0), "int8"), ValueError, "shape"),
    (lambda: qmlir.quantize(np.zeros((0, 4), np.float32), "int8"), ValueError, "non-empty"),
    (lambda: qmlir.quantize(np.array([[1.0, 2.0], [np.nan, 1.0]], np.float32), "int8"), ValueError,
     r"the weight holds NaN at index \(1, 0\); it cannot be quantized"),
    (lambda: qmlir.quantize(np.array([[[1.0, 2.0]], [[3.0, -np.inf]]]), "int4", 0), ValueError,
     r"the weight holds -inf at index \(1, 0, 1\)"),
    (lambda: qmlir.quantize(np.array([np.inf] * 64, np.float16), "nf4"), ValueError,
     r"the weight holds inf at index \(0,\)"),
    (lambda: qmlir.quantize(W, 8), TypeError, "scheme must be a str"),
    (lambda: qmlir.dequantize("codes"), TypeError, "QuantizedTensor"),
    (lambda: qmlir.quantize(W, "nf4", outlier_threshold=6.0), ValueError, "outlier_threshold applies to int8 per channel"),
    (lambda: qmlir.quantize(W, "int8", outlier_threshold=-1.0), ValueError, "outlier_threshold -1.0 is not positive"),
    (lambda: qmlir.memory_report([(0, 4)], "int8"), ValueError, r"shape \[0, 4\] is not positive"),
    (lambda: qmlir.memory_report([], "int8"), ValueError, "no shapes"),
])
def test_argument_errors(call, exc, message):
    with pytest.raises(exc, match=message):
        call()


def test_dequantize_rejects_inconsistent_arrays():
    q = qmlir.quantize(W, "nf4", 64, double_quant=True)
    q.dq_scales = q.dq_scales[:-1] if q.dq_scales.size > 1 else np.zeros(0, np.float32)
    with pytest.raises(ValueError, match="dq_scales has 0 values; the scheme stores 1"):
        qmlir.dequantize(q)
    q = qmlir.quantize(W, "int4", 64)
    q.codes = q.codes[:, :-1]
    with pytest.raises(ValueError, match="codes has 4752 values; the scheme stores 4800"):
        qmlir.dequantize(q)
