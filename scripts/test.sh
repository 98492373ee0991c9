#!/usr/bin/env bash
# Installs, builds and runs every test (lit IR tests, CPU execution tests
# against the numpy reference, GoogleTest unit tests, pytest), then
# `pip install ./python-bindings` into a throw-away environment and the
# package's tests against the installed copy.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ninja -C build check-qmlir
scripts/pip-check.sh
