#!/usr/bin/env bash
# The main job: installs what is needed, builds quant-mlir, and runs the demo
# (the example MLP quantized with every scheme, run on the CPU, with the
# memory table and error figures).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec python3 examples/demo.py --build build "$@"
