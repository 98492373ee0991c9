"""qmlir.compile of a generic MLIR module (examples/mlp.mlir) and
qmlir.Module: its exported function called with numpy arrays, against numpy
(the fp32 weights regenerated as examples/make_mlp.py makes them; for nf4 +
double quant the same weights through qmlir.quantize / dequantize)."""
import numpy as np
import pytest

import qmlir
from conftest import REPO

MLP = REPO / "examples" / "mlp.mlir"


def mlp_weights():
    """examples/make_mlp.py's draws (seed 0): x, W1 [128, 256], b1, W2, b2."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 128)).astype(np.float32)
    w1 = (rng.standard_normal((128, 256)) / np.sqrt(128)).astype(np.float32)
    b1 = (0.1 * rng.standard_normal(256)).astype(np.float32)
    w2 = (rng.standard_normal((256, 128)) / np.sqrt(256)).astype(np.float32)
    b2 = (0.1 * rng.standard_normal(128)).astype(np.float32)
    return x, w1, b1, w2, b2


def reference(x, w1, b1, w2, b2):
    h = np.maximum(x.astype(np.float64) @ w1 + b1, 0.0)
    return h @ w2 + b2


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = tmp_path_factory.mktemp("mlp")
    f32 = qmlir.compile(MLP, out / "f32", scheme="f32")
    nf4 = qmlir.compile(MLP, out / "nf4", scheme="nf4", double_quant=True,
                        int_dot=False)
    assert f32["parameters"] == nf4["parameters"] == 2 * 128 * 256
    assert nf4["stored_bytes"] == 33816
    return qmlir.Module.load(out / "f32"), qmlir.Module.load(out / "nf4")


def int_dot_bound(a, d, block=64, table_max=4096):
    """Bound on |a @ d (integer path) - a @ d| for d [K, N] nf4-dequantized
    in groups of 64 (include/qmlir/Numerics/IntDot.h: blocks of 64,
    activations to +-8191 per block, the nf4 table to +-table_max): half an
    activation step times |d| + the table's half step, plus |a| times it."""
    k = a.shape[1]
    da = np.zeros_like(a, dtype=np.float64)
    for b in range(0, k, block):
        da[:, b:b + block] = np.abs(a[:, b:b + block]).max(axis=1, keepdims=True) / (2 * 8191)
    absmax = np.repeat(np.abs(d).reshape(k // 64, 64, -1).max(axis=1), 64, axis=0)
    dw = absmax / (2 * table_max)
    return ((da @ (np.abs(d) + dw) + np.abs(a) @ dw) * 1.01 + 1e-5)


def test_f32_module_matches_numpy(compiled):
    m, _ = compiled
    x, w1, b1, w2, b2 = mlp_weights()
    assert set(m.functions) == {"mlp", "main"}
    y = m.mlp(x)
    assert y.shape == (4, 128) and y.dtype == np.float32
    ref = reference(x, w1, b1, w2, b2)
    # fp32 dot products of length 128 and 256: |error| <~ 1e-5 here.
    assert np.abs(y - ref).max() <= 1e-4
    other = np.random.default_rng(5).standard_normal((4, 128)).astype(np.float32)
    assert np.abs(m["mlp"](other) - reference(other, w1, b1, w2, b2)).max() <= 1e-4


def test_nf4_module_matches_dequantized_numpy(compiled):
    _, m = compiled
    x, w1, b1, w2, b2 = mlp_weights()
    # The module's weights are [K, N]; the numerics quantize [N, K] rows.
    d1 = qmlir.dequantize(qmlir.quantize(w1.T, "nf4", 64, double_quant=True)).T
    d2 = qmlir.dequantize(qmlir.quantize(w2.T, "nf4", 64, double_quant=True)).T
    y = m.mlp(x)
    assert np.abs(y - reference(x, d1, b1, d2, b2)).max() <= 1e-4
    # ... and it is really quantized: far from the fp32 result.
    assert np.abs(y - reference(x, w1, b1, w2, b2)).max() > 1e-2


def cpu_has(flag):
    with open("/proc/cpuinfo") as f:
        return flag in f.read().split()


def nf4_dq_weights():
    _, w1, _, w2, _ = mlp_weights()
    d1 = qmlir.dequantize(qmlir.quantize(w1.T, "nf4", 64, double_quant=True)).T
    d2 = qmlir.dequantize(qmlir.quantize(w2.T, "nf4", 64, double_quant=True)).T
    return d1, d2


def integer_path_bound():
    """|integer path - f32 activations| of the nf4+dq mlp: int_dot_bound
    through both layers (layer 2's input moved by layer 1's error)."""
    x, _, b1, _, _ = mlp_weights()
    d1, d2 = nf4_dq_weights()
    h = np.maximum(x.astype(np.float64) @ d1 + b1, 0.0)
    e1 = int_dot_bound(x, d1)
    return e1 @ np.abs(d2) + int_dot_bound(h + e1, d2) + 1e-4


def test_nf4_module_integer_path(tmp_path, compiled):
    """The default CPU kernels (int_dot=True: 14-bit activations, integer
    nf4 table) against the f32-activation build, within the integer path's
    error bound (+ 1e-4 for the f32 roundings of both)."""
    if not cpu_has("avx2"):
        pytest.skip("this CPU has no AVX2: the kernels keep f32 activations")
    _, exact = compiled
    qmlir.compile(MLP, tmp_path / "nf4i", scheme="nf4", double_quant=True)
    m = qmlir.Module.load(tmp_path / "nf4i")
    x = mlp_weights()[0]
    diff = np.abs(m.mlp(x) - exact.mlp(x))
    assert np.all(diff <= integer_path_bound()), diff.max()
    assert diff.max() > 0  # the integer path ran (it is not bit-equal)


def test_named_cpu_runtime_dispatch(tmp_path, monkeypatch, compiled):
    """cpu="x86-64": AVX-512, AVX2 and portable kernels in one library, the
    level chosen at load (QMLIR_CPU_ISA overrides): the portable kernels
    match the dequantized numpy model, the AVX2 ones (integer path) the
    f32-activation build within the integer path's bound."""
    _, exact = compiled
    qmlir.compile(MLP, tmp_path / "x86", scheme="nf4", double_quant=True,
                  cpu="x86-64")
    x, _, b1, _, b2 = mlp_weights()
    d1, d2 = nf4_dq_weights()
    monkeypatch.setenv("QMLIR_CPU_ISA", "generic")
    m = qmlir.Module.load(tmp_path / "x86")
    assert m.cpu_kernels.startswith("generic (runtime dispatch; this CPU's best: ")
    assert np.abs(m.mlp(x) - reference(x, d1, b1, d2, b2)).max() <= 1e-4
    if cpu_has("avx2"):
        monkeypatch.setenv("QMLIR_CPU_ISA", "avx2")
        m = qmlir.Module.load(tmp_path / "x86")
        assert m.cpu_kernels.startswith("avx2 (runtime dispatch")
        diff = np.abs(m.mlp(x) - exact.mlp(x))
        assert np.all(diff <= integer_path_bound()) and diff.max() > 0
    monkeypatch.setenv("QMLIR_CPU_ISA", "avx9")
    with pytest.raises(qmlir.Error, match=r"model.so: QMLIR_CPU_ISA=avx9: "
                       r"unknown \(expected generic, avx2, avx512, avx512vnni, avx512bf16, amx\)"):
        qmlir.Module.load(tmp_path / "x86")
    if not cpu_has("avx512f"):
        monkeypatch.setenv("QMLIR_CPU_ISA", "avx512")
        with pytest.raises(qmlir.Error, match="QMLIR_CPU_ISA=avx512: this CPU "
                           "cannot run avx512 kernels"):
            qmlir.Module.load(tmp_path / "x86")
    if not cpu_has("avx512_vnni"):
        monkeypatch.setenv("QMLIR_CPU_ISA", "avx512vnni")
        with pytest.raises(qmlir.Error, match="QMLIR_CPU_ISA=avx512vnni: this "
                           "CPU cannot run avx512vnni kernels"):
            qmlir.Module.load(tmp_path / "x86")
    # A library for this machine has one set of kernels.
    assert exact.cpu_kernels == "compiled for one CPU (no runtime dispatch)"


def test_call_errors(compiled):
    m, _ = compiled
    with pytest.raises(ValueError, match=r"mlp: argument 0 has shape \(3, 128\); expected \(4, 128\)"):
        m.mlp(np.zeros((3, 128), np.float32))
    with pytest.raises(TypeError, match=r"mlp\(\) takes 1 arguments \(2 given\)"):
        m.mlp(np.zeros((4, 128)), np.zeros((4, 128)))
    with pytest.raises(KeyError, match="no exported function @nope"):
        m["nope"]
    with pytest.raises(AttributeError):
        m.nope


def test_load_errors(tmp_path, compiled):
    with pytest.raises(qmlir.Error, match="manifest.json: cannot read"):
        qmlir.Module.load(tmp_path)
    (tmp_path / "manifest.json").write_text('{"format": "quant-mlir model 1"}')
    with pytest.raises(qmlir.Error, match="not a compiled module"):
        qmlir.Module.load(tmp_path)
