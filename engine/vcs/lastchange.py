"""One line for an editor's hover: who last changed this line, when, and the commit's subject.

Blame is libgit2's costliest read (it walks the file's history), so a file's whole blame is computed
once per HEAD and kept (a few files' worth); a line that differs from HEAD's version (an unsaved or
uncommitted edit) is "not committed yet" rather than a wrong attribution.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path

from .blame import blame
from .errors import VcsError
from .model import BlameHunk
from .repository import Repository, open_repository

log = logging.getLogger(__name__)

_KEEP = 32
_blames: OrderedDict[tuple[str, str, str], tuple[list[BlameHunk], list[bytes]]] = OrderedDict()
_repos: dict[str, Repository | None] = {}
_lock = threading.Lock()


def ago(seconds: float) -> str:
    for unit, size in (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600),
                       ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' if n != 1 else ''} ago"
    return "just now"


def _repository(root: Path) -> Repository | None:
    key = str(root)
    with _lock:
        if key in _repos:
            return _repos[key]
    found = open_repository(root)
    if found is not None:  # "no repository" is not kept: a `git init` later is seen
        with _lock:
            _repos[key] = found
    return found


def _file_blame(repo: Repository, head: str, path: str) -> tuple[list[BlameHunk], list[bytes]]:
    key = (str(repo.workdir), head, path)
    with _lock:
        if key in _blames:
            _blames.move_to_end(key)
            return _blames[key]
    hunks = blame(repo, path, rev=head)
    with repo.raw() as raw:
        import pygit2

        blob = raw[pygit2.Oid(hex=head)].peel(pygit2.Commit).tree[repo.to_repo(path)]
        lines = blob.data.splitlines() if isinstance(blob, pygit2.Blob) else []
    with _lock:
        _blames[key] = (hunks, lines)
        while len(_blames) > _KEEP:
            _blames.popitem(last=False)
    return hunks, lines


def last_change(root: Path, path: str, line: int, text: str | None = None, now: float | None = None) -> str | None:
    """``"Last changed by Ada, 3 days ago · 1a2b3c4 Subject"`` for ``line`` (1-based) of ``path``;
    "Not committed yet" when ``text`` (the editor's line) differs from HEAD's; None outside git or for
    a file HEAD does not have."""
    try:
        repo = _repository(root)
        if repo is None:
            return None
        head = repo.head_commit()
        if head is None:
            return None
        hunks, lines = _file_blame(repo, head, path)
    except VcsError as exc:  # not in HEAD (new file), or an unreadable repository: no line, logged
        log.debug("no last-change line for %s:%d: %s", path, line, exc)
        return None
    if text is not None and (line > len(lines) or lines[line - 1].decode("utf-8", "replace").rstrip() != text.rstrip()):
        return "Not committed yet"
    for hunk in hunks:
        if hunk.start_line <= line < hunk.start_line + hunk.lines:
            when = ago((now if now is not None else time.time()) - hunk.time)
            return f"Last changed by {hunk.author}, {when} · {hunk.commit[:7]} {hunk.subject}"
    return None
