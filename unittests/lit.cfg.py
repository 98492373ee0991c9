# -*- Python -*-
# Runs the GoogleTest binaries of quant-mlir under lit.

import os

import lit.formats

config.name = "QMLIR-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.qmlir_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")

# The real model that scripts/setup.sh installs, for the tests that read it.
smollm2 = os.environ.get("QMLIR_SMOLLM2_GGUF") or os.path.join(
    os.environ.get("QMLIR_MODEL_CACHE",
                   os.path.expanduser("~/.cache/quant-mlir")),
    "SmolLM2-135M-Instruct.Q4_1.gguf")
if os.path.exists(smollm2):
    config.environment["QMLIR_SMOLLM2_GGUF"] = smollm2

minilm = os.path.join(
    os.environ.get("QMLIR_MODEL_CACHE", os.path.expanduser("~/.cache/quant-mlir")),
    "all-MiniLM-L6-v2", "model.safetensors")
minilm = os.environ.get("QMLIR_MINILM_SAFETENSORS") or minilm
if os.path.exists(minilm):
    config.environment["QMLIR_MINILM_SAFETENSORS"] = minilm
