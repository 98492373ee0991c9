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
import ctypes
import dataclasses
import json
import os
from typing import Callable, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _qmlir

Error = _qmlir.Error

__all__ = ["Error", "QuantizedTensor", "quantize", "dequantize",
           "quantize_blockwise", "code_table",
           "MemoryReport", "memory_report", "run_pipeline", "compile",
           "Model", "Module", "SCHEMES"]

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
    outlier_cols int64 column indices (int8 with outlier_threshold): code 0
                 there; LLM.int8 computes those columns in higher precision
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
    outlier_cols: Optional[np.ndarray] = None

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
    bad = ~np.isfinite(a)
    if bad.any():
        at = np.unravel_index(int(np.argmax(bad)), a.shape)
        value = a[at]
        name = "NaN" if np.isnan(value) else ("inf" if value > 0 else "-inf")
        raise ValueError(f"quantize: the weight holds {name} at index "
                         f"{tuple(int(i) for i in at)}; it cannot be quantized")
    a = a.reshape(-1, a.shape[-1]) if a.ndim != 2 else a
    # No copy when the input already is C-contiguous float32.
    return np.ascontiguousarray(a, dtype=np.float32)


def quantize(w, scheme: str = "nf4", group_size: Optional[int] = None, *,
             asymmetric: bool = False, double_quant: bool = False,
             codebook: Optional[Sequence[float]] = None,
             outlier_threshold: float = 0.0, hessian=None, damp: float = 0.01,
             act_order: bool = True, search_clip: bool = False) -> QuantizedTensor:
    """Quantizes a weight (rank >= 1; leading dimensions are rows).

    group_size: values per scale along K; 0 is one group per row; the
    default is per row for int8 and 64 otherwise (a trailing partial group
    is allowed). Formulas: bitsandbytes for nf4/fp4 (quantize_4bit, with
    double quantization) and int8 (vector-wise); docs/Layouts.md.

    hessian: [K, K], the sum of x x^T over calibration inputs x of the layer
    (y = x W^T): the codes are chosen by GPTQ (damp: fraction of the mean
    diagonal added to it; act_order: columns by decreasing diagonal) to
    minimise the output error; scales, zero points and double quantization
    stay those of plain rounding (search_clip: of each group clipped to the
    fraction of its range, 1 down to 0.75, whose rounding error weighted by
    the hessian's diagonal is least), so the result is stored and
    dequantized like any other.
    """
    scheme = _check_scheme(scheme)
    g = _default_group_size(scheme, group_size)
    a = _as_weight(w)
    if outlier_threshold and hessian is not None:
        raise ValueError("hessian (GPTQ) and outlier_threshold do not go together")
    if search_clip and hessian is None:
        raise ValueError("search_clip applies to GPTQ (give a hessian)")
    if outlier_threshold:
        # LLM.int8: bitsandbytes.functional.int8_vectorwise_quant(w, threshold)
        if scheme != "int8" or g != 0 or asymmetric:
            raise ValueError("outlier_threshold applies to int8 per channel "
                             "(symmetric, group_size 0)")
        if not outlier_threshold > 0:
            raise ValueError(f"outlier_threshold {outlier_threshold} is not positive")
        codes, scales, cols = _qmlir.quantize_int8_outliers(a, float(outlier_threshold))
        return QuantizedTensor(scheme="int8", shape=(a.shape[0], a.shape[1]), group_size=0,
                               symmetric=True, double_quant=False, codes=codes,
                               scales=scales, outlier_cols=cols)
    book = None if codebook is None else [float(v) for v in codebook]
    h = None if hessian is None else np.ascontiguousarray(hessian, dtype=np.float64)
    r = _qmlir.quantize(a, scheme, g, not asymmetric, bool(double_quant), book,
                        h, float(damp), bool(act_order), bool(search_clip))
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
            compute_type: Optional[str] = None, act_int8: bool = False,
            outlier_threshold: float = 0.0, target: str = "cpu", cpu: str = "native",
            int_dot: bool = True, keep_float: Optional[str] = None, max_context: int = 1024,
            prefill_tokens: int = 64, verbose: bool = False) -> dict:
    """Compiles a model (GGUF file or Hugging Face directory) as quant-compile.

    Writes out_dir/ (model.so, weights.bin, model.h, manifest.json, ...);
    returns the memory figures and the compile time. verbose prints the
    progress and the memory table. target: "cpu" or "cuda:sm_XX" (XX >= 80;
    Model.load then runs it on the GPU). int_dot: quantized layers on the
    CPU (AVX2/AVX-512) take the integer path (14-bit activations, exact
    integer sums); False keeps f32 activations. compute_type: "f32", "bf16"
    or "f16": the quantized layers round activations and dequantized
    weights to it before the f32 sums (on cuda, bf16 feeds the tensor-core
    kernels); None (the default): bf16 on cuda, f32 on the cpu. act_int8
    (scheme "int8", cpu): W8A8, each activation row quantized to int8 in the
    matmul;
    outlier_threshold > 0 adds LLM.int8's mixed decomposition (activations
    with |x| >= it stay f32).
    """
    args = _qmlir.CompileArgs()
    args.model_path = os.fspath(model_path)
    args.out_dir = os.fspath(out_dir)
    args.scheme = _check_scheme(scheme)
    args.group_size = -1 if group_size is None else int(group_size)
    args.asymmetric = bool(asymmetric)
    args.double_quant = bool(double_quant)
    args.compute_type = compute_type or ""
    args.act_int8 = bool(act_int8)
    args.outlier_threshold = float(outlier_threshold)
    args.target = target
    args.cpu = cpu
    args.int_dot = bool(int_dot)
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
    def cpu_kernels(self) -> str:
        """Which CPU kernels run: the runtime-dispatch choice of a library
        compiled for a named CPU (QMLIR_CPU_ISA overrides it), or that the
        library was compiled for one CPU."""
        return self._m.cpu_kernels

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


# --------------------------------------------------------------------------
# Generic modules (quant-compile MODULE.mlir)
# --------------------------------------------------------------------------

_NUMPY_DTYPES = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
                 "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64}
_CTYPES = {"float32": ctypes.c_float, "float64": ctypes.c_double, "int8": ctypes.c_int8,
           "int16": ctypes.c_int16, "int32": ctypes.c_int32, "int64": ctypes.c_int64,
           "float16": ctypes.c_uint16, "bfloat16": ctypes.c_uint16}
# memref.get_global's descriptors carry this in place of an allocation.
_NOT_ALLOCATED = 0xDEADBEEF


def _descriptor_type(rank):
    fields = [("alloc", ctypes.c_void_p), ("data", ctypes.c_void_p), ("offset", ctypes.c_int64)]
    if rank:
        fields += [("size", ctypes.c_int64 * rank), ("stride", ctypes.c_int64 * rank)]
    return type(f"MemRef{rank}D", (ctypes.Structure,), {"_fields_": fields})


class _Function:
    """One exported function: numpy arrays in, a numpy array out."""

    def __init__(self, lib, spec):
        self.name = spec["name"]
        self.args = spec["args"]
        self.result = spec["result"]
        self._fn = getattr(lib, "_mlir_ciface_" + self.name)
        self._fn.restype = None
        if self.result is not None and self.result["kind"] == "scalar":
            self._fn.restype = _CTYPES[self.result["dtype"]]

    def _dtype(self, slot, what):
        if slot["dtype"] not in _NUMPY_DTYPES:
            raise TypeError(f"{self.name}: {what} is {slot['dtype']}, which numpy cannot hold")
        return _NUMPY_DTYPES[slot["dtype"]]

    def __call__(self, *args):
        if len(args) != len(self.args):
            raise TypeError(f"{self.name}() takes {len(self.args)} arguments "
                            f"({len(args)} given)")
        c_args, arrays, descriptors = [], [], []  # kept alive for the call
        for i, (value, slot) in enumerate(zip(args, self.args)):
            if slot["kind"] == "scalar":
                c_args.append(_CTYPES[slot["dtype"]](value))
                continue
            a = np.ascontiguousarray(value, dtype=self._dtype(slot, f"argument {i}"))
            want = slot["shape"]
            if a.ndim != len(want) or any(w not in (-1, g) for w, g in zip(want, a.shape)):
                shown = tuple("?" if w == -1 else w for w in want)
                raise ValueError(f"{self.name}: argument {i} has shape {a.shape}; "
                                 f"expected {shown}")
            d = _descriptor_type(a.ndim)()
            d.alloc = d.data = a.ctypes.data
            d.offset = 0
            for j, n in enumerate(a.shape):
                d.size[j] = n
                d.stride[j] = a.strides[j] // a.itemsize
            arrays.append(a)
            descriptors.append(d)
            c_args.append(ctypes.byref(d))
        if self.result is None or self.result["kind"] == "scalar":
            return self._fn(*c_args)
        rank = len(self.result["shape"])
        out = _descriptor_type(rank)()
        self._fn(ctypes.byref(out), *c_args)
        dtype = np.dtype(self._dtype(self.result, "the result"))
        shape = tuple(out.size[j] for j in range(rank))
        count = int(np.prod(shape))
        # Results have the identity (row-major) layout (the CPU pipeline's
        # function boundary); copy them into an array the caller owns.
        if count == 0:
            result = np.empty(shape, dtype)
        else:
            buf = (ctypes.c_char * (count * dtype.itemsize)).from_address(
                out.data + out.offset * dtype.itemsize)
            result = np.frombuffer(buf, dtype=dtype, count=count).reshape(shape).copy()
        # Free the callee's allocation, unless it is an argument's buffer or a
        # global constant's.
        if out.alloc and out.alloc != _NOT_ALLOCATED and \
                all(out.alloc != a.ctypes.data for a in arrays):
            _libc.free(ctypes.c_void_p(out.alloc))
        return result


_libc = ctypes.CDLL(None)
_libc.free.argtypes = [ctypes.c_void_p]


class Module:
    """A compiled MLIR module (quant-compile MODULE.mlir -o OUTDIR): its
    exported functions, called with numpy arrays:

        m = qmlir.Module.load("out")
        y = m.mlp(x)            # or m["mlp"](x); m.functions lists them
    """

    def __init__(self, out_dir, manifest, lib, cpu_kernels):
        self.out_dir, self.manifest, self._lib = out_dir, manifest, lib
        #: Which CPU kernels run (see Model.cpu_kernels).
        self.cpu_kernels = cpu_kernels
        self.functions = {f["name"]: _Function(lib, f) for f in manifest["functions"]}

    @classmethod
    def load(cls, out_dir: Union[str, os.PathLike]) -> "Module":
        out_dir = os.fspath(out_dir)
        path = os.path.join(out_dir, "manifest.json")
        try:
            with open(path, encoding="utf-8") as f:
                manifest = json.load(f)
        except OSError as e:
            raise Error(f"{path}: cannot read: {e.strerror}") from None
        except ValueError as e:
            raise Error(f"{path}: not JSON: {e}") from None
        if manifest.get("format") != "quant-mlir module 1":
            raise Error(f"{path}: not a compiled module (format "
                        f"{manifest.get('format')!r}; Model.load runs compiled LLMs)")
        so = os.path.join(out_dir, manifest["files"]["library"])
        try:
            lib = ctypes.CDLL(os.path.abspath(so))
        except OSError as e:
            raise Error(f"{so}: cannot load: {e}") from None
        try:
            cpu_kernels = _qmlir.init_cpu_dispatch(lib._handle)
        except Error as e:
            raise Error(f"{so}: {e}") from None
        return cls(out_dir, manifest, lib, cpu_kernels)

    def __getitem__(self, name):
        try:
            return self.functions[name]
        except KeyError:
            raise KeyError(f"no exported function @{name} (has: "
                           f"{', '.join(self.functions)})") from None

    def __getattr__(self, name):
        if name.startswith("_") or name not in self.__dict__.get("functions", {}):
            raise AttributeError(name)
        return self.functions[name]
