"""Finding Node.js and the TypeScript compiler for the JavaScript and TypeScript kernels.

TypeScript cells are transpiled (types stripped, no type checking: like ``tsc --isolatedModules`` or
``ts-node --transpile-only``) by the ``typescript`` npm package's ``transpileModule``, which reports
syntax errors in TypeScript's own words (``error TS1005: ';' expected``). It is looked up in, in order:
``$NEXUS_TYPESCRIPT`` (a package folder), the folder ``nexus kernels install`` fills
(``<user data dir>/node/node_modules``), this source tree's ``kernels/typescript/node_modules`` (what
``scripts/test.sh`` installs), and npm's global folder.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import platformdirs

PACKAGE_DIR = Path(__file__).resolve().parent
RUNNER = PACKAGE_DIR / "runner.js"
TYPESCRIPT_PROJECT = PACKAGE_DIR.parent / "typescript"


def node_modules_dir() -> Path:
    """Where ``nexus kernels install`` puts the npm packages the kernels need."""
    base = os.environ.get("NEXUS_DATA_DIR") or platformdirs.user_data_dir("nexus")
    return Path(base) / "node" / "node_modules"


def find_typescript() -> Path | None:
    """The ``typescript`` package folder to load, or None when it is not installed anywhere known."""
    candidates = []
    if os.environ.get("NEXUS_TYPESCRIPT"):
        candidates.append(Path(os.environ["NEXUS_TYPESCRIPT"]))
    candidates += [node_modules_dir() / "typescript", TYPESCRIPT_PROJECT / "node_modules" / "typescript"]
    global_root = _npm_global_root()
    if global_root is not None:
        candidates.append(global_root / "typescript")
    return next((c for c in candidates if (c / "package.json").is_file()), None)


@functools.cache
def _npm_global_root() -> Path | None:
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        done = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


def node_argv(language: str, memory_mb: int) -> list[str]:
    """The command that starts the runner; the memory limit becomes V8's heap limit."""
    node = shutil.which("node") or "node"
    argv = [node]
    if memory_mb:
        argv.append(f"--max-old-space-size={memory_mb}")
    return [*argv, str(RUNNER), language]
