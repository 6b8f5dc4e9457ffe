"""A small indexed project, the fake model server (tests/support/fake_llm.py) and environments that
point a `nexus lsp` / `nexus ask` subprocess at it (or at no provider at all)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nexus.engine import Workspace
from nexus.engine.config import Settings
from nexus.engine.graph import sync
from tests.support.fake_llm import FakeLLM

GEOMETRY = '''"""Shapes for the assistant tests."""

import math


class Circle:
    def __init__(self, radius: float) -> None:
        self.radius = radius

    def area(self) -> float:
        return math.pi * self.radius ** 2


def scale(circle: Circle, factor: float) -> Circle:
    return Circle(circle.radius * factor)
'''

REPORT = '''from pkg.geometry import Circle, scale


def describe(circle: Circle) -> str:
    return f"circle of area {circle.area():.2f}"

# %% first
value = 40
print("first cell", value)

# %% second
from pkg.geometry import Circle, scale
print("second cell", value + 2, round(scale(Circle(1.0), 2.0).area(), 2))
'''

UTIL_JS = '''function add(a, b) {
  return a + b;
}

module.exports = { add };
'''


def write_project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "web").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "geometry.py").write_text(GEOMETRY)
    (root / "pkg" / "report.py").write_text(REPORT)
    (root / "web" / "util.js").write_text(UTIL_JS)
    return root


def index(root: Path) -> None:
    with Workspace.open(root, Settings({})) as ws:
        ws.index()
        sync(ws)


def base_env(home: Path) -> dict[str, str]:
    """This process's environment without any provider key, with private cache and config folders."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ANTHROPIC_", "OPENAI_", "GEMINI_", "NEXUS_"))}
    env["NEXUS_CACHE_DIR"] = str(home / "cache")
    env["NEXUS_CONFIG_DIR"] = str(home / "config")
    env["NEXUS_KERNELS_POOL"] = ""  # no pre-started pool kernels: the tests start what they use
    return env


def model_env(fake: FakeLLM, home: Path) -> dict[str, str]:
    """Every provider pointed at the fake server; no retries, so a scripted failure falls back at once."""
    env = base_env(home)
    env.update(fake.env())
    env["NEXUS_PROVIDERS_MAX_RETRIES"] = "0"
    return env


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEXUS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NEXUS_CONFIG_DIR", str(tmp_path / "config"))
    root = write_project(tmp_path / "project")
    index(root)
    return root
