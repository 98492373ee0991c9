#!/usr/bin/env bash
# `pip install ./python-bindings` as a user runs it after scripts/setup.sh,
# into a throw-away virtual environment (seeing the system's numpy,
# nanobind and scikit-build-core), then the package's numerics and compiler
# tests against the installed copy, from outside the repository. The build
# directory is python-bindings' own (build/pip): the first run compiles the
# libraries the module needs, later runs are incremental.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv --system-site-packages "$tmp/venv"
py="$tmp/venv/bin/python"
echo "pip-check: pip install ./python-bindings"
"$py" -m pip install -q --no-build-isolation ./python-bindings
cd "$tmp"
env -u PYTHONPATH "$py" -c "
import qmlir, sys
assert qmlir.__file__.startswith('$tmp/venv'), qmlir.__file__
print('pip-check: qmlir imported from', qmlir.__file__)"
env -u PYTHONPATH "$py" -m pytest -q -p no:cacheprovider \
  "$repo/python-bindings/tests/test_numerics.py" \
  "$repo/python-bindings/tests/test_compiler.py"
