#!/usr/bin/env bash
# Whole models on the GPU, ours and llama.cpp's, in one run: prefill of 512
# tokens and decode of 128, on models of real shapes with synthetic weights
# (bench/models/synthetic_gguf.py: speed does not depend on the values;
# ours run with quant-run --dummy-weights, so only the libraries travel).
#
#   bench/gpu/models.sh prepare [MODELS]   (build machine: LLVM/MLIR + CUDA)
#       compiles each model (name:shape:quant-compile flags, default
#       $MODELS below) for cuda:sm_90a into .gpu-bench/ (git-ignored; carry
#       it with the device tool) with quant-run, its CUDA runtime and the
#       GGUF generator.
#   bench/gpu/models.sh anchor LLAMA_CPP_TAR   (GPU machine)
#       unpacks a llama.cpp source tarball (never committed) in /tmp/lcpp
#       and, detached so that it outlives the call, builds llama-bench there
#       for sm_90 (CUDA graphs on, as by default) and writes GGUFs of the
#       same shapes (Q4_0, Q8_0).
#   bench/gpu/models.sh run [OUT]   (GPU machine)
#       each model (512-token prompt, 128 tokens with --ignore-eos) in a
#       round before and a round after llama.cpp's llama-bench -p 512
#       -n 128 -r 3 (when `anchor` ran on this machine); results and the
#       device name under OUT.
set -euo pipefail
cd "$(dirname "$0")/../.."
B=.gpu-bench
# name:shape:flags (the 8B nf4 compile requantizes 8B weights: ~40 min on
# the 2-core build machine; int4 groups of 32 keep the Q4_0 source as stored)
MODELS=${MODELS:-"smollm2-nf4dq:smollm2:--scheme nf4 --double-quant --compute-type bf16
smollm2-nf4dq-f32:smollm2:--scheme nf4 --double-quant --compute-type f32
smollm2-int8:smollm2:--scheme int8 --compute-type bf16
smollm2-int4g32:smollm2:--scheme int4 --group-size 32 --compute-type bf16
llama3-8b-int4g32:llama3-8b:--scheme int4 --group-size 32 --compute-type bf16
llama3-8b-int4g32-f32:llama3-8b:--scheme int4 --group-size 32 --compute-type f32
llama3-8b-nf4dq:llama3-8b:--scheme nf4 --double-quant --compute-type bf16"}
# llama.cpp's GGUFs: name:shape:type
LLAMA_MODELS=${LLAMA_MODELS:-"smollm2-q4_0:smollm2:q4_0 smollm2-q8_0:smollm2:q8_0 smollm2-f16:smollm2:f16
llama3-8b-q4_0:llama3-8b:q4_0 llama3-8b-q8_0:llama3-8b:q8_0"}
# Where `anchor` unpacks and builds llama.cpp on the GPU machine.
LCPP=/tmp/lcpp
# 512 tokens of the synthetic vocabulary (digits: one token each).
PROMPT=$(printf '1%.0s' $(seq 512))

prepare() {
  ninja -C build quant-compile quant-run
  rm -rf "$B" && mkdir -p "$B/bin"
  local gguf=build/bench-gguf
  mkdir -p "$gguf"
  local name shape flags
  while IFS=: read -r name shape flags; do
    # Q4_0 sources: int4 groups of 32 keep them as stored (no requantizing).
    [ -f "$gguf/$shape.gguf" ] ||
      python3 bench/models/synthetic_gguf.py "$gguf/$shape.gguf" --shape "$shape" --type q4_0
    # shellcheck disable=SC2086
    build/bin/quant-compile "$gguf/$shape.gguf" $flags --target cuda:sm_90a \
      --max-context 1024 --prefill-tokens 512 --quiet -o "$B/$name"
    rm "$B/$name/weights.bin" "$B/$name/model.mlir"
  done <<< "$MODELS"
  cp build/bin/quant-run "$B/bin/"
  du -sh "$B"
}

# "prompt 512 tokens: X tokens/s; generated 128 tokens: Y tokens/s" -> X Y
ours() {
  "$B/bin/quant-run" "$B/$1" --dummy-weights --ignore-eos --raw \
    --prompt "$PROMPT" --max-new-tokens 128 2>&1 >/dev/null |
    sed -n 's/^prompt \([0-9]*\) tokens: \([0-9.]*\) tokens\/s; generated \([0-9]*\) tokens: \([0-9.]*\) tokens\/s.*/\1 \2 \3 \4/p'
}

# llama.cpp, detached (setsid: it outlives this call of the device tool, so
# a later call on the same warm machine finds it built): its source first
# (gguf-py writes the GGUFs), then its build beside the GGUFs' writing.
anchor() {
  local tar=$1 L=$LCPP
  [ -d "$L/llama.cpp" ] && { echo "llama.cpp already unpacked in $L"; return 0; }
  mkdir -p "$L" && tar -xJf "$tar" -C "$L"
  setsid bash -c "
    cd $L/llama.cpp &&
    cmake -B b -G Ninja -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF \
      -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF > $L/cmake.log 2>&1 &&
    ninja -C b llama-bench > $L/build.log 2>&1 && touch $L/built" \
    < /dev/null > /dev/null 2>&1 &
  local name shape type
  local gen=""
  for m in $LLAMA_MODELS; do
    IFS=: read -r name shape type <<< "$m"
    gen+="python3 $PWD/bench/models/synthetic_gguf.py $L/$name.gguf.part --shape $shape --type $type && mv $L/$name.gguf.part $L/$name.gguf; "
  done
  PYTHONPATH=$L/llama.cpp/gguf-py setsid bash -c "$gen touch $L/ggufs" \
    < /dev/null > $L/gguf.log 2>&1 &
  echo "llama.cpp: building in $L (detached)"
}

run() {
  local out=${1:-$B/results} L=$LCPP
  mkdir -p "$out"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
  echo "model | prompt | prefill tokens/s | generated | decode tokens/s" | tee "$out/ours.txt"
  local name
  round() {
    while IFS=: read -r name _; do
      [ -d "$B/$name" ] || continue  # not prepared
      echo "$name | $(ours "$name" | tr ' ' '|')" | tee -a "$out/ours.txt"
    done <<< "$MODELS"
  }
  round
  if [ -d "$L" ]; then
    # llama.cpp between our rounds, once built (a deadline: the device
    # tool's 10 minutes a call).
    while ! [ -f $L/built ] || ! [ -f $L/ggufs ]; do
      [ $SECONDS -lt ${LLAMA_DEADLINE:-420} ] || break
      sleep 5
    done
    if [ -f $L/built ] && [ -f $L/ggufs ]; then
      for m in $LLAMA_MODELS; do
        # (A model llama-bench could not run is said so; the rest go on.)
        { $L/llama.cpp/b/bin/llama-bench -m "$L/${m%%:*}.gguf" \
            -p 512 -n 128 -r 3 -o md 2>/dev/null | grep -E "pp512|tg128" ||
            echo "llama-bench failed"; } |
          sed "s/^/${m%%:*} /" | tee -a "$out/llamacpp.txt"
      done
    else
      echo "llama.cpp not ready in time:" | tee "$out/llamacpp.txt"
      tail -n 3 $L/*.log | tee -a "$out/llamacpp.txt"
    fi
  fi
  round
  return 0
}

case "${1:-}" in
  prepare) shift; [ $# -gt 0 ] && MODELS=$1; prepare ;;
  anchor) shift; anchor "$@" ;;
  run) shift; run "$@" ;;
  *) echo "usage: bench/gpu/models.sh prepare [MODELS] | anchor LLAMA_CPP_TAR | run [OUT]" >&2; exit 2 ;;
esac
