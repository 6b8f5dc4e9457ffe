"""The workspace's git repository, read with libgit2 (pygit2), never by parsing ``git`` output.

A workspace may be the repository's root or a folder inside it; every path this module takes or gives
is relative to the *workspace*, and anything outside the workspace is left out. A folder that is not in
a repository has no :class:`Repository` (:func:`open_repository` returns None) and everything that reads
history simply has nothing to add. A repository that cannot be read (corrupt objects, a broken HEAD)
raises :class:`VcsError` with the reason; callers that only *enrich* (the index, retrieval) log it and
carry on without history.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pygit2
from pygit2.enums import FileStatus as Flags
from pygit2.enums import RepositoryState

from .errors import BadRevision, RevisionNotFound, VcsError
from .model import FileStatus, Head

log = logging.getLogger(__name__)

_STATES = {
    RepositoryState.NONE: "none", RepositoryState.MERGE: "merge", RepositoryState.REVERT: "revert",
    RepositoryState.REVERT_SEQUENCE: "revert", RepositoryState.CHERRYPICK: "cherry-pick",
    RepositoryState.CHERRYPICK_SEQUENCE: "cherry-pick", RepositoryState.BISECT: "bisect",
    RepositoryState.REBASE: "rebase", RepositoryState.REBASE_INTERACTIVE: "rebase",
    RepositoryState.REBASE_MERGE: "rebase", RepositoryState.APPLY_MAILBOX: "am",
    RepositoryState.APPLY_MAILBOX_OR_REBASE: "rebase",
}
_INDEX = ((Flags.INDEX_NEW, "added"), (Flags.INDEX_MODIFIED, "modified"), (Flags.INDEX_DELETED, "deleted"),
          (Flags.INDEX_RENAMED, "renamed"), (Flags.INDEX_TYPECHANGE, "typechange"))
_WORKTREE = ((Flags.WT_NEW, "untracked"), (Flags.WT_MODIFIED, "modified"), (Flags.WT_DELETED, "deleted"),
             (Flags.WT_RENAMED, "renamed"), (Flags.WT_TYPECHANGE, "typechange"),
             (Flags.WT_UNREADABLE, "unreadable"))


def open_repository(root: str | os.PathLike[str]) -> Repository | None:
    """The repository holding the folder ``root``, or None when there is none (or it is bare).

    Raises VcsError when there is a ``.git`` but libgit2 cannot open it (the message says what to fix).
    """
    folder = os.path.realpath(root)
    try:
        found = pygit2.discover_repository(folder)
    except pygit2.GitError as exc:
        raise VcsError(f"{folder}: the git repository cannot be read: {exc}") from exc
    if found is None:
        return None
    try:
        repo = pygit2.Repository(found)
    except (pygit2.GitError, OSError) as exc:
        raise VcsError(f"{found}: the git repository cannot be opened ({exc}); `git fsck` says what is "
                       "broken") from exc
    if repo.is_bare or repo.workdir is None:
        return None
    return Repository(repo, Path(folder))


class Repository:
    """One repository seen from one workspace folder. Thread-safe: libgit2 objects are not shared between
    threads, so every read holds the instance's lock (reads are short and bounded)."""

    def __init__(self, repo: pygit2.Repository, root: Path) -> None:
        self._repo = repo
        self.root = root
        self.workdir = Path(os.path.realpath(repo.workdir))
        prefix = root.relative_to(self.workdir).as_posix() if root != self.workdir else ""
        self.prefix = f"{prefix}/" if prefix and prefix != "." else ""
        self._lock = threading.RLock()

    # -- paths -----------------------------------------------------------------------------------

    def to_workspace(self, repo_path: str) -> str | None:
        """A repository path as a workspace path; None when it is outside the workspace folder."""
        if not self.prefix:
            return repo_path
        return repo_path[len(self.prefix):] if repo_path.startswith(self.prefix) else None

    def to_repo(self, path: str) -> str:
        return f"{self.prefix}{path.strip('/')}"

    @contextmanager
    def raw(self) -> Iterator[pygit2.Repository]:
        """The pygit2 repository under the lock, with libgit2's errors translated."""
        with self._lock:
            try:
                yield self._repo
            except pygit2.GitError as exc:
                raise VcsError(f"{self.workdir}: git: {exc}") from exc

    # -- state -----------------------------------------------------------------------------------

    def head(self) -> Head:
        with self.raw() as repo:
            state = _STATES.get(RepositoryState(repo.state()), "none")
            shallow = bool(repo.is_shallow)
            if repo.head_is_unborn:
                try:
                    branch = repo.lookup_reference("HEAD").target
                except (KeyError, pygit2.GitError):
                    branch = None
                name = str(branch).removeprefix("refs/heads/") if isinstance(branch, str) else None
                return Head(None, name, False, shallow, state)
            try:
                ref = repo.head
                commit = repo[ref.target].peel(pygit2.Commit)
            except (KeyError, pygit2.GitError) as exc:
                raise VcsError(f"{self.workdir}: HEAD points at a commit that cannot be read ({exc}); the "
                               "repository may be corrupt or shallow") from exc
            detached = bool(repo.head_is_detached)
            branch = None if detached else ref.shorthand
            return Head(str(commit.id), branch, detached, shallow, state, _subject(commit.message))

    def head_commit(self) -> str | None:
        return self.head().commit

    def resolve(self, rev: str) -> str:
        """The commit id ``rev`` names (``HEAD~2``, a branch, a tag, an id prefix)."""
        if not rev or rev.startswith("-") or "\n" in rev or len(rev) > 256:
            raise BadRevision(f"{rev!r} is not a revision")
        with self.raw() as repo:
            try:
                obj = repo.revparse_single(rev)
            except (KeyError, ValueError, pygit2.GitError) as exc:
                raise RevisionNotFound(f"{rev!r} is not a commit, branch or tag of {self.workdir}") from exc
            try:
                commit = obj.peel(pygit2.Commit)
            except (ValueError, pygit2.GitError, pygit2.InvalidSpecError) as exc:
                raise BadRevision(f"{rev!r} names a {obj.type_str}, not a commit") from exc
            return str(commit.id)

    def status(self, untracked: bool = True) -> list[FileStatus]:
        """Changes of the working tree and the index against HEAD, for workspace paths, sorted.

        A submodule shows as one entry (``submodule``), never descended into."""
        with self.raw() as repo:
            raw = repo.status(untracked_files="normal" if untracked else "no")
            submodules = set(_submodule_paths(repo))
        out = []
        for repo_path, flags in raw.items():
            path = self.to_workspace(repo_path.rstrip("/"))
            if path is None or flags == Flags.IGNORED:
                continue
            index = next((name for bit, name in _INDEX if flags & bit), "")
            worktree = next((name for bit, name in _WORKTREE if flags & bit), "")
            out.append(FileStatus(path, index, worktree, bool(flags & Flags.CONFLICTED),
                                  repo_path.rstrip("/") in submodules))
        out.sort(key=lambda s: s.path)
        return out

    def shallow_edges(self) -> frozenset[str]:
        """Commits of a shallow clone whose parents are missing: their diffs would claim every file."""
        try:
            text = (Path(self._repo.path) / "shallow").read_text()
        except OSError:
            return frozenset()
        return frozenset(line.strip() for line in text.splitlines() if line.strip())

    def changed_paths(self) -> list[str]:
        """Workspace paths with uncommitted changes (staged, unstaged or untracked), submodules left out."""
        return [s.path for s in self.status() if not s.submodule and s.worktree != "deleted" and s.index != "deleted"]


def _submodule_paths(repo: pygit2.Repository) -> list[str]:
    try:
        return list(repo.listall_submodules())
    except pygit2.GitError as exc:  # a broken .gitmodules: the status is still worth having
        log.warning("cannot list submodules: %s", exc)
        return []


def _subject(message: str) -> str:
    return message.strip().split("\n", 1)[0].strip()


def changed_files(root: str | os.PathLike[str], limit: int = 20) -> tuple[str, ...]:
    """The workspace's uncommitted changes for grounding a chat (most recently modified first); empty
    outside a repository or when it cannot be read (logged: context is a nicety, never a failure)."""
    try:
        repo = open_repository(root)
        if repo is None:
            return ()
        paths = repo.changed_paths()
    except VcsError as exc:
        log.warning("no changed files for the context: %s", exc)
        return ()

    def mtime(path: str) -> float:
        try:
            return (repo.root / path).stat().st_mtime
        except OSError:
            return 0.0

    return tuple(sorted(paths, key=lambda p: -mtime(p))[:limit])
