"""Shared set-up for the editor-client tests: the fixture workspace, the server command, Node tooling
and a fake model server the real `nexus lsp` is pointed at (tests/support/fake_llm.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_llm import FakeLLM, Reply

ROOT = Path(__file__).resolve().parents[2]
VSCODE_DIR = ROOT / "editors" / "vscode"
NEOVIM_DIR = ROOT / "editors" / "neovim"
FIXTURE_WORKSPACE = Path(__file__).parent / "fixtures" / "workspace"

# What the fake model answers: chunks at an interval, so a test can cancel mid-stream.
MODEL_TEXT = "nexus_fake_model_answer"
MODEL_REPLY = Reply(chunks=(MODEL_TEXT, " is", " streamed", " in", " pieces", "."), chunk_interval=0.15)

# jedi may answer late on a cold start; these tests check its answers, not the server's fallback.
JEDI_BUDGETS = {k: 60_000 for k in ("completion", "definition", "hover", "signatureHelp", "references",
                                    "highlight", "rename")}


def server_command() -> list[str]:
    return [sys.executable, "-m", "nexus.cli", "lsp"]


def run(cmd: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs a tool; a failure shows its whole output."""
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}\n"
                    f"--- stderr\n{proc.stderr[-6000:]}", pytrace=False)
    return proc


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A writable copy of the fixture workspace (the server may write next to the files)."""
    target = tmp_path / "workspace"
    shutil.copytree(FIXTURE_WORKSPACE, target)
    return target


@pytest.fixture(scope="module")
def module_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("editors") / "workspace"
    shutil.copytree(FIXTURE_WORKSPACE, target)
    return target


@pytest.fixture(scope="module")
def fake_model() -> Iterator[FakeLLM]:
    with FakeLLM(default=MODEL_REPLY) as server:
        yield server


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """editors/vscode with its npm dependencies (scripts/test.sh runs `npm ci`; this covers a bare
    `pytest` run in a fresh checkout)."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.fail("node and npm are needed for the VS Code extension tests (Node 20+)", pytrace=False)
    if not (VSCODE_DIR / "node_modules" / ".package-lock.json").is_file():
        run(["npm", "ci", "--no-audit", "--no-fund"], VSCODE_DIR, timeout=600)
    return VSCODE_DIR / "node_modules"


def server_env(fake: FakeLLM, home: Path) -> dict[str, str]:
    """The test process's environment with every provider pointed at the fake model."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_", "GEMINI_"))}
    env.update(fake.env())
    env["NEXUS_CACHE_DIR"] = str(home / "cache")
    env["NEXUS_CONFIG_DIR"] = str(home / "config")
    return env
