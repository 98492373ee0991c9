#!/usr/bin/env bash
# Installs, builds and runs every test (lit IR tests, CPU execution tests
# against the numpy reference, GoogleTest unit tests, pytest, the fuzz
# targets over their committed corpora), then `pip install ./python-bindings`
# into a throw-away environment and the package's tests against the
# installed copy.
#
#   scripts/test.sh                the suite (what CI runs: .ci/run)
#   scripts/test.sh --sanitize     the same suite built with clang-22 and
#                                  ASan + UBSan in build-san/ (plus the
#                                  libFuzzer targets, scripts/fuzz.sh)
#   scripts/test.sh --sanitize --quick
#                                  of those the unit tests, test/Tools, the
#                                  fuzz replays and one whole-model test
#                                  (what CI adds to the suite: .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ "${1:-}" = --sanitize ]; then
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  if [ ! -f build-san/build.ninja ]; then
    CC=clang-22 CXX=clang++-22 cmake -G Ninja -S . -B build-san \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
      -DPython3_EXECUTABLE="$(command -v python3)" \
      -DQMLIR_SANITIZE=address,undefined -DQMLIR_FUZZ=ON >/dev/null
  fi
  [ "${2:-}" = --configure-only ] && exit 0
  # Any ASan or UBSan report fails the test that printed it (UBSan aborts:
  # -fno-sanitize-recover); LeakSanitizer too. allow_user_poisoning=0: see
  # scripts/fuzz.sh (instrumented inline LLVM code vs Debian's libMLIR).
  export ASAN_OPTIONS=detect_leaks=1:allow_user_poisoning=0
  if [ "${2:-}" = --quick ]; then
    ninja -C build-san quant-opt quant-compile quant-run QMLIRImportTests \
      QMLIRNumericsTests QMLIRRuntimeTests gguf-fuzzer-replay hf-fuzzer-replay \
      model-fuzzer-replay mlir-fuzzer-replay
    /usr/lib/llvm-22/bin/lit -sv build-san/test build-san/unittests \
      --filter 'Tools/|Fuzz/|smollm2-logits|QMLIR-Unit'
    exit 0
  fi
  ninja -C build-san check-qmlir
  exit 0
fi
ninja -C build check-qmlir
scripts/pip-check.sh
