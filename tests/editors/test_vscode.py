"""The VS Code extension without downloading VS Code: type-check, unit tests, bundle, `.vsix`, and the
protocol test in which Microsoft's node LSP client drives the real `nexus lsp`."""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .conftest import MODEL_TEXT, VSCODE_DIR, run, server_command, server_env

# The first test of a module also pays for its shared fixture (npm ci, a whole protocol session).
pytestmark = pytest.mark.timeout(300)

BIN = VSCODE_DIR / "node_modules" / ".bin"
PROTOCOL_TESTS = (
    "initialize: the server names itself and offers completion and definition",
    "completion in Python lists the members of a Circle",
    "definition in Python goes from app.py to the class in shapes.py",
    "completion in TypeScript offers the workspace function makeSquare",
    "definition in TypeScript goes from main.ts to geometry.ts",
    "nexus/search finds a symbol by name",
    "nexus/status reports the workspace folder",
    "nexus/reindex answers with the folders it indexed or started",
    "inline completion returns the model's text as ghost text",
    "nexus/chat streams deltas, then the answer with its context receipt",
    "cancelling nexus/chat ends the request with RequestCancelled",
    "the nexus.explain code-action command answers in the nexus/chat shape",
    "nexus/run runs a # %% cell and streams the kernel's output",
)


@pytest.fixture(scope="module")
def built_tests(node_modules: Path) -> Path:
    run(["node", "esbuild.mjs", "--tests"], VSCODE_DIR)
    return VSCODE_DIR / "out"


def test_typecheck(node_modules: Path) -> None:
    run([str(BIN / "tsc"), "--noEmit", "-p", "."], VSCODE_DIR)


def test_unit_tests(built_tests: Path) -> None:
    proc = run(["node", "--test", "out/test/"], VSCODE_DIR)
    assert "# fail 0" in proc.stdout
    assert "# pass 0" not in proc.stdout


def test_bundle(node_modules: Path) -> None:
    run(["node", "esbuild.mjs", "--production"], VSCODE_DIR)
    bundle = (VSCODE_DIR / "dist" / "extension.js").read_text(encoding="utf-8")
    assert "nexus/chat" in bundle and "textDocument/inlineCompletion" in bundle
    # Only `vscode` (and Node's own modules) stay outside the bundle: no npm package is required at run time.
    requires = set(re.findall(r"require\([\"']([^\"']+)[\"']\)", bundle))
    packages = {p.name for p in node_modules.iterdir()} | {f"{s.name}/{p.name}" for s in node_modules.glob("@*")
                                                            for p in s.iterdir()}
    assert "vscode" in requires
    assert not {r.split("/")[0] for r in requires} & packages - {"vscode"}, requires


def test_vsix(node_modules: Path, tmp_path: Path) -> None:
    target = tmp_path / "nexus.vsix"
    run([str(BIN / "vsce"), "package", "--no-dependencies", "--allow-missing-repository", "-o", str(target)],
        VSCODE_DIR, timeout=300)
    with zipfile.ZipFile(target) as vsix:
        names = set(vsix.namelist())
        manifest = json.loads(vsix.read("extension/package.json"))
    assert {"extension/package.json", "extension/dist/extension.js", "extension.vsixmanifest"} <= names
    assert not any("node_modules" in n or "/src/" in n or n.endswith(".ts") for n in names), sorted(names)
    assert manifest["main"] == "./dist/extension.js"
    assert {c["command"] for c in manifest["contributes"]["commands"]} >= {
        "nexus.ask", "nexus.explainSelection", "nexus.runCell", "nexus.runFile", "nexus.runSelection",
        "nexus.searchWorkspace", "nexus.rebuildIndex", "nexus.restartServer", "nexus.showLogs"}


@pytest.fixture(scope="module")
def protocol_results(built_tests: Path, module_workspace: Path, fake_model: Any,
                     tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Runs the node protocol test once; one JSON record per test (and per failed suite)."""
    home = tmp_path_factory.mktemp("protocol-home")
    report = home / "report.jsonl"
    env = server_env(fake_model, home)
    env["NEXUS_SERVER_COMMAND"] = json.dumps(server_command())
    env["NEXUS_WORKSPACE"] = str(module_workspace)
    env["NEXUS_TEST_MODEL_TEXT"] = MODEL_TEXT
    proc = subprocess.run(
        ["node", "--test", "--test-reporter=spec", "--test-reporter-destination=stdout",
         "--test-reporter=./protocol/jsonReporter.mjs", f"--test-reporter-destination={report}", "out/protocol/"],
        cwd=VSCODE_DIR, capture_output=True, text=True, timeout=600, env=env)
    if not report.is_file():
        pytest.fail(f"node wrote no report (exit {proc.returncode})\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}",
                    pytrace=False)
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = {r["name"]: r | {"log": proc.stdout[-4000:] + proc.stderr[-4000:]} for r in records}
    return results


@pytest.mark.parametrize("name", PROTOCOL_TESTS)
def test_protocol(protocol_results: dict[str, dict[str, Any]], name: str) -> None:
    record = protocol_results.get(name)
    assert record is not None, f"the node protocol test did not report {name!r}"
    if record["outcome"] == "skipped":
        pytest.skip(record["reason"] or "skipped by the protocol test")
    if record["outcome"] == "failed":
        suite = [r for r in protocol_results.values() if r["nesting"] == 0 and r["outcome"] == "failed"]
        pytest.fail(f"{record['error']}\n{suite[0]['error'] if suite else ''}\n{record['log']}", pytrace=False)


def test_protocol_reports_every_test(protocol_results: dict[str, dict[str, Any]]) -> None:
    tests = {name for name, r in protocol_results.items() if r["nesting"] > 0}
    assert tests == set(PROTOCOL_TESTS)
