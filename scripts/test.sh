#!/usr/bin/env bash
# Installs what the tests need (a .venv with the package and its test extras) and runs the whole suite.
# This is the README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# The VS Code extension's toolchain (TypeScript, esbuild, vsce, the LSP node client) from its lock file,
# and the extension itself: editors/vscode/nexus.vsix (tests/editors checks it further).
(cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run --silent package)

.venv/bin/python -m pytest -q "$@"
