#!/usr/bin/env bash
# The AVX-512 and AMX CPU kernels on a machine that has them but no LLVM
# (the GPU machine's Xeon). Where LLVM is at hand, lit runs the same cases
# on whatever levels the CPU has (test/Integration/CPU/cpu-kernels-*.test).
#
#   scripts/avx512-check.sh prepare   (build machine: LLVM/MLIR)
#       compiles the cases of test/reference/cpu_cases.py (those of
#       test/Integration/CPU/cpu-kernels.mlir: every scheme family, GEMV and
#       tiled shapes, odd N and K; variants: isa=avx512 with and without
#       the integer path, VNNI, bf16 compute on vdpbf16ps, OpenMP, AMX),
#       which lit runs where the CPU has the level, into stand-alone
#       executables that print the result as mlir-runner
#       would; with libomp and the numpy reference (test/reference/qref.py)
#       into .avx512/ (git-ignored; carry it with the device tool). Also
#       SmolLM2 cut to its first 2 blocks (test/reference/gguf_truncate.py,
#       to travel under the device tool's 64 MiB), quant-compiled for
#       --cpu x86-64 (all kernel levels, chosen at load) in nf4 and in nf4
#       with --compute-type bf16 (prefill calls of 160 rows: the tiles, AMX
#       at the amx level), with quant-run.
#   scripts/avx512-check.sh run [OUT]  (a machine with AVX-512, python3 +
#       numpy; no LLVM needed)
#       runs every case and checks it against the reference with the same
#       error bounds as the lit test (the VNNI and BF16 cases only where the
#       CPU has avx512_vnni, avx512_bf16, amx_bf16); prints the CPU's
#       AVX-512 and AMX features. Then, per model and kernel level
#       (QMLIR_CPU_ISA), the logits of 150 ids against the portable
#       kernels' (same argmax where the top two are apart; within
#       0.1, or for bf16 compute 0.5 and a mean of 0.012) and the decode
#       tokens/s on 2 threads (cores 0-1), the CPU issue's budget.
set -euo pipefail
cd "$(dirname "$0")/.."
A=.avx512

prepare() {
  local llvm=/usr/lib/llvm-22
  ninja -C build quant-opt
  rm -rf "$A" && mkdir -p "$A/bin"
  cp $llvm/lib/libomp.so.5 "$A/bin/"
  cp test/reference/qref.py "$A/"
  # The test modules print their result with printMemrefF32; MLIR's runner
  # library needs libLLVM, so the executables carry this printer instead
  # (the same header, every value to 9 significant digits).
  cat > "$A/stub.c" <<'C'
#include <inttypes.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>
typedef struct { float *allocated, *aligned; int64_t offset, sizesAndStrides[]; } Desc;
void printMemrefF32(int64_t rank, Desc *d) {
  const int64_t *sizes = d->sizesAndStrides, *strides = sizes + rank;
  int64_t count = 1, index[16] = {0};
  printf("Unranked Memref base@ = %p rank = %" PRId64 " offset = %" PRId64 " sizes = [",
         (void *)d->aligned, rank, d->offset);
  for (int64_t i = 0; i < rank; ++i) {
    printf(i ? ", %" PRId64 : "%" PRId64, sizes[i]);
    count *= sizes[i];
  }
  printf("] strides = [");
  for (int64_t i = 0; i < rank; ++i)
    printf(i ? ", %" PRId64 : "%" PRId64, strides[i]);
  printf("] data = \n");
  for (int64_t e = 0; e < count; ++e) {
    int64_t at = d->offset;
    for (int64_t i = 0; i < rank; ++i)
      at += index[i] * strides[i];
    printf(e ? ", %.9g" : "%.9g", d->aligned[at]);
    for (int64_t i = rank - 1; i >= 0 && ++index[i] == sizes[i]; --i)
      index[i] = 0;
  }
  printf("\n");
}
void qnt_case_main(void);
/* AMX kernels need the tile state, which Linux grants on request. */
int main(void) { syscall(SYS_arch_prctl, 0x1023, 18); qnt_case_main(); return 0; }
C
  : > "$A/cases.txt"
  # The cases and variants lit runs where the CPU has the level
  # (test/Integration/CPU/cpu-kernels-{avx512,avx512vnni,avx512bf16,amx}.test).
  local name gen quant opts check
  while IFS='|' read -r name gen quant opts check; do
    # shellcheck disable=SC2086
    python3 test/reference/qref.py gen $gen > "$A/in.mlir"
    build/bin/quant-opt "$A/in.mlir" --qnt-quantize-linear="$quant" \
      --qnt-cpu-pipeline="$opts" |
      $llvm/bin/mlir-translate --mlir-to-llvmir |
      sed 's/@main(/@qnt_case_main(/' > "$A/$name.ll"
    $llvm/bin/llc -O2 -filetype=obj -relocation-model=pic "$A/$name.ll" -o "$A/$name.o"
    cc -O2 "$A/stub.c" "$A/$name.o" -L"$A/bin" -l:libomp.so.5 \
      -Wl,-rpath,'$ORIGIN' -o "$A/bin/$name"
    rm "$A/$name.ll" "$A/$name.o"
    echo "$name|$check" >> "$A/cases.txt"
  done < <(python3 test/reference/cpu_cases.py list)
  rm "$A/in.mlir" "$A/stub.c"
  local gguf="${QMLIR_SMOLLM2_GGUF:-${QMLIR_MODEL_CACHE:-$HOME/.cache/quant-mlir}/SmolLM2-135M-Instruct.Q4_1.gguf}"
  ninja -C build quant-compile quant-run
  cp build/bin/quant-run "$A/bin/"
  python3 test/reference/gguf_truncate.py "$gguf" "$A/smollm2-2.gguf" 2
  # nf4: prefill in chunks of 64 (GEMV slices); nf4 + bf16 compute: one
  # prefill call of 160 rows, so the 150 ids take the tiles (f32 FMA tiles,
  # AMX at the amx level).
  build/bin/quant-compile "$A/smollm2-2.gguf" --scheme nf4 --cpu x86-64 \
    --max-context 256 --quiet -o "$A/model"
  build/bin/quant-compile "$A/smollm2-2.gguf" --scheme nf4 --compute-type bf16 \
    --cpu x86-64 --max-context 256 --prefill-tokens 160 --quiet -o "$A/model-bf16"
  rm "$A/model/model.mlir" "$A/model-bf16/model.mlir" "$A/smollm2-2.gguf"
  du -sh "$A"
}

IDS=$(seq -s, 1000 1149)

# The truncated model (nf4; nf4 with --compute-type bf16) at each kernel
# level up to `best`.
run_models() {
  local out=$1 best=$2 rc=0
  export LD_LIBRARY_PATH="$PWD/$A/bin:${LD_LIBRARY_PATH:-}" # libomp
  local levels="generic avx2 avx512"
  [ "$best" != avx512 ] && levels="$levels avx512vnni"
  [ "$best" = avx512bf16 ] || [ "$best" = amx ] && levels="$levels avx512bf16"
  [ "$best" = amx ] && levels="$levels amx"
  local model level
  for model in nf4 nf4-bf16; do
    local dir="$A/model${model#nf4}"
    for level in $levels; do
      QMLIR_CPU_ISA=$level "$A/bin/quant-run" "$dir" --ids "$IDS" \
        --logits "$out/$model-$level.f32" || rc=1
      echo "$model $level: $(OMP_NUM_THREADS=2 QMLIR_CPU_ISA=$level taskset -c 0,1 \
        "$A/bin/quant-run" "$dir" --prompt "Tell me a story." --max-new-tokens 64 2>&1 |
        grep -o 'generated.*tokens/s')"
    done
  done
  python3 - "$out" "$IDS" $levels <<'PY' || rc=1
import sys, numpy as np
out, ids, levels = sys.argv[1], sys.argv[2].split(","), sys.argv[3:]
ok = True
for model in ("nf4", "nf4-bf16"):
    get = lambda l: np.fromfile(f"{out}/{model}-{l}.f32", np.float32).reshape(len(ids), -1)
    ref = get("generic")
    # bf16 compute: f32 summation order decides near-tie roundings, single
    # logits move by up to ~0.25 (smollm2-compute-type.test), the mean not.
    tol, mean_tol = (0.5, 0.012) if model.endswith("bf16") else (0.1, 0.1)
    # The argmax must agree wherever the portable kernels' top two logits
    # are further apart than twice the tolerance (150 random ids have
    # near ties, where any rounding decides).
    top2 = np.sort(ref, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 2 * tol
    for l in levels[1:]:
        d = np.abs(get(l) - ref)
        same = bool((get(l).argmax(1) == ref.argmax(1))[clear].all())
        good = d.max() <= tol and d.mean() <= mean_tol and same
        ok &= good
        print(f"{model} {l} vs generic: max |diff| {d.max():.3g}, mean {d.mean():.3g}, "
              f"argmax equal at the {clear.sum()} of {len(clear)} ids with a clear top: "
              f"{same}: {'PASS' if good else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
  rm -f "$out"/*.f32
  return $rc
}

run() {
  local out=${1:-$A/results}
  mkdir -p "$out"
  {
    grep -m1 "model name" /proc/cpuinfo
    echo "AVX-512 and AMX features: $(grep -m1 '^flags' /proc/cpuinfo | grep -o -w 'avx512[a-z_0-9]*\|amx[a-z_0-9]*' | tr '\n' ' ')"
  } | tee "$out/cpu.txt"
  if ! grep -q -w avx512f /proc/cpuinfo; then
    echo "this CPU has no AVX-512: nothing to check" | tee -a "$out/cpu.txt"
    return 1
  fi
  local name args log best=avx512 bf16=0 amx=0
  grep -q -w avx512_vnni /proc/cpuinfo && grep -q -w avx512bw /proc/cpuinfo &&
    best=avx512vnni
  grep -q -w avx512_bf16 /proc/cpuinfo && [ $best = avx512vnni ] &&
    best=avx512bf16 && bf16=1
  grep -q -w amx_bf16 /proc/cpuinfo && [ $bf16 = 1 ] && amx=1 && best=amx
  log=$(mktemp)
  while IFS='|' read -r name args; do
    if [[ $name == *-vnni || $name == *-omp ]] && [ $best = avx512 ]; then
      echo "SKIP $name: no avx512_vnni"; continue
    fi
    if [[ $name == *-bf16 ]] && [ $bf16 = 0 ]; then
      echo "SKIP $name: no avx512_bf16"; continue
    fi
    if [[ $name == *-amx* ]] && [ $amx = 0 ]; then
      echo "SKIP $name: no amx_bf16"; continue
    fi
    # shellcheck disable=SC2086
    if "$A/bin/$name" | python3 "$A/qref.py" check $args > "$log" 2>&1; then
      echo "PASS $name: $(tail -n 1 "$log")"
    else
      echo "FAIL $name:"; tail -n 5 "$log"
    fi
  done < "$A/cases.txt" | tee "$out/check.log"
  rm "$log"
  echo "$(grep -c "^PASS" "$out/check.log") of $(wc -l < "$A/cases.txt") AVX-512 cases passed, $(grep -c "^SKIP" "$out/check.log") skipped" |
    tee -a "$out/check.log"
  local rc=0
  ! grep -q "^FAIL" "$out/check.log" || rc=1
  run_models "$out" $best 2>&1 | tee "$out/models.log" || rc=1
  return $rc
}

case "${1:-}" in
  prepare) prepare ;;
  run) shift; run "$@" ;;
  *) echo "usage: scripts/avx512-check.sh prepare | run [OUT]" >&2; exit 2 ;;
esac
