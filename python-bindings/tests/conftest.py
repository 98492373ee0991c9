"""Shared fixtures: the repository paths and the models setup.sh installs."""
import os
import pathlib
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
REFERENCE = REPO / "test" / "reference"
GOLDEN = REPO / "test" / "golden" / "bnb"
MODEL_CACHE = pathlib.Path(os.environ.get(
    "QMLIR_MODEL_CACHE", pathlib.Path.home() / ".cache" / "quant-mlir"))

sys.path.insert(0, str(REFERENCE))
sys.path.insert(0, str(REPO / "examples"))


def _model(env, name):
    path = pathlib.Path(os.environ.get(env, MODEL_CACHE / name))
    if not path.exists():
        pytest.skip(f"{path} is not installed (scripts/setup.sh installs it)")
    return path


@pytest.fixture(scope="session")
def smollm2_gguf():
    return _model("QMLIR_SMOLLM2_GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf")


@pytest.fixture(scope="session")
def minilm_dir():
    return _model("QMLIR_MINILM_DIR", "all-MiniLM-L6-v2")
