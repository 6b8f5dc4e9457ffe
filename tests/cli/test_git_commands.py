"""`nexus commit-message` and `nexus review` as a user runs them: real subprocesses, a real repository,
a real model server behind the real SDKs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.support.fake_llm import FakeLLM, Reply, fake_llm  # noqa: F401
from tests.support.gitrepo import GitRepo


def nexus(fake: FakeLLM, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **fake.env(), "NEXUS_PROVIDERS_ORDER": "anthropic", "NEXUS_PROVIDERS_MAX_RETRIES": "0"}
    return subprocess.run([sys.executable, "-m", "nexus.cli", *args], capture_output=True, text=True, timeout=120,
                          env=env)


def test_commit_message_and_review(tmp_path: Path, fake_llm: FakeLLM) -> None:  # noqa: F811
    g = GitRepo(tmp_path / "proj")
    g.commit("Add the parser", {"parser.py": "def parse(text):\n    return text.split()\n"})
    nothing = nexus(fake_llm, "commit-message", "--root", str(g.root))
    assert nothing.returncode == 1 and "git add" in nothing.stderr
    g.write("parser.py", "def parse(text):\n    return text.split(',')\n")
    g.git("add", "parser.py")
    fake_llm.script("anthropic", Reply(chunks=("Split on ", "commas")))
    done = nexus(fake_llm, "commit-message", "--root", str(g.root))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Split on commas\n"
    assert "+    return text.split(',')" in fake_llm.requests[-1].prompt_text
    fake_llm.script("anthropic", Reply(text="parser.py:2: warning: empty fields are kept\nLooks fine otherwise."))
    reviewed = nexus(fake_llm, "review", "HEAD", "--root", str(g.root), "--json")
    assert reviewed.returncode == 0, reviewed.stderr
    found = json.loads(reviewed.stdout)
    assert found["findings"] == [{"path": "parser.py", "line": 2, "severity": "warning",
                                  "message": "empty fields are kept"}]
    bad = nexus(fake_llm, "review", "no-such-ref", "--root", str(g.root))
    assert bad.returncode == 1 and "no-such-ref" in bad.stderr
