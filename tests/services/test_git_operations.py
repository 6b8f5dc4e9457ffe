"""The git operations and the two AI git tasks through the registry, on real repositories, with a real
model server (tests/support/fake_llm.py) behind the real provider SDKs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nexus.engine import Workspace
from nexus.engine.config import Settings, load_settings
from nexus.engine.providers import ProviderRouter
from nexus.services import Backends, Call, Registry
from nexus.services.errors import OperationError
from nexus.services.workspace import WorkspaceHandle
from tests.support.fake_llm import FakeLLM, Reply, fake_llm  # noqa: F401
from tests.support.gitrepo import GitRepo

KEYS = {"ANTHROPIC_API_KEY": "git-test-key"}


@pytest.fixture
def project(tmp_path: Path) -> GitRepo:
    g = GitRepo(tmp_path / "proj")
    g.commit("Add the retry policy", {
        "net/retry.py": "def backoff(attempt):\n    return 2 ** attempt\n",
        "app.py": "from net.retry import backoff\n\n\ndef main():\n    return backoff(3)\n"})
    g.commit("Cap the backoff", {"net/retry.py": "def backoff(attempt):\n    return min(2 ** attempt, 60)\n"})
    with Workspace.open(g.root) as ws:
        ws.index()
    return g


async def result(registry: Registry, backends: Backends, name: str, payload: dict[str, object]) -> object:
    return await registry.result(name, payload, Call(backends))


@pytest.fixture
async def backends(project: GitRepo) -> AsyncIterator[Backends]:
    opened = Backends.open(project.root, load_settings(project.root), providers=False)
    yield opened
    await opened.aclose()


async def test_status_diff_log_blame(registry: Registry, backends: Backends, project: GitRepo) -> None:
    project.write("net/retry.py", "def backoff(attempt):\n    return min(2 ** attempt, 30)\n")
    project.write("app.py", "from net.retry import backoff\n\n\ndef main():\n    return backoff(4)\n")
    project.git("add", "app.py")
    status = await result(registry, backends, "git.status", {})
    assert status["head"]["branch"] == "main" and status["head"]["subject"] == "Cap the backoff"  # type: ignore[index]
    assert [(f["path"], f["index"], f["worktree"]) for f in status["files"]] == [  # type: ignore[index]
        ("app.py", "modified", ""), ("net/retry.py", "", "modified")]
    staged = await result(registry, backends, "git.diff", {"staged": True})
    assert [f["path"] for f in staged["files"]] == ["app.py"] and "+    return backoff(4)" in staged["patch"]  # type: ignore[index]
    unstaged = await result(registry, backends, "git.diff", {"paths": ["net"]})
    assert [f["path"] for f in unstaged["files"]] == ["net/retry.py"]  # type: ignore[index]
    log = await result(registry, backends, "git.log", {"path": "net/retry.py", "limit": 5})
    assert [c["subject"] for c in log["commits"]] == ["Cap the backoff", "Add the retry policy"]  # type: ignore[index]
    blame = await result(registry, backends, "git.blame", {"path": "net/retry.py", "startLine": 2, "endLine": 2})
    assert [(r["startLine"], r["subject"]) for r in blame["ranges"]] == [(2, "Cap the backoff")]  # type: ignore[index]


async def test_bad_input_gets_clear_errors(registry: Registry, backends: Backends, tmp_path: Path) -> None:
    for name, payload, code in [("git.log", {"ref": "no-such-branch"}, "not_found"),
                                ("git.blame", {"path": "../outside.py"}, "invalid_path"),
                                ("git.blame", {"path": "new_file.py"}, "not_found"),
                                ("git.diff", {"ref": "HEAD~99"}, "not_found"),
                                ("git.log", {"limit": 0}, "bad_request")]:
        with pytest.raises(OperationError) as caught:
            await result(registry, backends, name, payload)
        assert caught.value.code == code, (name, payload, caught.value.message)
    plain = tmp_path / "plain"
    plain.mkdir()
    outside = Backends.open(plain, load_settings(plain), providers=False)
    try:
        with pytest.raises(OperationError) as caught:
            await result(registry, outside, "git.status", {})
        assert caught.value.code == "unavailable" and "not in a git repository" in caught.value.message
    finally:
        await outside.aclose()


@pytest.fixture
async def ai(project: GitRepo, fake_llm: FakeLLM) -> AsyncIterator[Backends]:  # noqa: F811
    settings = Settings({"providers": {"order": ["anthropic"], "max_retries": 0},
                         "anthropic": {"base_url": fake_llm.base_url("anthropic")}})
    router = ProviderRouter.from_settings(settings, env=KEYS)
    opened = Backends(project.root, settings, WorkspaceHandle(project.root, settings), providers=router)
    yield opened
    await opened.aclose()


async def test_commit_message_streams_from_the_staged_diff(registry: Registry, ai: Backends, project: GitRepo,
                                                          fake_llm: FakeLLM) -> None:  # noqa: F811
    with pytest.raises(OperationError) as caught:
        await result(registry, ai, "ai.commit_message", {})
    assert caught.value.code == "bad_request" and "git add" in caught.value.message
    project.write("net/retry.py", "def backoff(attempt):\n    return min(2 ** attempt, 30)\n")
    project.git("add", "net/retry.py")
    fake_llm.script("anthropic", Reply(chunks=("Lower the ", "backoff cap to 30 s")))
    items = [item async for item in registry.call("ai.commit_message", {}, Call(ai))]
    assert [i.kind for i in items] == ["ai:delta", "ai:delta", "ai:done"]
    done = items[-1].data
    assert done["message"] == "Lower the backoff cap to 30 s" and done["files"] == ["net/retry.py"]
    sent = fake_llm.requests[-1].prompt_text
    assert "+    return min(2 ** attempt, 30)" in sent and "Cap the backoff" in sent  # diff and recent style
    assert "backoff" in sent.split("Definitions the change touches:")[1]  # grounded in the index
    assert [p["kind"] for p in done["receipt"]["pieces"]] == ["diff", "history"]


async def test_review_reports_findings_with_file_and_line(registry: Registry, ai: Backends, project: GitRepo,
                                                         fake_llm: FakeLLM) -> None:  # noqa: F811
    project.write("net/retry.py", "def backoff(attempt):\n    return 2 ** attempt / 0\n")
    fake_llm.script("anthropic", Reply(text="net/retry.py:2: error: division by zero always raises\n"
                                            "app.py:5: warning: main now always fails\n"
                                            "made/up.py:1: error: a path the model invented\n"
                                            "Overall: do not merge."))
    items = [item async for item in registry.call("ai.review", {"ref": "HEAD"}, Call(ai))]
    done = items[-1].data
    assert items[-1].kind == "ai:reviewed" and done["files"] == ["net/retry.py"]
    assert [(f["path"], f["line"], f["severity"]) for f in done["findings"]] == [
        ("net/retry.py", 2, "error"), ("app.py", 5, "warning")]
    sent = fake_llm.requests[-1].prompt_text
    assert "graph neighbourhood" in sent and "5:     return backoff(3)" in sent  # the caller, from the graph
    assert {p["kind"] for p in done["receipt"]["pieces"]} == {"diff", "caller"}


async def test_chat_is_grounded_in_the_changed_files(registry: Registry, ai: Backends, project: GitRepo,
                                                     fake_llm: FakeLLM) -> None:  # noqa: F811
    from nexus.engine.vcs import changed_files

    for i in range(60):  # committed, unrelated files: more than the mtime recency keeps, as after a clone
        project.write(f"pkg/mod{i}.py", f"def helper{i}():\n    return {i}\n")
    project.commit("Add helpers")
    with Workspace.open(project.root) as ws:
        ws.index()
    project.write("pkg/mod37.py", "def helper37():\n    return 'edited'\n")
    assert changed_files(project.root) == ("pkg/mod37.py",)
    fake_llm.script("anthropic", Reply(text="ok"))
    done = await result(registry, ai, "ai.chat", {"prompt": "what am I working on?", "budget": 400})
    assert "pkg/mod37.py" in {p["path"] for p in done["receipt"]["pieces"]}  # type: ignore[index]


async def test_search_files_with_model_rerank(registry: Registry, ai: Backends, fake_llm: FakeLLM) -> None:  # noqa: F811
    plain = await result(registry, ai, "search", {"query": "backoff attempt", "mode": "files"})
    order = [h["path"] for h in plain["hits"]]  # type: ignore[index]
    assert len(order) == 2 and plain["rerankedBy"] is None  # type: ignore[index]
    fake_llm.script("anthropic", Reply(text="2 1"))
    reranked = await result(registry, ai, "search", {"query": "backoff attempt", "mode": "files", "rerank": True})
    assert [h["path"] for h in reranked["hits"]] == order[::-1]  # type: ignore[index]
    assert reranked["rerankedBy"].startswith("anthropic/")  # type: ignore[index]
    assert [h["signals"]["rerank"] for h in reranked["hits"]] == [1, 2]  # type: ignore[index]
    sent = fake_llm.requests[-1].prompt_text
    assert "Request: backoff attempt" in sent and f"[1] {order[0]}" in sent and "def backoff" in sent
    fake_llm.script("anthropic", Reply(text="I cannot tell."))
    kept = await result(registry, ai, "search", {"query": "backoff attempt", "mode": "files", "rerank": True})
    assert [h["path"] for h in kept["hits"]] == order and kept["rerankedBy"] is None  # type: ignore[index]
