"""Bit-exactness against bitsandbytes (test/golden/bnb: outputs of the real
bitsandbytes 0.50.2 on CPU, made by make_goldens.py; never by our code).

For every golden input (random and edge cases, all-MiniLM-L6-v2 fp32 weights,
SmolLM2's weights dequantized from Q4_1), flattened as bitsandbytes does:
- nf4 / fp4, blocks of 64 and 128: packed codes and absmax are identical;
- double quantization: the packed codes are identical; the offset is the
  mean of the same absmax values summed in another order (we round the exact
  mean once, torch sums fp32 in SIMD lanes), so it is checked to be the
  exactly rounded mean and within the summation bound of bitsandbytes'; given
  bitsandbytes' offset, the nested codes and absmax are identical;
- int8 vector-wise (2-D inputs): codes identical, scale = row_stats / 127,
  also with LLM.int8's outlier threshold (outlier columns too).
"""
import functools
import hashlib
import json

import numpy as np
import pytest

import bert_ref
import qmlir
from conftest import GOLDEN

F32 = np.float32
MANIFEST = json.loads((GOLDEN / "manifest.json").read_text())
GOLD = {src: np.load(GOLDEN / fname) for src, fname in MANIFEST["files"].items()}


@functools.lru_cache(maxsize=None)
def minilm_weights(model_dir):
    return bert_ref.load(str(model_dir))[1]


def load_input(entry, request):
    src = entry["source"]
    if entry.get("input_stored"):
        x = GOLD[src][entry["name"] + "/x"]
    elif src == "minilm":
        x = minilm_weights(request.getfixturevalue("minilm_dir"))[entry["name"]]
    else:
        import gguf
        reader = gguf.GGUFReader(str(request.getfixturevalue("smollm2_gguf")))
        (t,) = [t for t in reader.tensors if t.name == entry["name"]]
        x = gguf.quants.dequantize(t.data, t.tensor_type).reshape(entry["shape"])
    x = np.ascontiguousarray(x, dtype=F32)
    digest = hashlib.sha256(x.astype("<f4").tobytes()).hexdigest()
    assert digest == entry["sha256_f32le"], f"{entry['name']}: not the golden input"
    return x


INPUTS = MANIFEST["inputs"]
IDS = [f"{e['source']}:{e['name']}" for e in INPUTS]


def test_tables_are_bitsandbytes():
    g = GOLD["random"]
    for kind, key in (("nf4", "nf4_code"), ("fp4", "fp4_code"), ("dynamic", "dynamic_code")):
        ours, theirs = qmlir.code_table(kind), g[key]
        assert np.array_equal(ours.view(np.uint32) & 0x7FFFFFFF,
                              theirs.view(np.uint32) & 0x7FFFFFFF), kind


def check_packed(ours, theirs, numel, zero_code):
    """Equal bytes; for an odd count bitsandbytes pads the flat tensor with
    one 0.0 element (its code in the last low nibble) where we pad with 0."""
    assert ours.size == theirs.size
    if numel % 2:
        assert theirs[-1] & 15 == zero_code
        assert ours[-1] & 15 == 0
        ours, theirs = ours.copy(), theirs.copy()
        ours[-1] &= 0xF0
        theirs[-1] &= 0xF0
    diff = np.flatnonzero(ours != theirs)
    assert diff.size == 0, f"{diff.size} bytes differ, first at {diff[:5]}"


@pytest.mark.parametrize("entry", INPUTS, ids=IDS)
@pytest.mark.parametrize("kind", ["nf4", "fp4"])
def test_4bit(entry, kind, request):
    x = load_input(entry, request)
    g = GOLD[entry["source"]]
    flat = x.reshape(1, -1)
    zero_code = {"nf4": 7, "fp4": 0}[kind]
    for bs in (64, 128):
        key = f"{entry['name']}/{kind}/b{bs}"
        q = qmlir.quantize(flat, kind, bs)
        check_packed(q.codes.reshape(-1), g[key + "/codes"], x.size, zero_code)
        assert np.array_equal(q.scales.reshape(-1).view(np.uint32),
                              g[key + "/absmax"].view(np.uint32)), key + " absmax"

        dq = qmlir.quantize(flat, kind, bs, double_quant=True)
        assert np.array_equal(dq.codes, q.codes)
        absmax = g[key + "/absmax"]
        offset = F32(g[key + "/dq/offset"])
        # Our offset: the exactly rounded mean. bitsandbytes': an fp32 sum in
        # another order, within the recursive-summation bound n*u*sum|a|/n.
        assert dq.dq_offset == F32(np.mean(absmax.astype(np.float64)))
        bound = absmax.size * np.finfo(F32).eps / 2 * np.abs(absmax).mean() \
            + np.spacing(offset)
        assert abs(float(dq.dq_offset) - float(offset)) <= bound, key
        # Given the same offset, the nested quantization is bit for bit theirs.
        codes, absmax2 = qmlir.quantize_blockwise((absmax - offset).astype(F32), 256)
        assert np.array_equal(codes, g[key + "/dq/absmax_codes"]), key + " nested codes"
        assert np.array_equal(absmax2, g[key + "/dq/absmax2"]), key + " nested absmax"
        if dq.dq_offset == offset:
            assert np.array_equal(dq.dq_codes.reshape(-1), codes)
            assert np.array_equal(dq.dq_scales, absmax2)


@pytest.mark.parametrize("entry", [e for e in INPUTS if len(e["shape"]) == 2],
                         ids=[i for e, i in zip(INPUTS, IDS) if len(e["shape"]) == 2])
def test_int8_vectorwise(entry, request):
    x = load_input(entry, request)
    g = GOLD[entry["source"]]
    key = entry["name"] + "/int8"
    q = qmlir.quantize(x, "int8")
    theirs = g[key + "/codes"]
    diff = np.flatnonzero(q.codes.view(np.int8) != theirs)
    assert diff.size == 0, f"{diff.size} codes differ, first at {diff[:5]}"
    assert np.array_equal(q.scales[:, 0], (g[key + "/row_stats"] / F32(127)).astype(F32))


def test_int8_outlier_threshold():
    """LLM.int8's threshold: outliers left out of the row absmax, their
    columns zeroed (the golden input has |x| >= 6 values, one exactly 6)."""
    g = GOLD["random"]
    key = "outliers_32x256"
    x = g[key + "/x"]
    q = qmlir.quantize(x, "int8", outlier_threshold=6.0)
    assert np.array_equal(q.outlier_cols, g[key + "/int8_t6/outlier_cols"])
    assert np.array_equal(q.codes.view(np.int8), g[key + "/int8_t6/codes"])
    assert np.array_equal(q.scales[:, 0],
                          (g[key + "/int8_t6/row_stats"] / F32(127)).astype(F32))
    # Without the threshold the outliers set the row scales instead.
    assert not np.array_equal(qmlir.quantize(x, "int8").codes, q.codes)


def test_offsets_within_one_ulp():
    """The summation-order difference is at most one ulp of the offset on
    every golden (52 of 76 are identical with bitsandbytes 0.50.2)."""
    same = total = 0
    for g in GOLD.values():
        for k in g.files:
            if k.endswith("/dq/offset"):
                absmax = g[k.replace("/dq/offset", "/absmax")]
                ours, theirs = F32(np.mean(absmax.astype(np.float64))), F32(g[k])
                assert abs(float(ours) - float(theirs)) <= np.spacing(theirs), k
                total += 1
                same += ours == theirs
    assert total == 76 and same >= 40, (same, total)
