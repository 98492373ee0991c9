# -*- Python -*-
# Runs the GoogleTest binaries of quant-mlir under lit.

import os

import lit.formats

config.name = "QMLIR-Unit"
config.suffixes = []
config.test_exec_root = os.path.join(config.qmlir_obj_root, "unittests")
config.test_source_root = config.test_exec_root
config.test_format = lit.formats.GoogleTest(".", "Tests")

# Tests that read a real model file run only when its path is given.
for name in ["QMLIR_SMOLLM2_GGUF"]:
    if name in os.environ:
        config.environment[name] = os.environ[name]
