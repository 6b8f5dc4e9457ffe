"""The index follows HEAD moves: a checkout that changes a file but leaves its size and mtime as they
were is still re-read, because git says it changed."""

from __future__ import annotations

import os
from pathlib import Path

from nexus.engine import Workspace
from tests.support.gitrepo import GitRepo


def test_a_checkout_that_keeps_size_and_mtime_is_reindexed(tmp_path: Path) -> None:
    g = GitRepo(tmp_path / "p")
    g.commit("one", {"a.py": "def alpha():\n    return 1\n", "b.py": "def beta():\n    return 2\n"})
    g.git("checkout", "-q", "-b", "other")
    g.commit("rename the function", {"a.py": "def gamma():\n    return 1\n"})  # same size as alpha
    g.git("checkout", "-q", "main")
    stat = (g.root / "a.py").stat()
    with Workspace.open(g.root) as ws:
        first = ws.index()
        assert first.parsed == 2 and [p for p, _ in ws.definitions("alpha")] == ["a.py"]
        g.git("checkout", "-q", "other")
        os.utime(g.root / "a.py", ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as a time-preserving tool would
        assert (g.root / "a.py").stat().st_size == stat.st_size
        second = ws.index()
        assert second.parsed == 1 and second.unchanged == 1  # only what the checkout changed
        assert [p for p, _ in ws.definitions("gamma")] == ["a.py"] and ws.definitions("alpha") == []
        assert ws.index().parsed == 0  # HEAD did not move again: nothing to re-read


def test_a_folder_outside_git_indexes_as_before(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def alpha():\n    return 1\n")
    with Workspace.open(tmp_path) as ws:
        assert ws.index().parsed == 1 and ws.index().parsed == 0
