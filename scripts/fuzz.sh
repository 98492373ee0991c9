#!/usr/bin/env bash
# Fuzzes every untrusted input with libFuzzer (clang-22, ASan + UBSan):
# the GGUF reader, the safetensors / config.json / tokenizer.json readers,
# a compiled model's weights.bin / tokenizer.bin, and MLIR with the qnt
# dialect (parse, verify, qnt-quantize-linear, convert-qnt-to-linalg).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (default 60 s each, all four)
#
# Builds the fuzzers in build-san/ (the sanitizer build of
# scripts/test.sh --sanitize, with QMLIR_FUZZ=ON), starts each from its
# committed seeds (fuzz/corpus/<name>, dictionary fuzz/dict/<name>.dict;
# what it finds goes to build-san/fuzz-corpus/<name>, not the repository),
# and prints executions per target. A crash stops its target; the input is
# saved as build-san/fuzz-crashes/<name>/crash-*: fix the bug, then commit
# the input to fuzz/regressions/<name>/, which CI replays (test/Fuzz).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=${*:-gguf hf model mlir}
scripts/setup.sh >/dev/null
scripts/test.sh --sanitize --configure-only
ninja -C build-san $(for t in $targets; do printf '%s-fuzzer ' "$t"; done)
# allow_user_poisoning=0: LLVM's inline allocator code, instrumented in our
# objects, poisons memory that Debian's uninstrumented libMLIR then uses
# (false "use-after-poison" reports in the MLIR parser).
ASAN=detect_leaks=1:allocator_may_return_null=1:allow_user_poisoning=0
status=0
for t in $targets; do
  corpus=build-san/fuzz-corpus/$t crashes=build-san/fuzz-crashes/$t
  mkdir -p "$corpus" "$crashes"
  log=build-san/fuzz-$t.log
  rc=0
  ASAN_OPTIONS=$ASAN \
    build-san/bin/$t-fuzzer "$corpus" fuzz/corpus/$t -dict=fuzz/dict/$t.dict \
    -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=30 -max_len=65536 \
    -artifact_prefix="$crashes/" -print_final_stats=1 > "$log" 2>&1 || rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  if [ $rc -eq 0 ]; then
    echo "$t-fuzzer: $execs executions in ${seconds} s, no crash ($(ls "$corpus" | wc -l) inputs in its corpus)"
  else
    echo "$t-fuzzer: CRASH after $execs executions: $(ls "$crashes")"
    grep -m3 -E "ERROR|runtime error|SUMMARY" "$log" || tail -n 5 "$log"
    status=1
  fi
done
exit $status
