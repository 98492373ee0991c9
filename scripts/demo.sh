#!/usr/bin/env bash
# The main job: installs what is needed (Debian packages, PyPI packages and
# the SmolLM2-135M-Instruct model, see scripts/setup.sh), builds quant-mlir,
# compiles SmolLM2 with NF4 + double quantization for this CPU (printing the
# memory table), and asks it a question.
#
#   scripts/demo.sh ["another question"]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ninja -C build quant-compile quant-run
MODEL="${QMLIR_SMOLLM2_GGUF:-${QMLIR_MODEL_CACHE:-$HOME/.cache/quant-mlir}/SmolLM2-135M-Instruct.Q4_1.gguf}"
OUT=build/demo/smollm2-nf4dq
QUESTION=${1:-What is the capital of France?}
echo
build/bin/quant-compile "$MODEL" --scheme nf4 --double-quant -o "$OUT"
echo
echo "Q: $QUESTION"
printf "A: "
build/bin/quant-run "$OUT" --prompt "$QUESTION" --max-new-tokens 48
