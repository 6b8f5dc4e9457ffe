"""The index's view of HEAD moves: which files a checkout, pull or reset changed since the last run.

The index already re-reads a file whose size or mtime changed; this adds the files git says changed
between the HEAD of the last index run and now, so a checkout that restores a file with the same size
and mtime (tools that preserve mtimes, coarse file-system clocks) is re-read too. The content hash then
decides whether anything is re-parsed. Outside a repository, or when it cannot be read, nothing is
added (logged) and the index works as before.
"""

from __future__ import annotations

import logging
import os

from .errors import VcsError
from .history import changed_between
from .repository import open_repository

log = logging.getLogger(__name__)

META_KEY = "git_head"
MAX_SUSPECTS = 100_000


def head_moves(root: str | os.PathLike[str], last_head: str | None) -> tuple[str | None, frozenset[str]]:
    """(HEAD now, workspace paths changed between ``last_head`` and it)."""
    try:
        repo = open_repository(root)
        if repo is None:
            return None, frozenset()
        head = repo.head_commit()
        if head is None or last_head is None or head == last_head:
            return head, frozenset()
        changed = changed_between(repo, last_head, head)
    except VcsError as exc:
        log.warning("index without git's list of changed files: %s", exc)
        return None, frozenset()
    log.info("HEAD moved %s -> %s: %d files changed", last_head[:12], head[:12], len(changed))
    return head, frozenset(changed[:MAX_SUSPECTS])
