"""A small real workspace, indexed on disk (LMDB + Tantivy), and the backends the operations run over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nexus.engine import Workspace
from nexus.engine.config import load_settings
from nexus.services import Backends, Call, Registry

FILES = {
    "net/retry_policy.py": (
        "def backoff(attempt):\n"
        '    """Seconds to wait before the next retry."""\n'
        "    return 2 ** attempt\n\n\n"
        "def retry(fn, attempts=3):\n"
        "    for a in range(attempts):\n"
        "        try:\n"
        "            return fn()\n"
        "        except OSError:\n"
        "            backoff(a)\n"
    ),
    "net/__init__.py": "",
    "app.py": "from net.retry_policy import retry\n\n\ndef main():\n    return retry(print)\n",
    "web/client.ts": "export function fetchWithRetry(url: string): Promise<string> {\n  return fetch(url).then(r => r.text());\n}\n",
}


def make_workspace(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def indexed(tmp_path: Path) -> Path:
    root = make_workspace(tmp_path / "ws")
    with Workspace.open(root) as ws:
        ws.index()
    return root


@pytest.fixture
async def call(indexed: Path) -> AsyncIterator[Call]:
    backends = Backends.open(indexed, load_settings(indexed), providers=False)
    try:
        yield Call(backends)
    finally:
        await backends.aclose()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.default()
