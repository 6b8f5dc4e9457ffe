"""`nexus ask --agent` as a user runs it: the proposal is shown with its verification, and the file
changes only when the user says yes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.assistant.conftest import model_env
from tests.support.fake_llm import FakeLLM, Reply

from .conftest import CALC, FIX


def ask(root: Path, env: dict[str, str], *args: str, answer: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nexus.cli", "ask", "--agent", "--root", str(root), "--provider",
                           "anthropic", *args, "test_add fails, fix it"], env=env, input=answer,
                          capture_output=True, text=True, timeout=150)


def script(fake: FakeLLM) -> None:
    fake.script("anthropic", Reply.tools(("files_read", {"path": "calc.py"}), text="Reading calc.py."),
                Reply.tools(("edit_propose", FIX)), Reply(text="Proposed a + b."))


@pytest.mark.timeout(300)
def test_the_file_changes_only_when_the_user_accepts(repo: Path, tmp_path: Path, fake_llm: FakeLLM) -> None:
    env = model_env(fake_llm, tmp_path)
    script(fake_llm)
    declined = ask(repo, env, answer="n\n")
    assert declined.returncode == 0, declined.stderr
    assert declined.stdout.startswith("Reading calc.py.Proposed a + b.")
    assert "+    return a + b" in declined.stdout and "verified: 3 passed (pytest, exit 0)" in declined.stdout
    assert "Not applied." in declined.stdout and "✓ files_read calc.py" in declined.stderr
    assert (repo / "calc.py").read_text() == CALC

    script(fake_llm)
    accepted = ask(repo, env, answer="y\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "Applied to calc.py." in accepted.stdout
    assert "return a + b" in (repo / "calc.py").read_text()


@pytest.mark.timeout(300)
def test_json_output_and_apply(repo: Path, tmp_path: Path, fake_llm: FakeLLM) -> None:
    script(fake_llm)
    done = ask(repo, model_env(fake_llm, tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert [s["tool"] for s in result["steps"]] == ["files_read", "edit_propose"]
    assert result["proposals"][0]["verification"]["verified"] is True
    assert (repo / "calc.py").read_text() == CALC  # --json alone applies nothing
