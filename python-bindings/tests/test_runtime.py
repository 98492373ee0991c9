"""qmlir.compile + qmlir.Model on SmolLM2-135M: logits against the float64
numpy Llama (test/reference/llama_ref.py), incremental decoding, generation,
perplexity against the reference formula, and the runtime's errors."""
import numpy as np
import pytest

import llama_ref
import qmlir

IDS = [1, 504, 3458, 282, 4649, 314, 1345, 30]  # 8 arbitrary token ids


@pytest.fixture(scope="module")
def f32_model(smollm2_gguf, tmp_path_factory):
    out = tmp_path_factory.mktemp("smollm2-f32")
    report = qmlir.compile(smollm2_gguf, out, scheme="f32", max_context=160,
                           prefill_tokens=32)
    assert report["parameters"] > 130e6 and report["stored_bytes"] > 0
    return qmlir.Model.load(out)


@pytest.fixture(scope="module")
def reference(smollm2_gguf):
    return llama_ref.load_gguf_llama(str(smollm2_gguf))


def test_forward_matches_numpy_llama(f32_model, reference):
    cfg, weights = reference
    assert f32_model.vocab_size == cfg["n_vocab"] and f32_model.max_context == 160
    logits = f32_model.forward(IDS)
    assert logits.shape == (len(IDS), cfg["n_vocab"]) and logits.dtype == np.float32
    ref, _ = llama_ref.forward(cfg, weights, IDS)
    assert np.abs(logits - ref).max() <= 1e-3
    assert (logits.argmax(axis=1) == ref.argmax(axis=1)).all()


def test_forward_continues_the_kv_cache(f32_model):
    whole = f32_model.forward(IDS)
    f32_model.forward(IDS[:5])
    rest = f32_model.forward(IDS[5:], pos=5)
    assert np.abs(rest - whole[5:]).max() <= 1e-4


def test_generate_answers(f32_model):
    pieces = []
    text = f32_model.generate("What is the capital of France?", max_new_tokens=12,
                              on_text=pieces.append)
    assert "Paris" in text
    assert "".join(pieces).startswith(text.strip()[:10])
    stats = f32_model.last_stats
    assert 0 < stats["new_tokens"] <= 12 and stats["prompt_tokens"] > 5


def test_perplexity_matches_reference(f32_model, reference):
    cfg, weights = reference
    text = ("The tower is 324 metres tall, about the same height as an 81-storey "
            "building, and the tallest structure in Paris. Its base is square, "
            "measuring 125 metres on each side. During its construction, the "
            "Eiffel Tower surpassed the Washington Monument to become the tallest "
            "man-made structure in the world. ") * 2
    r = f32_model.perplexity(text, ctx=48, max_windows=2)
    assert r["windows"] == 2 and r["scored_tokens"] == 2 * (48 - 48 // 2 - 1)
    ids = f32_model.tokenize(text)
    ref = llama_ref.perplexity(cfg, weights, ids, n_ctx=48, max_windows=2)
    assert r["perplexity"] == pytest.approx(ref["ppl"], rel=1e-4)


def test_tokenize_roundtrip(f32_model):
    ids = f32_model.tokenize("Hello, world!")
    assert f32_model.detokenize(ids) == "Hello, world!"


@pytest.mark.parametrize("call,exc,message", [
    (lambda m: m.forward([-1]), ValueError, r"token ids must be in \[0, 49152\)"),
    (lambda m: m.forward([1.5]), TypeError, "1-D sequence of ints"),
    (lambda m: m.forward([1] * 8, pos=156), qmlir.Error, "do not fit the KV cache of 160 positions"),
    (lambda m: m.forward([]), ValueError, "no tokens"),
    (lambda m: m.generate(123), TypeError, "prompt must be a str"),
    (lambda m: m.generate("hi", temperature=-1), ValueError, "temperature must be >= 0"),
    (lambda m: m.detokenize([10 ** 6]), ValueError, "token id 1000000 is out of range"),
    (lambda m: m.perplexity("short", ctx=48), qmlir.Error, "window"),
])
def test_runtime_errors(f32_model, call, exc, message):
    with pytest.raises(exc, match=message):
        call(f32_model)


def test_load_errors(tmp_path):
    with pytest.raises(qmlir.Error, match=str(tmp_path / "nothing")):
        qmlir.Model.load(tmp_path / "nothing")
