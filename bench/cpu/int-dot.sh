#!/usr/bin/env bash
# The CPU GEMV's integer path (quant-compile --int-dot, the default on AVX2 /
# AVX-512) against f32 activations (--int-dot=false) on SmolLM2-135M: decode
# speed, and the perplexity of WikiText-2 with prefill chunks of 8 tokens so
# that every matmul of the evaluation runs the GEMV (M <= 8) and its
# activation rounding shows in the perplexity. Writes a markdown table.
#
#   bench/cpu/int-dot.sh [--max-windows N] [OUT.md]
set -euo pipefail
cd "$(dirname "$0")/../.."
WINDOWS=8
if [ "${1:-}" = "--max-windows" ]; then WINDOWS=$2; shift 2; fi
OUT=${1:-bench/results/cpu-int-dot-$(date +%F).md}
MODEL="${QMLIR_SMOLLM2_GGUF:-${QMLIR_MODEL_CACHE:-$HOME/.cache/quant-mlir}/SmolLM2-135M-Instruct.Q4_1.gguf}"
TEXT=${QMLIR_WIKITEXT:-../shared/data/wikitext-2/wiki.test.raw}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SCHEMES=("int8:--scheme int8" "int4-g64:--scheme int4 --group-size 64"
         "nf4:--scheme nf4" "nf4+dq:--scheme nf4 --double-quant")
{
  echo "# SmolLM2-135M-Instruct: CPU GEMV integer path vs f32 activations"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date +%F)."
  echo "Perplexity: WikiText-2 (test), first $WINDOWS windows of 512 tokens (second"
  echo "half scored), compiled with --prefill-tokens 8 (every matmul is a GEMV)."
  echo "Decode: greedy, 64 new tokens after the chat prompt 'What is the capital of"
  echo "France?', best of two runs (compiled with the default prefill of 64)."
  echo
  echo "| scheme | path | perplexity | ΔPPL int vs f32 activations | decode tokens/s |"
  echo "|---|---|---|---|---|"
} > "$OUT"
for entry in "${SCHEMES[@]}"; do
  name=${entry%%:*}; opts=${entry#*:}
  base=""
  for path in f32 int; do
    flag=$([ $path = int ] && echo --int-dot=true || echo --int-dot=false)
    build/bin/quant-compile "$MODEL" $opts $flag --max-context 512 --prefill-tokens 8 --quiet -o "$WORK/p"
    ppl=$(build/bin/quant-run "$WORK/p" --perplexity "$TEXT" --ctx 512 --max-windows "$WINDOWS" 2>/dev/null | awk '{print $2}')
    build/bin/quant-compile "$MODEL" $opts $flag --max-context 512 --quiet -o "$WORK/d"
    dec=0
    for _ in 1 2; do
      d=$(build/bin/quant-run "$WORK/d" --prompt "What is the capital of France?" --max-new-tokens 64 2>&1 >/dev/null |
          sed -n 's/.*generated [0-9]* tokens: \([0-9.]*\) tokens\/s.*/\1/p')
      dec=$(python3 -c "print(max($dec, $d))")
    done
    [ -z "$base" ] && base=$ppl
    delta=$([ $path = int ] && python3 -c "print('%+.3f %%' % (100*($ppl/$base-1)))" || echo "—")
    echo "| $name | $path | $ppl | $delta | $dec |" >> "$OUT"
    echo "$name $path: ppl $ppl, decode $dec tok/s" >&2
  done
done
echo "wrote $OUT" >&2
