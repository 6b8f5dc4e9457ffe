"""Diffs as values: staged (index vs HEAD), unstaged (work tree vs index), against a ref (work tree vs
that commit, like ``git diff REF``) or between two commits (``A..B``), with renames found.

A diff is bounded: past ``max_bytes`` of hunk text the remaining files keep their names and line
counts but lose their hunks (``truncated``), so a vendored-tree commit cannot flood a model's context
or a client. Binary files are named, never dumped.
"""

from __future__ import annotations

import pygit2
from pygit2.enums import DeltaStatus, DiffOption

from .errors import BadRevision
from .model import FileDiff, Hunk
from .repository import Repository

MAX_DIFF_BYTES = 400_000
_STATUS = {DeltaStatus.ADDED: "added", DeltaStatus.DELETED: "deleted", DeltaStatus.MODIFIED: "modified",
           DeltaStatus.RENAMED: "renamed", DeltaStatus.COPIED: "copied", DeltaStatus.TYPECHANGE: "typechange",
           DeltaStatus.UNTRACKED: "added", DeltaStatus.CONFLICTED: "modified"}


def diff(repository: Repository, *, staged: bool = False, ref: str | None = None, paths: tuple[str, ...] = (),
         context_lines: int = 3, max_bytes: int = MAX_DIFF_BYTES) -> list[FileDiff]:
    """The changes asked for: ``ref`` ``"A..B"`` between commits, ``ref`` alone against the work tree
    (``staged``: against the index), else staged or unstaged changes. Workspace paths only."""
    if context_lines < 0 or context_lines > 1000:
        raise BadRevision(f"context lines must be 0-1000, not {context_lines}")
    pathspec = [repository.to_repo(p) for p in paths]
    with repository.raw() as repo:
        flags = DiffOption.NORMAL
        if ref is not None and ".." in ref:
            old, _, new = ref.partition("..")
            a = repo[repository.resolve(old or "HEAD")].peel(pygit2.Tree)
            b = repo[repository.resolve(new or "HEAD")].peel(pygit2.Tree)
            found = a.diff_to_tree(b, flags, context_lines)
        elif ref is not None:
            tree = repo[repository.resolve(ref)].peel(pygit2.Tree)
            found = (tree.diff_to_index(repo.index, flags, context_lines) if staged
                     else tree.diff_to_workdir(flags, context_lines))
        elif staged:
            found = repo.index.diff_to_tree(_head_tree(repo), flags, context_lines)
        else:
            found = repo.index.diff_to_workdir(flags, context_lines)
        found.find_similar()
        return _files(repository, found, pathspec, max_bytes)


def _head_tree(repo: pygit2.Repository) -> pygit2.Tree:
    if repo.head_is_unborn:  # the first commit: everything staged is new
        return repo[repo.TreeBuilder().write()].peel(pygit2.Tree)
    return repo.head.peel(pygit2.Tree)


def _files(repository: Repository, found: pygit2.Diff, pathspec: list[str], max_bytes: int) -> list[FileDiff]:
    out: list[FileDiff] = []
    budget = max_bytes
    for patch in found:
        if patch is None:
            continue
        delta = patch.delta
        repo_path = delta.new_file.path if delta.status != DeltaStatus.DELETED else delta.old_file.path
        if pathspec and not any(repo_path == p or repo_path.startswith(p.rstrip("/") + "/") for p in pathspec):
            continue
        path = repository.to_workspace(repo_path)
        if path is None:
            continue
        old = repository.to_workspace(delta.old_file.path) if delta.old_file.path != repo_path else None
        _context, additions, deletions = patch.line_stats
        binary = bool(delta.is_binary)
        hunks: list[Hunk] = []
        truncated = False
        if not binary:
            for hunk in patch.hunks:
                text = "".join(f"{line.origin}{line.content}" for line in hunk.lines
                               if line.origin in "+- ")
                if len(text) > budget:
                    truncated = True
                    break
                budget -= len(text)
                hunks.append(Hunk(hunk.old_start, hunk.old_lines, hunk.new_start, hunk.new_lines,
                                  hunk.header.strip(), text))
        out.append(FileDiff(path, old, _STATUS.get(DeltaStatus(delta.status), "modified"), binary, additions,
                            deletions, tuple(hunks), truncated))
    return out


def patch_text(files: list[FileDiff]) -> str:
    """A unified-diff-like rendering for a model or a terminal."""
    parts: list[str] = []
    for f in files:
        name = f"{f.old_path} -> {f.path}" if f.old_path else f.path
        parts.append(f"--- {name} ({f.status}, +{f.additions} -{f.deletions})\n")
        if f.binary:
            parts.append("(binary file)\n")
        for hunk in f.hunks:
            parts.append(f"{hunk.header}\n{hunk.text}")
            if not hunk.text.endswith("\n"):
                parts.append("\n")
        if f.truncated:
            parts.append("(more changes left out)\n")
    return "".join(parts)
