"""`nexus index`, `nexus search` and `nexus status` as a user runs them: real subprocesses, real index."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def nexus(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "settings.py").write_text(
        "def get_config(key):\n    \"\"\"Look up a configuration value.\"\"\"\n    return CONFIG[key]\n\nCONFIG = {}\n")
    (tmp_path / "pkg" / "view.ts").write_text("export class ConfigView {\n  render(): string { return 'x'; }\n}\n")
    (tmp_path / "blob.js").write_bytes(b"\x00\x01binary")
    return tmp_path


def test_index_json_summary(root: Path) -> None:
    done = nexus("index", str(root), "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["files"] == 2 and summary["filesByLanguage"] == {"python": 1, "typescript": 1}
    assert summary["symbols"] == 4 and summary["skipped"] == [{"path": "blob.js", "reason": "binary file"}]
    table = nexus("index", str(root))
    assert table.returncode == 0 and "python" in table.stdout and "1 skipped" in table.stdout
    assert "0 parsed, 2 unchanged" in table.stdout


def test_search_indexes_first_and_prints_json(root: Path) -> None:
    done = nexus("search", "gCo", "--root", str(root), "--symbols", "--json")
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results[0] == {"path": "pkg/settings.py", "line": 1, "column": 5, "name": "get_config",
                          "kind": "function", "container": "", "signature": "def get_config(key)",
                          "language": "python", "score": results[0]["score"]}
    text = json.loads(nexus("search", "configuration value", "--root", str(root), "--json").stdout)
    assert text[0]["path"] == "pkg/settings.py" and text[0]["line"] == 1 and text[0]["score"] > 0
    files = json.loads(nexus("search", "render", "--root", str(root), "--files", "--json").stdout)
    assert [f["path"] for f in files] == ["pkg/view.ts"]
    only_ts = json.loads(nexus("search", "config", "--root", str(root), "--symbols", "--lang", "ts", "--json").stdout)
    assert {r["language"] for r in only_ts} == {"typescript"}
    limited = json.loads(nexus("search", "c", "--root", str(root), "--symbols", "--limit", "1", "--json").stdout)
    assert len(limited) == 1
    human = nexus("search", "get_config", "--root", str(root), "--symbols")
    assert "pkg/settings.py:1" in human.stdout and "get_config" in human.stdout


def test_status(root: Path) -> None:
    before = json.loads(nexus("status", "--root", str(root), "--json").stdout)
    assert before["indexed"] is False
    nexus("index", str(root))
    after = json.loads(nexus("status", "--root", str(root), "--json").stdout)
    assert after["indexed"] and after["files"] == 2 and after["schemaVersion"] == 2 and after["sizeOnDisk"] > 0
    assert (after["pending"], after["writer"], after["interrupted"], after["lastCommitComplete"]) == (0, None, False, True)
    assert "symbols" in nexus("status", "--root", str(root)).stdout


def test_errors_are_clear(tmp_path: Path) -> None:
    missing = nexus("index", str(tmp_path / "nope"))
    assert missing.returncode != 0 and "does not exist" in missing.stderr and "Traceback" not in missing.stderr
    bad_lang = nexus("search", "x", "--root", str(tmp_path), "--lang", "cobol")
    assert bad_lang.returncode == 1 and "unknown language 'cobol'" in bad_lang.stderr
