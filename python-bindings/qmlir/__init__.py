"""quant-mlir from Python: quantize, compile and run.

Numerics (the same C++ library as the compiler):

    q = qmlir.quantize(w, scheme="nf4", group_size=64, double_quant=True)
    q.codes, q.scales, q.dq_codes, q.dq_scales, q.dq_offset   # numpy arrays
    w2 = qmlir.dequantize(q)
    print(qmlir.memory_report({"q_proj": (4096, 4096)}, scheme="int8"))

A weight is an [N, K] (out x in) array; groups run along K within each row
(bitsandbytes flattens the tensor first: pass ``w.reshape(1, -1)`` to quantize
exactly as ``bitsandbytes.functional.quantize_4bit`` does).

The compiler and the runtime:

    qmlir.run_pipeline(mlir_text, "qnt-quantize-linear{scheme=int8}")
    qmlir.compile("model.gguf", "out/", scheme="nf4", double_quant=True)
    model = qmlir.Model.load("out/")
    model.generate("What is the capital of France?", max_new_tokens=32)
    logits = model.forward([1, 2, 3])        # numpy [3, vocab]
    model.perplexity(text, ctx=512)

Bad arguments raise ValueError or TypeError; what the compiler or the runtime
refuses raises qmlir.Error (a RuntimeError) with its one-line message.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
from typing import Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _qmlir

Error = _qmlir.Error

__all__ = ["Error", "QuantizedTensor", "quantize", "dequantize",
           "quantize_blockwise", "code_table",
           "MemoryReport", "memory_report", "run_pipeline", "compile",
           "Model", "SCHEMES"]

SCHEMES = ("int8", "int4", "nf4", "fp4")


def _default_group_size(scheme: str, group_size: Optional[int]) -> int:
    if group_size is None:
        return 0 if scheme == "int8" else 64
    if isinstance(group_size, bool) or not isinstance(group_size, (int, np.integer)):
        raise TypeError(f"group_size must be an int, not {type(group_size).__name__}")
    if group_size < 0:
        raise ValueError(f"group_size {group_size} is negative")
    return int(group_size)


def _check_scheme(scheme) -> str:
    if not isinstance(scheme, str):
        raise TypeError(f"scheme must be a str, not {type(scheme).__name__}")
    return scheme


@dataclasses.dataclass
class QuantizedTensor:
    """A quantized [N, K] weight: packed codes and parameters as numpy arrays.

    codes        uint8 [N, K] (8-bit; int8 symmetric as two's complement) or
                 [N, ceil(K/2)] (4-bit, element 2i in the high nibble)
    scales       float32 [N, G]: the scale (int kinds) or absmax (nf4/fp4);
                 None under double quantization
    zero_points  uint8 [N, G] (asymmetric int kinds) or None
    dq_codes     uint8 [N, G]: the absmax quantized with the dynamic map
    dq_scales    float32 [ceil(N*G/256)]; dq_offset: the mean absmax
    """

    scheme: str
    shape: Tuple[int, int]
    group_size: int
    symmetric: bool
    double_quant: bool
    codes: np.ndarray
    scales: Optional[np.ndarray] = None
    zero_points: Optional[np.ndarray] = None
    dq_codes: Optional[np.ndarray] = None
    dq_scales: Optional[np.ndarray] = None
    dq_offset: float = 0.0
    codebook: Optional[Tuple[float, ...]] = None

    @property
    def nbytes(self) -> int:
        """Bytes of the stored representation (codes and parameters)."""
        return _qmlir.storage(self.scheme, self.group_size, self.symmetric,
                              self.double_quant, *self.shape)["total"]

    @property
    def bits_per_weight(self) -> float:
        return 8.0 * self.nbytes / (self.shape[0] * self.shape[1])


def _as_weight(w) -> np.ndarray:
    a = np.asarray(w)
    if a.dtype.kind != "f":
        raise TypeError(f"quantize: the weight's dtype is {a.dtype}; "
                        "a floating-point array is needed")
    if a.ndim == 0 or a.size == 0:
        raise ValueError(f"quantize: the weight has shape {a.shape}; "
                         "a non-empty array of rank >= 1 is needed")
    if not np.all(np.isfinite(a)):
        raise ValueError("quantize: the weight holds NaN or infinite values")
    a = a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a
    # No copy when the input already is C-contiguous float32.
    return np.ascontiguousarray(a, dtype=np.float32)


def quantize(w, scheme: str = "nf4", group_size: Optional[int] = None, *,
             asymmetric: bool = False, double_quant: bool = False,
             codebook: Optional[Sequence[float]] = None) -> QuantizedTensor:
    """Quantizes a weight (rank >= 1; leading dimensions are rows).

    group_size: values per scale along K; 0 is one group per row; the
    default is per row for int8 and 64 otherwise (a trailing partial group
    is allowed). Formulas: bitsandbytes for nf4/fp4 (quantize_4bit, with
    double quantization) and int8 (vector-wise); docs/Layouts.md.
    """
    scheme = _check_scheme(scheme)
    g = _default_group_size(scheme, group_size)
    a = _as_weight(w)
    book = None if codebook is None else [float(v) for v in codebook]
    r = _qmlir.quantize(a, scheme, g, not asymmetric, bool(double_quant), book)
    return QuantizedTensor(
        scheme=scheme, shape=(a.shape[0], a.shape[1]), group_size=g,
        symmetric=not asymmetric, double_quant=bool(double_quant),
        codes=r["codes"], scales=r.get("scales"),
        zero_points=r.get("zero_points"), dq_codes=r.get("dq_codes"),
        dq_scales=r.get("dq_scales"), dq_offset=float(r.get("dq_offset", 0.0)),
        codebook=None if book is None else tuple(book))


def _param(a, dtype):
    return None if a is None else np.ascontiguousarray(a, dtype=dtype).reshape(-1)


def dequantize(q: QuantizedTensor) -> np.ndarray:
    """The float32 [N, K] weight a QuantizedTensor stands for."""
    if not isinstance(q, QuantizedTensor):
        raise TypeError(f"dequantize takes a QuantizedTensor, not {type(q).__name__}")
    n, k = q.shape
    return _qmlir.dequantize(
        _check_scheme(q.scheme), q.group_size, q.symmetric, q.double_quant,
        None if q.codebook is None else list(q.codebook), int(n), int(k),
        _param(q.codes, np.uint8), _param(q.scales, np.float32),
        _param(q.zero_points, np.uint8), _param(q.dq_codes, np.uint8),
        _param(q.dq_scales, np.float32), float(q.dq_offset))


def quantize_blockwise(x, block_size: int = 256):
    """bitsandbytes quantize_blockwise with the signed dynamic map on the
    flattened array (what double quantization applies to the centered
    absmax): (uint8 codes into code_table("dynamic"), float32 absmax per
    block)."""
    a = np.asarray(x)
    if a.dtype.kind != "f":
        raise TypeError(f"quantize_blockwise: dtype {a.dtype} is not a floating type")
    return _qmlir.quantize_blockwise(
        np.ascontiguousarray(a, dtype=np.float32).reshape(-1), int(block_size))


def code_table(kind: str) -> np.ndarray:
    """The float32 code book of "nf4" or "fp4" (16 values in code order) or
    the signed "dynamic" map of double quantization (256 values, sorted)."""
    return _qmlir.code_table(_check_scheme(kind))


@dataclasses.dataclass
class MemoryReport:
    """Stored size of a set of weights under a scheme, vs FP32 and FP16."""

    scheme: str
    parameters: int
    fp32_bytes: int
    fp16_bytes: int
    stored_bytes: int
    layers: dict

    @property
    def bits_per_weight(self) -> float:
        return 8.0 * self.stored_bytes / self.parameters

    def __str__(self) -> str:
        return _qmlir.memory_table(self.parameters, self.fp32_bytes,
                                   self.fp16_bytes, self.stored_bytes,
                                   self.scheme)


def memory_report(shapes: Union[Mapping[str, Tuple[int, int]],
                                Sequence[Tuple[int, int]]],
                  scheme: str = "nf4", group_size: Optional[int] = None, *,
                  asymmetric: bool = False,
                  double_quant: bool = False) -> MemoryReport:
    """Bytes of [N, K] weights stored with a scheme ("f32" for none).

    ``str(report)`` prints the table quant-compile prints.
    """
    scheme = _check_scheme(scheme)
    items = shapes.items() if isinstance(shapes, Mapping) else \
        ((str(i), s) for i, s in enumerate(shapes))
    layers, params, stored = {}, 0, 0
    label = scheme
    if scheme != "f32":
        g = _default_group_size(scheme, group_size)
        label = scheme + (f"-g{g}" if g else "") + ("+dq" if double_quant else "")
    for name, shape in items:
        n, k = (int(d) for d in shape)
        if scheme == "f32":
            b = {"total": 4 * n * k}
            if n <= 0 or k <= 0:
                raise ValueError(f"memory_report: shape [{n}, {k}] is not positive")
        else:
            b = _qmlir.storage(scheme, g, not asymmetric, bool(double_quant), n, k)
        layers[name] = b
        params += n * k
        stored += b["total"]
    if params == 0:
        raise ValueError("memory_report: no shapes given")
    return MemoryReport(label, params, 4 * params, 2 * params, stored, layers)


def run_pipeline(source: Union[str, os.PathLike], pipeline: str) -> str:
    """Runs a textual pass pipeline (as quant-opt) and returns the IR.

    source: MLIR text, or a path (os.PathLike) to a .mlir file.
    pipeline: e.g. "qnt-quantize-linear{scheme=nf4 double-quant=true}" or
    "builtin.module(...)"; every quant-opt pass and pipeline is available.
    """
    if isinstance(source, os.PathLike):
        name = os.fspath(source)
        try:
            with open(name, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise FileNotFoundError(f"{name}: cannot read: {e.strerror}") from None
    elif isinstance(source, str):
        name, text = "<string>", source
    else:
        raise TypeError("run_pipeline: source must be MLIR text (str) or a "
                        f"path (os.PathLike), not {type(source).__name__}")
    if not isinstance(pipeline, str):
        raise TypeError(f"pipeline must be a str, not {type(pipeline).__name__}")
    return _qmlir.run_pipeline(text, pipeline, name)


def compile(model_path: Union[str, os.PathLike], out_dir: Union[str, os.PathLike],
            scheme: str = "nf4", group_size: Optional[int] = None, *,
            asymmetric: bool = False, double_quant: bool = False,
            compute_type: str = "f32", target: str = "cpu", cpu: str = "native",
            keep_float: Optional[str] = None, max_context: int = 1024,
            prefill_tokens: int = 64, verbose: bool = False) -> dict:
    """Compiles a model (GGUF file or Hugging Face directory) as quant-compile.

    Writes out_dir/ (model.so, weights.bin, model.h, manifest.json, ...);
    returns the memory figures and the compile time. verbose prints the
    progress and the memory table.
    """
    args = _qmlir.CompileArgs()
    args.model_path = os.fspath(model_path)
    args.out_dir = os.fspath(out_dir)
    args.scheme = _check_scheme(scheme)
    args.group_size = -1 if group_size is None else int(group_size)
    args.asymmetric = bool(asymmetric)
    args.double_quant = bool(double_quant)
    args.compute_type = compute_type
    args.target = target
    args.cpu = cpu
    args.keep_float = keep_float or ""
    args.max_context = int(max_context)
    args.prefill_tokens = int(prefill_tokens)
    return _qmlir.compile(args, bool(verbose))


class Model:
    """A compiled model directory, loaded (weights mmapped) for running."""

    def __init__(self, native):
        self._m = native

    @classmethod
    def load(cls, out_dir: Union[str, os.PathLike]) -> "Model":
        return cls(_qmlir.Model.load(os.fspath(out_dir)))

    @property
    def vocab_size(self) -> int:
        return self._m.vocab_size

    @property
    def max_context(self) -> int:
        return self._m.max_context

    @property
    def last_stats(self) -> dict:
        """Token counts and seconds of the last generate()."""
        return self._m.last_stats

    def tokenize(self, text: str, special: bool = False) -> list:
        return self._m.tokenize(text, special)

    def detokenize(self, ids: Sequence[int]) -> str:
        return self._m.detokenize([int(i) for i in ids])

    def forward(self, tokens, pos: int = 0) -> np.ndarray:
        """Logits [len(tokens), vocab] (float32) of tokens at positions pos...

        The KV cache keeps earlier positions: forward(ids) then
        forward([next], pos=len(ids)) continues the same sequence.
        """
        ids = np.asarray(tokens)
        if ids.size == 0:
            raise ValueError("forward: no tokens given")
        if ids.ndim != 1 or ids.dtype.kind not in "iu":
            raise TypeError("forward: tokens must be a 1-D sequence of ints")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"forward: token ids must be in [0, {self.vocab_size})")
        return self._m.forward([int(i) for i in ids], int(pos))

    def generate(self, prompt: str, max_new_tokens: int = 64, *,
                 temperature: float = 0.0, top_k: int = 40, seed: int = 0,
                 repeat_penalty: float = 1.1, chat: bool = True,
                 on_text: Optional[Callable[[str], None]] = None) -> str:
        """Generates after prompt (in the chat template when chat and the
        model has one); temperature 0 is greedy. on_text gets the text as it
        comes."""
        if not isinstance(prompt, str):
            raise TypeError(f"prompt must be a str, not {type(prompt).__name__}")
        stream = None
        if on_text is not None:
            decoder = codecs.getincrementaldecoder("utf-8")("replace")
            stream = lambda piece: on_text(decoder.decode(piece))  # noqa: E731
        return self._m.generate(prompt, int(max_new_tokens), float(temperature),
                                int(top_k), int(seed), float(repeat_penalty),
                                bool(chat), stream)

    def perplexity(self, text: str, ctx: int = 512, max_windows: int = 0) -> dict:
        """llama.cpp's perplexity over non-overlapping windows of ctx tokens
        (max_windows 0: all)."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        return self._m.perplexity(text, int(ctx), int(max_windows))
