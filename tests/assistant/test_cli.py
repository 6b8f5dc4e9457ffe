"""`nexus ask` as a user runs it: a subprocess, with the fake model server or with no provider at all."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.fake_llm import FakeLLM, Reply, fake_llm  # noqa: F401 - the fixture

from .conftest import base_env, model_env, write_project


def ask(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nexus.cli", "ask", *args], env=env, capture_output=True,
                          text=True, timeout=120)


def test_ask_streams_the_answer_then_prints_the_receipt(tmp_path: Path, fake_llm: FakeLLM) -> None:  # noqa: F811
    root = write_project(tmp_path / "project")
    fake_llm.script("anthropic", Reply(chunks=("Circle.area ", "returns ", "pi r².")))
    done = ask(["--root", str(root), "how", "is", "the", "area", "of", "a", "Circle", "computed?"],
               model_env(fake_llm, tmp_path))
    assert done.returncode == 0, done.stderr
    answer, _, receipt = done.stdout.partition("\n\nContext used (")
    assert answer == "Circle.area returns pi r²."
    assert "pkg/geometry.py:" in receipt and "ranked for the query" in receipt
    assert "anthropic · claude-sonnet-5-5 · " in done.stderr  # the usage line
    assert fake_llm.requests_to("anthropic")[-1].prompt_text.endswith("how is the area of a Circle computed?")

    fake_llm.script("anthropic", Reply(text="It scales the radius."))
    as_json = ask(["--root", str(root), "--file", "pkg/geometry.py:15", "--model", "claude-opus-5-5", "--json",
                   "what does this do?"], model_env(fake_llm, tmp_path))
    assert as_json.returncode == 0, as_json.stderr
    result = json.loads(as_json.stdout)
    assert result["text"] == "It scales the radius." and result["generated"] is True
    assert result["model"] == "claude-opus-5-5" and result["usage"]["provider"] == "anthropic"
    focus = result["receipt"][0]
    assert (focus["path"], focus["lines"], focus["kind"]) == ("pkg/geometry.py", [14, 15], "definition")


def test_ask_without_a_provider_answers_from_the_index_and_says_so(tmp_path: Path) -> None:
    root = write_project(tmp_path / "project")
    done = ask(["--root", str(root), "how is the area of a circle computed?"], base_env(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("**Not model-generated:** no AI provider is configured")
    assert "ANTHROPIC_API_KEY" in done.stdout and "### pkg/geometry.py:" in done.stdout
    assert "\nContext used (" in done.stdout
    as_json = json.loads(ask(["--root", str(root), "--json", "Circle area"], base_env(tmp_path)).stdout)
    assert as_json["generated"] is False and as_json["usage"] == {} and as_json["receipt"]


def test_ask_reports_bad_usage_and_provider_failures(tmp_path: Path, fake_llm: FakeLLM) -> None:  # noqa: F811
    root = write_project(tmp_path / "project")
    named = ask(["--root", str(root), "--provider", "openai", "hi"], base_env(tmp_path))
    assert named.returncode == 2 and "openai is not configured: set OPENAI_API_KEY" in named.stderr
    assert ask(["--root", str(root), "--file", "nope.py", "hi"], base_env(tmp_path)).returncode == 2
    fake_llm.script("anthropic", Reply(chunks=("Half ", "an ", "answer"), cut_after=2))
    broken = ask(["--root", str(root), "--provider", "anthropic", "hi"], model_env(fake_llm, tmp_path))
    assert broken.returncode == 1 and broken.stdout.startswith("Half an ")
    assert "the answer broke off" in broken.stderr
