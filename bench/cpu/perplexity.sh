#!/usr/bin/env bash
# Perplexity of SmolLM2-135M-Instruct on WikiText-2 (test) for each scheme,
# compiled for this CPU, plus decode speed; writes a markdown table.
#
#   bench/cpu/perplexity.sh [--max-windows N] [OUT.md]
#
# llama.cpp's convention: non-overlapping windows of 512 tokens, each from
# position 0, the second half of each window scored. --max-windows limits
# the run to the first N windows (the whole file is 603 windows).
set -euo pipefail
cd "$(dirname "$0")/../.."
WINDOWS=0
if [ "${1:-}" = "--max-windows" ]; then WINDOWS=$2; shift 2; fi
OUT=${1:-bench/results/cpu-perplexity-$(date +%F).md}
MODEL="${QMLIR_SMOLLM2_GGUF:-${QMLIR_MODEL_CACHE:-$HOME/.cache/quant-mlir}/SmolLM2-135M-Instruct.Q4_1.gguf}"
TEXT=${QMLIR_WIKITEXT:-../shared/data/wikitext-2/wiki.test.raw}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

SCHEMES=("f32:--scheme f32" "int8:--scheme int8" "int4-g64:--scheme int4 --group-size 64"
         "nf4:--scheme nf4" "nf4+dq:--scheme nf4 --double-quant"
         "int8-w8a8:--scheme int8 --act-int8"
         "int8-llm.int8:--scheme int8 --act-int8 --outlier-threshold 6")
{
  echo "# SmolLM2-135M-Instruct on WikiText-2 (test), CPU"
  echo
  echo "Machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $(date +%F)."
  echo "Windows of 512 tokens, second half scored (llama.cpp's perplexity);"
  if [ "$WINDOWS" -gt 0 ]; then echo "first $WINDOWS windows of 603."; else echo "all windows."; fi
  echo "Decode: greedy, 32 new tokens after the chat prompt 'What is the capital of France?'."
  echo
  echo "| scheme | weights MB | % of FP32 | perplexity | ΔPPL vs f32 | compile s | compile peak RSS MB | ppl tokens/s | decode tokens/s |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$OUT"
base=""
for entry in "${SCHEMES[@]}"; do
  name=${entry%%:*}; opts=${entry#*:}
  dir="$WORK/$name"
  /usr/bin/time -f "%e %M" -o "$WORK/time" build/bin/quant-compile "$MODEL" $opts \
    --max-context 512 --quiet -o "$dir"
  read -r secs rss < "$WORK/time"
  mb=$(python3 -c "import json;m=json.load(open('$dir/manifest.json'))['memory'];print('%.1f %.2f'%(m['weights_bytes']/1e6,100*m['weights_bytes']/m['fp32_bytes']))")
  ppl_line=$(build/bin/quant-run "$dir" --perplexity "$TEXT" --ctx 512 --max-windows "$WINDOWS" 2>/dev/null)
  ppl=$(echo "$ppl_line" | awk '{print $2}')
  ptps=$(echo "$ppl_line" | sed -n 's/.*(\([0-9.]*\) tokens\/s).*/\1/p')
  dec=$(build/bin/quant-run "$dir" --prompt "What is the capital of France?" --max-new-tokens 32 2>&1 >/dev/null |
        sed -n 's/.*generated [0-9]* tokens: \([0-9.]*\) tokens\/s.*/\1/p')
  [ -z "$base" ] && base=$ppl
  delta=$(python3 -c "print('%+.2f %%' % (100*($ppl/$base-1)))")
  echo "| $name | ${mb% *} | ${mb#* } | $ppl | $delta | $secs | $((rss/1024)) | $ptps | $dec |" >> "$OUT"
  echo "$name: ppl $ppl ($delta), decode $dec tok/s" >&2
done
echo "wrote $OUT" >&2
