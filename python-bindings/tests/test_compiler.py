"""qmlir.run_pipeline (quant-opt in process) and qmlir.compile's errors."""
import pathlib

import pytest

import qmlir

LINEAR = """
func.func @linear(%x: tensor<1x4xf32>, %init: tensor<1x2xf32>) -> tensor<1x2xf32> {
  %w = arith.constant dense<[[1.0, -2.0], [0.5, 0.25], [4.0, 0.0], [-1.0, 8.0]]> : tensor<4x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<1x4xf32>, tensor<4x2xf32>)
      outs(%init : tensor<1x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}
"""


def test_quantize_linear_from_text():
    out = qmlir.run_pipeline(LINEAR, "qnt-quantize-linear{scheme=int8}")
    assert "linalg.matmul" not in out and "qnt.matmul <int8>" in out
    # Rows of W^T: [1, .5, 4, -1] (absmax 4) and [-2, .25, 0, 8] (absmax 8):
    # round(127/4 * row0) = [32, 16, 127, -32], round(127/8 * row1) =
    # [-32, 4, 0, 127], after the blob's 16-byte alignment word.
    assert '"0x1000000020107FE0E004007F"' in out


def test_anchored_pipeline_from_file(tmp_path):
    src = tmp_path / "linear.mlir"
    src.write_text(LINEAR)
    out = qmlir.run_pipeline(
        src, "builtin.module(qnt-quantize-linear{scheme=nf4 group-size=2 double-quant=true},"
             "qnt-cpu-pipeline)")
    assert "llvm.func @linear" in out and "qnt." not in out.split("{-#")[0]


@pytest.mark.parametrize("source,pipeline,exc,message", [
    ("func.func @f(", "canonicalize", qmlir.Error, r"^<string>:1:\d+: "),
    (LINEAR, "no-such-pass", ValueError, "invalid pipeline 'no-such-pass': .*does not refer to a registered pass"),
    (LINEAR, "qnt-quantize-linear{scheme=int3}", qmlir.Error,
     r"^invalid value 'int3' for option 'scheme' \(expected int8, int4, nf4 or fp4\)$"),
    (pathlib.Path("/nonexistent/x.mlir"), "canonicalize", FileNotFoundError, "/nonexistent/x.mlir: cannot read"),
    (b"bytes", "canonicalize", TypeError, "source must be MLIR text"),
])
def test_pipeline_errors(source, pipeline, exc, message):
    with pytest.raises(exc, match=message):
        qmlir.run_pipeline(source, pipeline)


def test_pass_failure_is_an_error():
    bad = "func.func @f() { %0 = qnt.matmul }"
    with pytest.raises(qmlir.Error):
        qmlir.run_pipeline(bad, "canonicalize")


@pytest.mark.parametrize("kwargs,exc,message", [
    (dict(scheme="int3"), ValueError, "scheme 'int3' is not one of f32, int8, int4, nf4, fp4"),
    (dict(scheme="f32", group_size=32), ValueError, "scheme f32 takes no group_size, asymmetric or double_quant"),
    (dict(scheme="int8", double_quant=True), ValueError, "double_quant applies to nf4 and fp4, not int8"),
    (dict(target="cuda:sm_75"), ValueError, "target 'cuda:sm_75' is not supported"),
    (dict(max_context=0), ValueError, r"max_context 0 is out of range \[1, 1048576\]"),
    (dict(keep_float="a("), ValueError, "keep_float 'a\\(' is not a valid regex"),
    (dict(scheme="nf4", act_int8=True), ValueError, r"act_int8 needs scheme int8 \(symmetric\), not nf4"),
    (dict(scheme="int8", outlier_threshold=6.0), ValueError, "outlier_threshold needs act_int8"),
    (dict(), qmlir.Error, "missing.gguf"),
])
def test_compile_errors(tmp_path, kwargs, exc, message):
    out = tmp_path / "out"
    with pytest.raises(exc, match=message):
        qmlir.compile(tmp_path / "missing.gguf", out, **kwargs)
    assert not out.exists()
