#!/usr/bin/env bash
# Installs what quant-mlir needs (Debian packages + PyPI) and builds it.
# Idempotent: quick when everything is installed and built.
# Usage: scripts/setup.sh            (run as root on Debian 12)
set -euo pipefail
cd "$(dirname "$0")/.."

LLVM=/usr/lib/llvm-22
PKGS=(llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
      ninja-build ccache cmake g++ libgtest-dev python3)

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

# numpy: the independent reference of the execution tests and the demo.
if ! python3 -c "import numpy" 2>/dev/null; then
  echo "setup: installing numpy"
  python3 -m pip install -q numpy 2>/dev/null ||
    python3 -m pip install -q --break-system-packages numpy 2>/dev/null ||
    { SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo;
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-numpy >/dev/null; }
fi

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build \
    -DCMAKE_BUILD_TYPE=Release \
    -DMLIR_DIR=$LLVM/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=$LLVM/bin/lit \
    -DPython3_EXECUTABLE="$(command -v python3)" >/dev/null
fi
ninja -C build quant-opt QMLIRNumericsTests
