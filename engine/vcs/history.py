"""History reachable from HEAD, read with a bounded walk: logs, the files each commit touched, and the
files changed between two commits (what the index re-reads after a checkout or a pull).

Only commits reachable from HEAD count (never other branches or tags): what the work tree is built
from. Every walk stops after ``max_commits`` (a monorepo's million commits must not stall a request);
a shallow clone's walk stops at its graft without error. The files a commit touched never change, so
they are cached per commit id on disk (``cache_path``) and only new commits are diffed after HEAD moves.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import msgpack
import pygit2
from pygit2.enums import SortMode

from .errors import VcsError
from .model import Commit
from .repository import Repository

log = logging.getLogger(__name__)

MAX_WALK = 5000
MAX_FILES_PER_COMMIT = 200  # a bigger commit (a reformat, a vendored import) says little about any file


@dataclass(frozen=True, slots=True)
class History:
    """The commits reachable from ``head``, newest first, each with the workspace files it touched."""

    head: str | None
    commits: tuple[Commit, ...]
    complete: bool  # False: the walk stopped at the cap (or at a shallow clone's edge)


def _commit(c: pygit2.Commit, files: tuple[str, ...] = ()) -> Commit:
    message = c.message or ""
    return Commit(str(c.id), tuple(str(p) for p in c.parent_ids), c.author.name, c.author.email,
                  int(c.author.time), message.strip().split("\n", 1)[0].strip(), message, files)


def _walk(repo: pygit2.Repository, start: pygit2.Oid, max_commits: int) -> Iterator[pygit2.Commit]:
    walker = repo.walk(start, SortMode.TOPOLOGICAL | SortMode.TIME)
    for n, commit in enumerate(walker):
        if n >= max_commits:
            return
        yield commit


def log_commits(repository: Repository, rev: str = "HEAD", path: str | None = None, limit: int = 50,
                max_commits: int = MAX_WALK) -> tuple[list[Commit], bool]:
    """Up to ``limit`` commits from ``rev`` (or a range ``A..B``: reachable from B, not from A),
    optionally only those that changed ``path``; and whether the walk stopped at its cap first."""
    with repository.raw() as repo:
        if repo.head_is_unborn and rev == "HEAD":
            return [], False
        hide = None
        if ".." in rev:
            old, _, new = rev.partition("..")
            hide = repository.resolve(old or "HEAD")
            rev = new or "HEAD"
        start = pygit2.Oid(hex=repository.resolve(rev))
        walker = repo.walk(start, SortMode.TOPOLOGICAL | SortMode.TIME)
        if hide is not None:
            walker.hide(pygit2.Oid(hex=hide))
        target = repository.to_repo(path) if path else None
        edges = repository.shallow_edges()
        out: list[Commit] = []
        walked = 0
        try:
            for commit in walker:
                walked += 1
                if walked > max_commits:
                    return out, True
                if target is not None and (str(commit.id) in edges or not _changes(repo, commit, target)):
                    continue
                out.append(_commit(commit))
                if len(out) >= limit:
                    break
        except (KeyError, pygit2.GitError) as exc:  # a shallow clone's missing parents end the walk
            log.info("history walk stopped at %d commits: %s", walked, exc)
        return out, False


def _entry(tree: pygit2.Tree, path: str) -> str | None:
    try:
        return str(tree[path].id)
    except KeyError:
        return None


def _changes(repo: pygit2.Repository, commit: pygit2.Commit, path: str) -> bool:
    mine = _entry(commit.tree, path)
    parents = commit.parents if commit.parent_ids else []
    if not parents:
        return mine is not None
    return all(_entry(p.tree, path) != mine for p in parents)  # a merge counts only if it changed it


def touched(repo: pygit2.Repository, commit: pygit2.Commit) -> tuple[str, ...]:
    """Repository paths ``commit`` changed against its first parent (all of them for a root commit)."""
    try:
        parent = (commit.parents[0].tree if commit.parent_ids
                  else repo[repo.TreeBuilder().write()].peel(pygit2.Tree))
    except (KeyError, pygit2.GitError):  # shallow: the parent is not here
        return ()
    diff = parent.diff_to_tree(commit.tree)
    paths = []
    for delta in diff.deltas:
        paths.append(delta.new_file.path if delta.new_file.path else delta.old_file.path)
        if len(paths) > MAX_FILES_PER_COMMIT:
            return ()
    return tuple(paths)


def changed_between(repository: Repository, old: str, new: str) -> list[str]:
    """Workspace paths whose content differs between commits ``old`` and ``new`` (both sides of a rename)."""
    with repository.raw() as repo:
        try:
            a = repo[pygit2.Oid(hex=old)].peel(pygit2.Tree)
            b = repo[pygit2.Oid(hex=new)].peel(pygit2.Tree)
        except (KeyError, ValueError) as exc:
            raise VcsError(f"commit {old[:12]} or {new[:12]} is not in {repository.workdir}") from exc
        out: set[str] = set()
        for delta in a.diff_to_tree(b).deltas:
            for p in (delta.old_file.path, delta.new_file.path):
                mapped = repository.to_workspace(p) if p else None
                if mapped:
                    out.add(mapped)
        return sorted(out)


class _FileCache:
    """commit id -> touched repository paths, kept in one msgpack file (rewritten when it grew)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.data: dict[str, list[str]] = {}
        self.dirty = False
        if path is not None and path.exists():
            try:
                loaded = msgpack.unpackb(path.read_bytes())
                if isinstance(loaded, dict):
                    self.data = loaded
            except (ValueError, msgpack.UnpackException, OSError) as exc:
                log.warning("ignoring the unreadable history cache %s: %s", path, exc)

    def save(self) -> None:
        if self.path is None or not self.dirty:
            return
        tmp = self.path.with_suffix(".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(msgpack.packb(self.data))
            os.replace(tmp, self.path)
            self.dirty = False
        except OSError as exc:
            log.warning("cannot write the history cache %s: %s", self.path, exc)


_CACHE: dict[tuple[str, str | None, int], History] = {}
_CACHE_LOCK = threading.Lock()


def history(repository: Repository, cache_path: Path | None = None, max_commits: int = MAX_WALK,
            head: str | None = None) -> History:
    """The history reachable from ``head`` (default HEAD), cached per head in memory and per commit on
    disk. A corrupt object ends the walk early (logged); it never raises for a readable HEAD."""
    head = head if head is not None else repository.head_commit()
    key = (str(repository.workdir) + "|" + repository.prefix, head, max_commits)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    if head is None:
        return History(None, (), True)
    files = _FileCache(cache_path)
    edges = repository.shallow_edges()
    commits: list[Commit] = []
    complete = True
    with repository.raw() as repo:
        try:
            for n, commit in enumerate(repo.walk(pygit2.Oid(hex=head), SortMode.TOPOLOGICAL | SortMode.TIME)):
                if n >= max_commits:
                    complete = False
                    break
                cid = str(commit.id)
                paths = [] if cid in edges else files.data.get(cid)
                if paths is None:
                    paths = list(touched(repo, commit))
                    files.data[cid] = paths
                    files.dirty = True
                mapped = tuple(m for p in paths if (m := repository.to_workspace(p)) is not None)
                commits.append(_commit(commit, mapped))
        except (KeyError, pygit2.GitError) as exc:
            complete = False
            log.info("history of %s stopped after %d commits: %s", repository.workdir, len(commits), exc)
    files.save()
    found = History(head, tuple(commits), complete and not repository.head().shallow)
    with _CACHE_LOCK:
        if len(_CACHE) > 16:
            _CACHE.clear()
        _CACHE[key] = found
    return found
