"""Edits as search-and-replace hunks: ``oldText`` must occur exactly once in the file as it is now, so an
edit made against an older version fails loudly ("no longer applies") instead of landing in the wrong
place. An empty ``oldText`` creates a file that must not exist yet."""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from nexus.engine.errors import NexusError
from nexus.engine.paths import read_text_inside, resolve_inside


class EditConflict(NexusError):
    """The edit does not apply to the file as it is now."""


@dataclasses.dataclass(frozen=True, slots=True)
class FileChange:
    path: str  # workspace-relative, POSIX
    before: str | None  # None: the file is new
    after: str


def plan_changes(root: Path, edits: Sequence[tuple[str, str, str]]) -> list[FileChange]:
    """``(path, old_text, new_text)`` hunks as whole-file changes against ``root``'s current files.

    Raises WorkspaceError for a path outside the workspace (``../``, absolute elsewhere, a symlink out)
    and EditConflict for a hunk that does not apply (not found, found more than once, file exists)."""
    root = root.resolve()
    texts: dict[str, str | None] = {}
    after: dict[str, str] = {}
    for path, old, new in edits:
        real = resolve_inside(root, path)
        rel = real.relative_to(root).as_posix()
        if rel not in texts:
            if real.exists():
                _, texts[rel] = read_text_inside(root, rel)
            else:
                texts[rel] = None
            after[rel] = texts[rel] or ""
        current = after[rel]
        if not old:
            if texts[rel] is not None:
                raise EditConflict(f"{rel} already exists: give the text to replace (oldText) to change it")
            after[rel] = new
            continue
        if texts[rel] is None:
            raise EditConflict(f"{rel} does not exist: the edit no longer applies")
        found = current.count(old)
        if found != 1:
            why = "is not in the file" if found == 0 else f"occurs {found} times; include more context"
            raise EditConflict(f"the edit to {rel} no longer applies: its oldText {why}")
        after[rel] = current.replace(old, new, 1)
    return [FileChange(rel, texts[rel], after[rel]) for rel in after]


def apply_changes(root: Path, changes: Sequence[FileChange]) -> None:
    """Write ``changes`` under ``root``, each file atomically; refuses (EditConflict) if a file changed since
    the changes were planned, before writing anything."""
    root = root.resolve()
    for change in changes:
        real = resolve_inside(root, change.path)
        now = read_text_inside(root, change.path)[1] if real.exists() else None
        if now != change.before:
            raise EditConflict(f"{change.path} changed since the edit was proposed: propose it again")
    for change in changes:
        real = resolve_inside(root, change.path)
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=real.parent, prefix=f".{real.name}.", suffix=".nexus-tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
                fh.write(change.after)
            if real.exists():
                os.chmod(tmp, real.stat().st_mode & 0o7777)
            os.replace(tmp, real)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
