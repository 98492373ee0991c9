#!/usr/bin/env bash
# GPU tests and benchmarks of the generated CUDA kernels.
#
#   scripts/gpu-check.sh prepare   (build machine: LLVM/MLIR + CUDA toolkit)
#       builds quant-opt and qnt-gpu-harness, generates the test and bench
#       cases, compiles their kernels for sm_90a (wgmma GEMM from M = 64) and
#       the test cases also for sm_90 (mma.sync GEMM), and puts everything
#       the GPU machine needs into .gpu/ (git-ignored; carry it with the
#       device tool).
#   scripts/gpu-check.sh run [OUT]  (GPU machine: driver, python3 + torch)
#       runs the correctness cases, a whole compiled function (bench/gpu/e2e),
#       compute-sanitizer memcheck, racecheck and synccheck of every test
#       case,
#       the kernel benchmark and the cuBLAS / tinygemm anchors; logs go to
#       OUT (default .gpu/results).
#   scripts/gpu-check.sh prepare-sweep / sweep [OUT]
#       a sweep of kernel parameters (SWEEP: pipeline options): per
#       variant the test cases (checked) and the M = 1 and M = 16 bench
#       cases (timed), plus ncu profiles of two skinny kernels.
#   scripts/gpu-check.sh profile [OUT] (GPU machine, after prepare)
#       ncu profiles of the int4 g128 4096 x 28672 kernels at M = 1, 16
#       and 2048: speed of light, compute and memory workload, occupancy,
#       warp stalls.
#   scripts/gpu-check.sh report DIR (build machine)
#       turns the logs of a run into bench/results/gpu-<date>.md.
#   scripts/gpu-check.sh prepare-model   (build machine)
#       quant-compile SmolLM2 (nf4 + double quant) for cuda:sm_90a in each
#       compute type (bf16, f32) and for the CPU in the same types; the CPU
#       builds' logits, greedy answers and perplexities (the references) are
#       computed here. Everything the GPU machine needs goes to .gpu-model/
#       except the second half of the weights, which goes to .gpu-model-2/
#       (the device tool carries at most 64 MiB per call);
#       GPU_MODEL_LAYERS=N keeps the first N blocks, small enough for one
#       call.
#   scripts/gpu-check.sh run-model [OUT]  (GPU machine)
#       stages what was carried in /tmp/qmlir-gpu-model (a first call with
#       .gpu-model, a second with .gpu-model-2, or both at once); once the
#       model is whole, per compute type: the GPU logits of the reference
#       ids (compared here with scripts/gpu-check.sh compare-model OUT),
#       the same with CUDA graphs off (bit for bit), the greedy answer,
#       perplexity and tokens/s; compute-sanitizer memcheck of a short run,
#       racecheck and synccheck of a decode step.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.gpu

prepare() {
  scripts/setup.sh
  ninja -C build qnt-gpu-harness
  rm -rf "$G" && mkdir -p "$G/bin"
  # directory:chip; the case set is the directory's name up to a '-'.
  for v in test:sm_90a test-sm90:sm_90 bench:sm_90a; do
    local name=${v%%:*} chip=${v#*:}
    local d="$G/$name"
    mkdir -p "$d"
    python3 bench/gpu/gen_cases.py --set "${name%%-*}" "$d"
    build/bin/quant-opt "$d/cases.mlir" \
      --qnt-cuda-pipeline="chip=$chip format=bin" \
      --qnt-dump-gpu-binaries="dir=$d" -o /dev/null
  done
  cp build/bin/qnt-gpu-harness build/lib/libQMLIRCudaRuntime.so "$G/bin/"
  cp bench/gpu/anchors.py "$G/"
  build_e2e "$G/bin"
  du -sh "$G"
}

# The end-to-end check: a whole compiled function (host code + fatbin),
# into DIR/e2e-layer next to the CUDA runtime.
build_e2e() {
  local dir=$1 llvm=/usr/lib/llvm-22/bin
  cp build/lib/libQMLIRCudaRuntime.so "$dir/"
  build/bin/quant-opt bench/gpu/e2e/layer.mlir --qnt-cuda-pipeline="chip=sm_90" |
    $llvm/mlir-translate --mlir-to-llvmir -o "$dir/layer.ll"
  $llvm/llc -O2 -filetype=obj -relocation-model=pic "$dir/layer.ll" -o "$dir/layer.o"
  c++ -O2 -std=c++17 -Iinclude bench/gpu/e2e/e2e.cpp "$dir/layer.o" \
    build/lib/Numerics/libQMLIRNumerics.a -L"$dir" -lQMLIRCudaRuntime \
    -L/usr/local/cuda/lib64/stubs -lcuda -Wl,-rpath,'$ORIGIN' \
    -o "$dir/e2e-layer"
  rm "$dir/layer.ll" "$dir/layer.o"
}

M=.gpu-model
STAGE=/tmp/qmlir-gpu-model
MODEL_ARGS="--scheme nf4 --double-quant --max-context 512 --quiet"
# Each compute type is checked against the CPU build of the same type.
COMPUTE_TYPES="bf16 f32"
PROMPT="What is the capital of France?"
# 70 ids: one prefill chunk of 64, then 6 decode steps.
IDS=$(seq -s, 1000 1069)

prepare_model() {
  local gguf="${QMLIR_SMOLLM2_GGUF:-${QMLIR_MODEL_CACHE:-$HOME/.cache/quant-mlir}/SmolLM2-135M-Instruct.Q4_1.gguf}"
  ninja -C build quant-compile quant-run quant-opt
  rm -rf "$M" "$M-2" && mkdir -p "$M/bin" "$M/ref" "$M-2/cuda-bf16"
  # GPU_MODEL_LAYERS=N: the first N blocks only (real weights, small enough
  # to travel in one call with the benchmarks; no greedy answer to compare).
  if [ -n "${GPU_MODEL_LAYERS:-}" ]; then
    python3 test/reference/gguf_truncate.py "$gguf" build/gpu-model-src.gguf \
      "$GPU_MODEL_LAYERS"
    gguf=build/gpu-model-src.gguf
  fi
  head -c 200000 ../shared/data/wikitext-2/wiki.test.raw > "$M/wiki.txt"
  local t cpu
  for t in $COMPUTE_TYPES; do
    build/bin/quant-compile "$gguf" $MODEL_ARGS --compute-type $t \
      --target cuda:sm_90a -o "$M/cuda-$t"
    # The CPU build with the same compute type is the reference (--int-dot
    # false: the CPU's default integer path rounds activations to 14 bits).
    cpu=build/gpu-model-cpu-$t
    build/bin/quant-compile "$gguf" $MODEL_ARGS --compute-type $t \
      --int-dot=false -o "$cpu"
    build/bin/quant-run "$cpu" --ids "$IDS" --logits "$M/ref/logits-$t.f32"
    build/bin/quant-run "$cpu" --prompt "$PROMPT" --max-new-tokens 32 \
      > "$M/ref/answer-$t.txt" 2> "$M/ref/answer-$t.log"
    build/bin/quant-run "$cpu" --perplexity "$M/wiki.txt" --ctx 512 \
      --max-windows 8 > "$M/ref/perplexity-$t.txt" 2>/dev/null
  done
  # One weights.bin serves every compute type (the layout does not depend
  # on it); it travels once, in halves.
  for t in $COMPUTE_TYPES; do
    [ "$t" = bf16 ] && continue
    cmp -s "$M/cuda-bf16/weights.bin" "$M/cuda-$t/weights.bin" ||
      { echo "weights.bin of cuda-$t differs from cuda-bf16's" >&2; return 1; }
  done
  cp build/bin/quant-run "$M/bin/"
  [ -n "${GPU_MODEL_LAYERS:-}" ] && echo "$GPU_MODEL_LAYERS" > "$M/ref/truncated"
  build_e2e "$M/bin"
  # The logits stay here (compare-model); the rest travels.
  mkdir -p build/gpu-model-ref && mv "$M"/ref/logits-*.f32 build/gpu-model-ref/
  if [ "$(stat -c %s "$M/cuda-bf16/weights.bin")" -gt 30000000 ]; then
    split -n 2 -d "$M/cuda-bf16/weights.bin" "$M/cuda-bf16/weights.bin.part-"
    mv "$M/cuda-bf16/weights.bin.part-01" "$M-2/cuda-bf16/"
    rm "$M/cuda-bf16/weights.bin"
  else
    rmdir "$M-2/cuda-bf16" "$M-2"
  fi
  rm -f "$M"/cuda-f32/weights.bin "$M"/cuda-*/model.mlir
  du -sh "$M"*
}

run_model() {
  local out=${1:-$STAGE/results}
  mkdir -p "$STAGE" "$out"
  for d in "$M" "$M-2"; do
    if [ -d "$d" ]; then cp -r "$d/." "$STAGE/"; fi
  done
  local w="$STAGE/cuda-bf16/weights.bin"
  if [ ! -f "$w" ]; then
    if [ -f "$w.part-00" ] && [ -f "$w.part-01" ]; then
      cat "$w.part-00" "$w.part-01" > "$w" && rm "$w".part-*
    else
      echo "staged $(ls "$STAGE/cuda-bf16" | tr '\n' ' '); carry the other half next"
      return 0
    fi
  fi
  local run="$STAGE/bin/quant-run" rc=0 t model
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
  "$STAGE/bin/e2e-layer" 2>&1 | tee "$out/e2e.log" || rc=1
  for t in $COMPUTE_TYPES; do
    model="$STAGE/cuda-$t"
    [ -f "$model/weights.bin" ] || ln -s "$w" "$model/weights.bin"
    echo "== cuda:sm_90a, compute type $t"
    "$run" "$model" --ids "$IDS" --logits "$out/logits-$t.f32" || rc=1
    # Decode steps replayed as CUDA graphs compute what direct launches do.
    QMLIR_CUDA_GRAPHS=0 "$run" "$model" --ids "$IDS" --logits /tmp/nograph.f32 || rc=1
    if cmp -s /tmp/nograph.f32 "$out/logits-$t.f32"; then
      echo "logits with and without CUDA graphs: identical"
    else
      echo "logits with and without CUDA graphs: DIFFER"; rc=1
    fi
    "$run" "$model" --prompt "$PROMPT" --max-new-tokens 32 \
      > "$out/answer-$t.txt" 2> "$out/answer-$t.log" || rc=1
    cat "$out/answer-$t.txt" "$out/answer-$t.log"
    if [ -f "$STAGE/ref/truncated" ]; then
      echo "greedy answer: not compared (a truncated model)"
    elif cmp -s "$out/answer-$t.txt" "$STAGE/ref/answer-$t.txt"; then
      echo "greedy answer: identical to the CPU build's"
    else
      echo "greedy answer: DIFFERS from the CPU build's:"; cat "$STAGE/ref/answer-$t.txt"; rc=1
    fi
    "$run" "$model" --perplexity "$STAGE/wiki.txt" --ctx 512 --max-windows 8 \
      2>/dev/null | tee "$out/perplexity-$t.txt" || rc=1
    echo "CPU build ($t): $(cat "$STAGE/ref/perplexity-$t.txt")"
    # Decode speed over a longer generation.
    "$run" "$model" --prompt "Write a story about a cat." --max-new-tokens 200 \
      --ignore-eos 2>&1 >/dev/null | tee "$out/speed-$t.log" || rc=1
  done
  model="$STAGE/cuda-bf16"
  timeout 300 compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$run" "$model" --ids "$(seq -s, 1000 1065)" --logits /tmp/memcheck.f32 \
    2>&1 | tail -n 5 | tee "$out/memcheck.log" || rc=1
  # racecheck and synccheck over one decode step.
  local tool
  for tool in racecheck synccheck; do
    timeout 300 compute-sanitizer --tool $tool --error-exitcode 3 \
      "$run" "$model" --ids 1000 --logits /tmp/$tool.f32 \
      2>&1 | tail -n 5 | tee "$out/$tool.log" || rc=1
  done
  return $rc
}

# The GPU logits (OUT/logits-TYPE.f32 of run-model) against the CPU build's
# of the same compute type.
compare_model() {
  local t
  for t in $COMPUTE_TYPES; do
    python3 - "$1/logits-$t.f32" "build/gpu-model-ref/logits-$t.f32" "$t" <<'PY'
import sys, numpy as np
gpu, cpu = (np.fromfile(f, np.float32).reshape(-1, 49152) for f in sys.argv[1:3])
d = np.abs(gpu - cpu)
print(f"{sys.argv[3]}: {gpu.shape[0]} positions: max |gpu - cpu| {d.max():.3g}, "
      f"mean {d.mean():.3g}, max |cpu| {np.abs(cpu).max():.3g}; "
      f"argmax equal at {np.mean(gpu.argmax(1) == cpu.argmax(1)) * 100:.1f} %")
PY
  done
}

# name:pipeline options (the skinny kernel's warps per block, unroll and
# 16-channel tiles per block).
SWEEP="default: t2:skinny-tiles=2 t2u1:skinny-tiles=2,skinny-unroll=1
t4u1:skinny-tiles=4,skinny-unroll=1 t2w16u1:skinny-tiles=2,skinny-warps=16,skinny-unroll=1
t4w8u1:skinny-tiles=4,skinny-warps=8,skinny-unroll=1"

# Each variant compiles the sweep cases (timed) and the test cases (checked).
prepare_sweep() {
  scripts/setup.sh
  ninja -C build qnt-gpu-harness
  rm -rf "$G" && mkdir -p "$G/bin"
  for v in $SWEEP; do
    local name=${v%%:*} opts=${v#*:}
    for set in sweep test; do
      local d="$G/$set-$name"
      mkdir -p "$d"
      python3 bench/gpu/gen_cases.py --set $set "$d"
      build/bin/quant-opt "$d/cases.mlir" \
        --qnt-cuda-pipeline="chip=sm_90a format=bin ${opts//,/ }" \
        --qnt-dump-gpu-binaries="dir=$d" -o /dev/null
    done
  done
  cp build/bin/qnt-gpu-harness build/lib/libQMLIRCudaRuntime.so "$G/bin/"
  cp bench/gpu/anchors.py "$G/"
  du -sh "$G"
}

sweep() {
  local out=${1:-$G/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/$G/bin:${LD_LIBRARY_PATH:-}"
  local rc=0
  : > "$out/sweep-test.log"
  for d in "$G"/test-*; do
    echo "== ${d#$G/}" | tee -a "$out/sweep-test.log"
    "$G/bin/qnt-gpu-harness" "$d" > "$out/variant.log" 2>&1 || rc=1
    grep -v "^PASS" "$out/variant.log" | tee -a "$out/sweep-test.log"
  done
  rm -f "$out/variant.log"
  for d in "$G"/sweep-*; do
    echo "== ${d#$G/}"
    "$G/bin/qnt-gpu-harness" "$d" --bench
  done 2>&1 | tee "$out/sweep.log"
  # ncu of the skinny kernel with two channel tiles per block.
  for c in int4g128_bf16_m1_n28672_k4096 int4g128_bf16_m16_n28672_k4096; do
    ncu --section SpeedOfLight --section Occupancy --section WarpStateStats \
      --section MemoryWorkloadAnalysis --section SchedulerStats -c 1 \
      "$G/bin/qnt-gpu-harness" "$G/sweep-t2" --bench --filter "$c" \
      --iters 1 > "$out/ncu-t2-$c.log" 2>&1
    grep -E "Duration|Throughput|Hit Rate|Occupancy|Registers|Issued|Eligible|Stall|Warp Cycles" "$out/ncu-t2-$c.log" | head -n 40
  done
  return $rc
}

profile() {
  local out=${1:-$G/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/$G/bin:${LD_LIBRARY_PATH:-}"
  for c in int4g128_bf16_m1_n28672_k4096 int4g128_bf16_m16_n28672_k4096 \
    int4g128_bf16_m2048_n28672_k4096; do
    ncu --section SpeedOfLight --section ComputeWorkloadAnalysis \
      --section MemoryWorkloadAnalysis --section Occupancy \
      --section WarpStateStats -c 1 \
      "$G/bin/qnt-gpu-harness" "$G/bench" --bench --filter "$c" --iters 1 \
      > "$out/ncu-$c.log" 2>&1
    grep -E "Duration|Throughput|Pipe|Occupancy|Registers" "$out/ncu-$c.log" | head -n 30
  done
}

run() {
  local out=${1:-$G/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/$G/bin:${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
  local rc=0
  "$G/bin/qnt-gpu-harness" "$G/test" 2>&1 | tee "$out/test.log" || rc=1
  "$G/bin/qnt-gpu-harness" "$G/test-sm90" --filter _m2048_ 2>&1 | tee -a "$out/test.log" || rc=1
  "$G/bin/e2e-layer" 2>&1 | tee -a "$out/test.log" || rc=1
  # compute-sanitizer's memcheck, racecheck (shared-memory hazards) and
  # synccheck (barrier misuse) on every kernel kind: all test cases (GEMV,
  # skinny, wgmma GEMM) and the sm_90 mma.sync GEMM cases.
  local tool
  for tool in memcheck racecheck synccheck; do
    : > "$out/$tool.log"
    for cases in "test" "test-sm90 --filter _m2048_"; do
      compute-sanitizer --tool $tool --error-exitcode 3 \
        "$G/bin/qnt-gpu-harness" $G/$cases > "$out/$tool-cases.log" 2>&1 || rc=1
      grep -v "^PASS" "$out/$tool-cases.log" | tee -a "$out/$tool.log"
    done
    rm "$out/$tool-cases.log"
  done
  "$G/bin/qnt-gpu-harness" "$G/bench" --bench 2>&1 | tee "$out/bench.log" || rc=1
  python3 "$G/anchors.py" 2>&1 | tee "$out/anchors.log" || rc=1
  return $rc
}

case "${1:-}" in
  prepare) prepare ;;
  prepare-sweep) prepare_sweep ;;
  sweep) shift; sweep "$@" ;;
  profile) shift; profile "$@" ;;
  run) shift; run "$@" ;;
  report) shift; python3 bench/gpu/report.py "$@" ;;
  prepare-model) prepare_model ;;
  run-model) shift; run_model "$@" ;;
  compare-model) shift; compare_model "$@" ;;
  *) echo "usage: scripts/gpu-check.sh prepare | run [OUT] | prepare-sweep | sweep [OUT] | profile [OUT] | report DIR | prepare-model | run-model [OUT] | compare-model OUT" >&2; exit 2 ;;
esac
