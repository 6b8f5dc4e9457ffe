"""The version-control reader on real repositories made by the ``git`` command."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from nexus.engine.vcs import (
    BadRevision,
    RevisionNotFound,
    VcsError,
    blame,
    changed_between,
    diff,
    history,
    line_author,
    log_commits,
    open_repository,
    patch_text,
)
from tests.support.gitrepo import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    g = GitRepo(tmp_path / "proj")
    g.commit("Start the parser", {"src/parser.py": "def parse(text):\n    return text.split()\n",
                                  "README.md": "# proj\n"})
    g.commit("Teach the parser about quotes", {"src/parser.py": "def parse(text):\n    # quotes\n"
                                               "    return text.split()\n"})
    return g


def test_a_folder_outside_any_repository_has_none(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    assert open_repository(tmp_path / "plain") is None


def test_head_branch_and_subject(repo: GitRepo) -> None:
    r = open_repository(repo.root)
    assert r is not None
    head = r.head()
    assert head.branch == "main" and not head.detached and not head.shallow and head.state == "none"
    assert head.commit == repo.git("rev-parse", "HEAD")
    assert head.subject == "Teach the parser about quotes"


def test_status_staged_unstaged_untracked_and_renamed(repo: GitRepo) -> None:
    repo.write("src/parser.py", "def parse(text):\n    return []\n")
    repo.write("notes.txt", "todo\n")
    repo.git("mv", "README.md", "README.rst")
    r = open_repository(repo.root)
    assert r is not None
    by_path = {s.path: s for s in r.status()}
    assert by_path["src/parser.py"].worktree == "modified" and by_path["src/parser.py"].index == ""
    assert by_path["notes.txt"].worktree == "untracked"
    assert by_path["README.rst"].index == "added" and by_path["README.md"].index == "deleted"
    assert "README.md" not in r.changed_paths() and "src/parser.py" in r.changed_paths()


def test_diffs_unstaged_staged_against_a_ref_and_between_commits(repo: GitRepo) -> None:
    first = repo.git("rev-parse", "HEAD~1")
    repo.write("src/parser.py", "def parse(text):\n    # quotes\n    return text.split(',')\n")
    repo.write("src/lexer.py", "TOKENS = []\n")
    repo.git("add", "src/lexer.py")
    r = open_repository(repo.root)
    assert r is not None
    unstaged = diff(r)
    assert [f.path for f in unstaged] == ["src/parser.py"]
    assert unstaged[0].additions == 1 and unstaged[0].deletions == 1
    assert "+    return text.split(',')" in unstaged[0].hunks[0].text
    staged = diff(r, staged=True)
    assert [(f.path, f.status) for f in staged] == [("src/lexer.py", "added")]
    against = {f.path for f in diff(r, ref=first)}
    assert against == {"src/parser.py"}  # the work tree vs the first commit (lexer.py is only staged)
    between = diff(r, ref=f"{first}..HEAD")
    assert [f.path for f in between] == ["src/parser.py"] and "+    # quotes" in patch_text(between)


def test_binary_diff_is_named_not_dumped(repo: GitRepo) -> None:
    repo.commit("Add a logo", {"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00\x00binary"})
    repo.write("logo.png", b"\x89PNG\r\n\x1a\n\x00\x01\x02other")
    r = open_repository(repo.root)
    assert r is not None
    (found,) = diff(r)
    assert found.binary and found.hunks == () and "(binary file)" in patch_text([found])


def test_a_huge_diff_is_bounded(repo: GitRepo) -> None:
    repo.write("src/big.py", "".join(f"x{i} = {i}\n" for i in range(20_000)))
    repo.git("add", "src/big.py")
    r = open_repository(repo.root)
    assert r is not None
    (found,) = diff(r, staged=True, max_bytes=10_000)
    assert found.truncated and found.additions == 20_000


def test_log_of_a_file_follows_only_its_changes_and_ranges_hide_the_base(repo: GitRepo) -> None:
    repo.commit("Document it", {"README.md": "# proj\nA parser.\n"})
    r = open_repository(repo.root)
    assert r is not None
    commits, capped = log_commits(r, path="src/parser.py")
    assert [c.subject for c in commits] == ["Teach the parser about quotes", "Start the parser"] and not capped
    ranged, _ = log_commits(r, rev="HEAD~2..HEAD")
    assert [c.subject for c in ranged] == ["Document it", "Teach the parser about quotes"]
    with pytest.raises(RevisionNotFound):
        log_commits(r, rev="no-such-branch")
    with pytest.raises(BadRevision):
        log_commits(r, rev="--all")


def test_history_sees_renames_merges_and_only_what_head_reaches(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "feature")
    repo.git("mv", "src/parser.py", "src/reader.py")
    repo.commit("Rename the parser to reader")
    repo.git("checkout", "-q", "-b", "elsewhere", "main")
    repo.commit("Unrelated branch work", {"other.py": "x = 1\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("Main moves on", {"README.md": "# proj v2\n"})
    repo.git("merge", "-q", "--no-ff", "-m", "Merge feature", "feature")
    r = open_repository(repo.root)
    assert r is not None
    found = history(r)
    subjects = [c.subject for c in found.commits]
    assert subjects[0] == "Merge feature" and "Unrelated branch work" not in subjects
    renamed = next(c for c in found.commits if c.subject.startswith("Rename"))
    assert set(renamed.files) == {"src/parser.py", "src/reader.py"}
    merge = found.commits[0]
    assert len(merge.parents) == 2 and set(merge.files) == {"src/parser.py", "src/reader.py"}  # vs the first parent
    assert found.complete and history(r) is found  # cached per HEAD


def test_the_walk_is_bounded(repo: GitRepo) -> None:
    for i in range(30):
        repo.commit(f"Step {i}", {"src/steps.py": f"STEP = {i}\n"})
    r = open_repository(repo.root)
    assert r is not None
    found = history(r, max_commits=10)
    assert len(found.commits) == 10 and not found.complete
    commits, capped = log_commits(r, path="README.md", max_commits=10)
    assert commits == [] and capped


def test_blame_names_the_commit_that_last_changed_a_line(repo: GitRepo) -> None:
    r = open_repository(repo.root)
    assert r is not None
    hunks = blame(r, "src/parser.py")
    assert sum(h.lines for h in hunks) == 3
    line2 = line_author(r, "src/parser.py", 2)
    assert line2 is not None and line2.subject == "Teach the parser about quotes" and line2.author == "Ada Lovelace"
    line1 = line_author(r, "src/parser.py", 1)
    assert line1 is not None and line1.subject == "Start the parser"
    with pytest.raises(RevisionNotFound, match="no history yet"):
        blame(r, "src/new.py")


def test_detached_head(repo: GitRepo) -> None:
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    r = open_repository(repo.root)
    assert r is not None
    head = r.head()
    assert head.detached and head.branch is None and head.subject == "Start the parser"
    assert [c.subject for c in history(r).commits] == ["Start the parser"]


def test_an_unborn_branch_has_no_commit_and_no_history(tmp_path: Path) -> None:
    g = GitRepo(tmp_path / "new")
    g.write("a.py", "x = 1\n")
    g.git("add", "a.py")
    r = open_repository(g.root)
    assert r is not None
    assert r.head().commit is None and r.head().branch == "main"
    assert history(r).commits == () and log_commits(r) == ([], False)
    assert [(f.path, f.status) for f in diff(r, staged=True)] == [("a.py", "added")]


def test_a_shallow_clone_stops_at_its_edge(repo: GitRepo, tmp_path: Path) -> None:
    for i in range(5):
        repo.commit(f"More {i}", {"src/more.py": f"N = {i}\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo.root}", str(clone)], check=True)
    r = open_repository(clone)
    assert r is not None
    found = history(r)
    assert r.head().shallow and len(found.commits) == 2 and not found.complete
    commits, _ = log_commits(r, path="src/parser.py")
    assert commits == []  # its changes are beyond the edge: no error, just nothing


def test_a_workspace_inside_a_repository_sees_its_own_paths(repo: GitRepo) -> None:
    repo.write("src/parser.py", "changed = True\n")
    repo.write("README.md", "changed\n")
    r = open_repository(repo.root / "src")
    assert r is not None
    assert [s.path for s in r.status()] == ["parser.py"]
    assert [f.path for f in diff(r)] == ["parser.py"]
    assert {f for c in history(r).commits for f in c.files} == {"parser.py"}
    assert blame(r, "parser.py")[0].subject == "Start the parser"


def test_changed_between_two_commits(repo: GitRepo) -> None:
    old = repo.git("rev-parse", "HEAD")
    repo.git("mv", "README.md", "docs.md")
    new = repo.commit("Move the readme", {"src/lexer.py": "T = 1\n"})
    r = open_repository(repo.root)
    assert r is not None
    assert changed_between(r, old, new) == ["README.md", "docs.md", "src/lexer.py"]
    with pytest.raises(VcsError):
        changed_between(r, "0" * 40, new)


def test_submodules_show_as_one_entry(repo: GitRepo, tmp_path: Path) -> None:
    lib = GitRepo(tmp_path / "lib")
    lib.commit("lib", {"lib.py": "L = 1\n"})
    repo.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib.root), "vendor/lib")
    repo.commit("Add lib as a submodule")
    (repo.root / "vendor/lib/lib.py").write_text("L = 2\n")
    r = open_repository(repo.root)
    assert r is not None
    (entry,) = [s for s in r.status() if s.path.startswith("vendor")]
    assert entry.path == "vendor/lib" and entry.submodule
    assert "vendor/lib" not in r.changed_paths()
    assert "vendor/lib/lib.py" not in {f for c in history(r).commits for f in c.files}


def test_a_rebase_in_progress_is_reported_and_readable(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD~1")
    repo.git("checkout", "-q", "-b", "topic", base)
    repo.commit("Topic edits the parser", {"src/parser.py": "def parse(text):\n    return list(text)\n"})
    done = subprocess.run(["git", "rebase", "main"], cwd=repo.root, capture_output=True, text=True,
                          env={**__import__("os").environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b",
                               "GIT_COMMITTER_NAME": "a", "GIT_COMMITTER_EMAIL": "a@b"})
    assert done.returncode != 0  # a conflict stops it half way
    r = open_repository(repo.root)
    assert r is not None
    head = r.head()
    assert head.state == "rebase" and head.detached
    conflicted = [s for s in r.status() if s.conflicted]
    assert [s.path for s in conflicted] == ["src/parser.py"]
    assert history(r).commits  # the history is still readable mid-rebase


def test_a_corrupt_repository_is_a_clear_error(repo: GitRepo) -> None:
    head = repo.git("rev-parse", "HEAD")
    obj = repo.root / ".git" / "objects" / head[:2] / head[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"garbage")
    r = open_repository(repo.root)
    assert r is not None
    with pytest.raises(VcsError, match="cannot be read|corrupt"):
        r.head()


def test_a_broken_git_folder_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "broken"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".git" / "objects").mkdir()
    (root / ".git" / "refs").mkdir()
    (root / ".git" / "config").write_text("[core\nbroken")
    with pytest.raises(VcsError, match="cannot be"):
        r = open_repository(root)
        if r is not None:
            r.head()
    shutil.rmtree(root)
