#!/usr/bin/env bash
# GPU tests and benchmarks of the generated CUDA kernels.
#
#   scripts/gpu-check.sh prepare   (build machine: LLVM/MLIR + CUDA toolkit)
#       builds quant-opt and qnt-gpu-harness, generates the test and bench
#       cases, compiles their kernels for sm_90 and puts everything the GPU
#       machine needs into .gpu/ (git-ignored; carry it with the device tool).
#   scripts/gpu-check.sh run [OUT]  (GPU machine: driver, python3 + torch)
#       runs the correctness cases, compute-sanitizer memcheck on a subset,
#       the kernel benchmark and the cuBLAS / tinygemm anchors; logs go to
#       OUT (default .gpu/results).
#   scripts/gpu-check.sh report DIR (build machine)
#       turns the logs of a run into bench/results/gpu-<date>.md.
set -euo pipefail
cd "$(dirname "$0")/.."
G=.gpu

prepare() {
  scripts/setup.sh
  ninja -C build qnt-gpu-harness
  rm -rf "$G" && mkdir -p "$G/test" "$G/bench" "$G/bin"
  for set in test bench; do
    python3 bench/gpu/gen_cases.py --set $set "$G/$set"
    build/bin/quant-opt "$G/$set/cases.mlir" \
      --qnt-cuda-pipeline="chip=sm_90 format=bin" \
      --qnt-dump-gpu-binaries="dir=$G/$set" -o /dev/null
  done
  cp build/bin/qnt-gpu-harness build/lib/libQMLIRCudaRuntime.so "$G/bin/"
  cp bench/gpu/anchors.py "$G/"
  du -sh "$G"
}

run() {
  local out=${1:-$G/results}
  mkdir -p "$out"
  export LD_LIBRARY_PATH="$PWD/$G/bin:${LD_LIBRARY_PATH:-}"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/device.txt"
  local rc=0
  "$G/bin/qnt-gpu-harness" "$G/test" 2>&1 | tee "$out/test.log" || rc=1
  # memcheck every scheme's M=16 case (the sanitizer is slow).
  compute-sanitizer --tool memcheck --error-exitcode 3 \
    "$G/bin/qnt-gpu-harness" "$G/test" --filter _m16_ 2>&1 | tail -n 25 | tee "$out/memcheck.log" || rc=1
  "$G/bin/qnt-gpu-harness" "$G/bench" --bench 2>&1 | tee "$out/bench.log" || rc=1
  python3 "$G/anchors.py" 2>&1 | tee "$out/anchors.log" || rc=1
  return $rc
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  report) shift; python3 bench/gpu/report.py "$@" ;;
  *) echo "usage: scripts/gpu-check.sh prepare | run [OUT] | report DIR" >&2; exit 2 ;;
esac
