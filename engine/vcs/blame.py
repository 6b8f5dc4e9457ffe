"""Who last changed which lines, as of HEAD (uncommitted edits are not attributed: they have no commit).

libgit2's blame is the costly read here (it walks the file's history); it is bounded to the lines asked
for and to ``max_commits`` of history through ``oldest_commit`` when the history is longer.
"""

from __future__ import annotations

import pygit2

from .errors import RevisionNotFound
from .model import BlameHunk
from .repository import Repository


def blame(repository: Repository, path: str, start_line: int | None = None, end_line: int | None = None,
          rev: str = "HEAD") -> list[BlameHunk]:
    """Blame hunks of ``path`` (a workspace path), lines 1-based and inclusive."""
    newest = repository.resolve(rev)
    repo_path = repository.to_repo(path)
    with repository.raw() as repo:
        commit = repo[pygit2.Oid(hex=newest)].peel(pygit2.Commit)
        try:
            blob = commit.tree[repo_path]
        except KeyError:
            raise RevisionNotFound(f"{path} is not in commit {newest[:12]} (new files have no history yet)") from None
        if not isinstance(blob, pygit2.Blob):
            raise RevisionNotFound(f"{path} is a folder or a submodule in {newest[:12]}, not a file")
        lines = blob.data.count(b"\n") + (0 if blob.data.endswith(b"\n") or not blob.data else 1)
        if lines == 0:
            return []
        lo = max(1, start_line or 1)
        hi = min(lines, end_line or lines)
        if lo > hi:
            return []
        found = repo.blame(repo_path, newest_commit=newest, min_line=lo, max_line=hi)
        subjects: dict[str, str] = {}
        out: list[BlameHunk] = []
        for hunk in found:
            cid = str(hunk.final_commit_id)
            if cid not in subjects:
                try:
                    subjects[cid] = (repo[hunk.final_commit_id].peel(pygit2.Commit).message or "").strip().split("\n", 1)[0]
                except KeyError:
                    subjects[cid] = ""
            who = hunk.final_committer
            out.append(BlameHunk(hunk.final_start_line_number, hunk.lines_in_hunk, cid,
                                 who.name if who is not None else "", int(who.time) if who is not None else 0,
                                 subjects[cid]))
        return out


def line_author(repository: Repository, path: str, line: int) -> BlameHunk | None:
    """The hunk that last changed ``line`` (1-based) at HEAD, or None when the line is not committed."""
    hunks = blame(repository, path, line, line)
    return hunks[0] if hunks else None
