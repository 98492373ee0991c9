#!/usr/bin/env bash
# Installs, builds and runs every test (lit IR tests, CPU execution tests
# against the numpy reference, GoogleTest unit tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ninja -C build check-qmlir
