from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nexus.engine import Workspace
from nexus.engine.context import ContextStore
from nexus.engine.graph import GraphStore

# A small workspace in all five languages whose files import and call each other.
PROJECT: dict[str, str] = {
    "app/__init__.py": "",
    "app/config.py": (
        "DEFAULTS = {'port': 8080}\n\n\n"
        "def load_settings():\n"
        "    \"\"\"Read the settings file.\"\"\"\n"
        "    return dict(DEFAULTS)\n\n\n"
        "def get_config(name):\n"
        "    \"\"\"Read one setting.\"\"\"\n"
        "    return load_settings()[name]\n"
    ),
    "app/server.py": (
        "from .config import get_config\n"
        "from . import util\n\n\n"
        "class Server:\n"
        "    def __init__(self):\n"
        "        self.port = get_config('port')\n\n"
        "    def start(self):\n"
        "        util.log_line('starting')\n"
        "        return self.bind(self.port)\n\n"
        "    def bind(self, port):\n"
        "        return port\n"
    ),
    "app/util.py": "def log_line(text):\n    return text.upper()\n",
    "app/cli.py": "from app.server import Server\n\n\ndef main():\n    return Server().start()\n",
    "web/api.ts": "export function request(url: string): string {\n  return url;\n}\n",
    "web/client.ts": (
        "import { request } from './api';\n\n"
        "export function fetchUser(id: number): string {\n  return request('/users/' + id);\n}\n"
    ),
    "java/com/acme/Greeter.java": (
        "package com.acme;\n\npublic class Greeter {\n  public static String greet(String who) {\n"
        "    return \"hi \" + who;\n  }\n}\n"
    ),
    "java/com/acme/Main.java": (
        "package com.acme;\n\nimport com.acme.Greeter;\n\npublic class Main {\n"
        "  public static void main(String[] args) {\n    System.out.println(Greeter.greet(\"x\"));\n  }\n}\n"
    ),
    "native/math.h": "int square(int x);\n",
    "native/math.c": "#include \"math.h\"\n\nint square(int x) {\n  return x * x;\n}\n",
    "native/main.c": "#include \"math.h\"\n\nint main(void) {\n  return square(3);\n}\n",
}


def write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    write(root, PROJECT)
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
        for cls in (GraphStore, ContextStore):
            for key in [k for k in cls._open if k.startswith(str(ws.index_dir))]:
                cls._open[key].close()
        ws.close()


@pytest.fixture
def indexed(project: Path, open_ws: Callable[[Path], Workspace]) -> Workspace:
    ws = open_ws(project)
    ws.index()
    return ws
