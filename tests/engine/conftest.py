from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nexus.engine import Workspace

FIXTURES = Path(__file__).parent / "fixtures"


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def notebook(*cells: tuple[str, str], language: str = "python") -> str:
    return json.dumps({
        "cells": [{"cell_type": kind, "source": source, "metadata": {}, **({"outputs": [], "execution_count": None} if kind == "code" else {})}
                  for kind, source in cells],
        "metadata": {"language_info": {"name": language}}, "nbformat": 4, "nbformat_minor": 5,
    })


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    write(root, {
        "app/config.py": "def get_config(name):\n    \"\"\"Read one setting.\"\"\"\n    return load_settings()[name]\n\n"
                         "def load_settings():\n    return {}\n",
        "app/main.py": "from .config import get_config\n\nclass Server:\n    def start(self):\n"
                       "        return get_config('port')\n",
        "web/client.ts": "export function fetchUser(id: number): Promise<User> {\n  return api.get(id);\n}\n"
                         "interface User { name: string }\n",
        "web/util.js": "function debounce(fn, ms) { return fn; }\nmodule.exports = { debounce };\n",
        "src/Main.java": "class Main {\n  static void greet() {}\n}\n",
        "src/math.cpp": "int square(int x) { return x * x; }\n",
    })
    for path in (FIXTURES).iterdir():
        (root / "fixtures").mkdir(exist_ok=True)
        (root / "fixtures" / path.name).write_bytes(path.read_bytes())
    return root


@pytest.fixture
def open_ws() -> Iterator[Callable[[Path], Workspace]]:
    opened: list[Workspace] = []

    def opener(root: Path) -> Workspace:
        ws = Workspace.open(root)
        opened.append(ws)
        return ws

    yield opener
    for ws in opened:
        ws.close()
