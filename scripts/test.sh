#!/usr/bin/env bash
# Installs what the tests need (a .venv with the package and its test extras) and runs the whole suite.
# This is the README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

.venv/bin/python -m pytest -q "$@"
