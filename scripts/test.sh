#!/usr/bin/env bash
# Installs what the tests need (a .venv with the package and its test extras) and runs the whole suite.
# This is the README's test command; .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

# kernels: the TypeScript kernel's compiler (npm), and bubblewrap for the sandbox when apt-get can add it
if command -v npm >/dev/null 2>&1; then
    npm ci --prefix kernels/typescript --no-audit --no-fund --loglevel=error
fi
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q bubblewrap >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }) \
        || echo "bubblewrap could not be installed: kernels run with resource limits only" >&2
fi

# Debian's Chromium and chromedriver for the JupyterLab browser tests (tests/browser drives it with
# Playwright through executable_path: nothing downloads a browser); without it those tests skip.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    (apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 \
        || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q chromium chromium-driver >/dev/null 2>&1; }) \
        || echo "chromium could not be installed: the JupyterLab browser tests will skip" >&2
fi

# The JupyterLab extension (@jupyterlab/builder from its lock file, against the jupyterlab installed above),
# built into jupyter_ext/labextension, where the wheel and tests/browser take it from.
(cd editors/jupyterlab && npm ci --no-audit --no-fund --loglevel=error && PYTHON="$PWD/../../.venv/bin/python" npm run --silent build >/dev/null)

# The VS Code extension's toolchain (TypeScript, esbuild, vsce, the LSP node client) from its lock file,
# and the extension itself: editors/vscode/nexus.vsix (tests/editors checks it further).
(cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run --silent package)

# Lint everything; type-check strictly (every folder but the language server and the CLI so far). mypy
# needs the installed `nexus.` layout, which the
# editable install only builds at import time, so it reads a tree of links to the folders.
.venv/bin/ruff check .
mkdir -p .mypy-root/nexus
for folder in cli engine kernels services lsp_server jupyter_ext gateway mcp_server acp_server; do
    ln -sfn "$PWD/$folder" ".mypy-root/nexus/$folder"
done
(cd .mypy-root && MYPYPATH=. ../.venv/bin/mypy -p nexus.engine -p nexus.services -p nexus.kernels -p nexus.gateway \
    -p nexus.jupyter_ext --config-file ../pyproject.toml)

.venv/bin/python -m pytest -q "$@"
