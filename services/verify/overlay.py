"""A scratch copy of the workspace where a proposed edit is applied and tested.

A copy rather than a union mount: it needs no privileges, works on every file system, and a test run
that writes (caches, ``__pycache__``, build output) cannot touch the user's tree. Index folders,
version-control data, virtual environments and dependency folders are left out; the copy keeps file
times, so tools that look at them see the same tree.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from .edits import FileChange

log = logging.getLogger(__name__)

SKIP = (".nexus", ".git", ".hg", ".svn", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache",
        ".pytest_cache", ".ruff_cache", ".tox", "build", "dist", "target")


class Overlay:
    def __init__(self, root: Path) -> None:
        self.source = root.resolve()
        self._dir = Path(tempfile.mkdtemp(prefix="nexus-overlay-"))
        self.root = self._dir / self.source.name
        shutil.copytree(self.source, self.root, symlinks=True, ignore=self._ignore, copy_function=shutil.copy2)

    def _ignore(self, folder: str, names: list[str]) -> set[str]:
        """Skipped folders, and symlinks that lead out of the workspace (a test writing through one would
        write the user's files)."""
        out = {name for name in names if name in SKIP}
        for name in names:
            path = Path(folder) / name
            if path.is_symlink() and not path.resolve().is_relative_to(self.source):
                out.add(name)
        return out

    def apply(self, changes: Sequence[FileChange]) -> None:
        for change in changes:
            target = self.root / change.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(change.after, encoding="utf-8")

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Overlay:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
