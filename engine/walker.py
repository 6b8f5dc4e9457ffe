"""Walking a workspace: which files the index should look at, and why the others are left out.

Honours `.gitignore` files at every level (git's own matching rules, through pathspec) and a
`.nexusignore` with the same syntax; never enters `.git`, virtualenvs, `node_modules` or build folders.
Symlinked folders are followed once (a loop is reported, not walked forever); symlinks leading out of
the workspace are skipped, so indexing never reads outside the root.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pathspec import GitIgnoreSpec

from .languages import language_for

log = logging.getLogger(__name__)

SKIP_DIRS = frozenset({
    ".git", ".hg", ".svn", ".nexus", "node_modules", "__pycache__", ".mypy_cache", ".pytest_cache",
    ".ruff_cache", ".tox", ".nox", ".venv", "venv", ".eggs", "build", "dist", "target", "out",
    ".gradle", ".idea", ".vscode-test", "site-packages", ".ipynb_checkpoints", "bower_components",
    ".next", ".nuxt", "cmake-build-debug", "cmake-build-release",
    ".virtual_documents",  # jupyter-lsp's copies of open notebooks and files: the originals are indexed
})
IGNORE_FILES = (".gitignore", ".nexusignore")


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str  # relative, '/'-separated
    absolute: str
    language: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class Rejected:
    path: str
    reason: str
    size: int = 0
    mtime_ns: int = 0


def _is_virtualenv(directory: str) -> bool:
    return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))


class Walker:
    def __init__(self, root: Path, max_file_size: int, extra_ignores: tuple[str, ...] = ()) -> None:
        self.root = Path(os.path.realpath(root))
        self.max_file_size = max_file_size
        self.extra = GitIgnoreSpec.from_lines(extra_ignores) if extra_ignores else None

    def walk(self) -> Iterator[Candidate | Rejected]:
        """Yield every indexable file and every file left out with its reason, in a stable order."""
        root = str(self.root)
        try:
            root_stat = os.stat(root)
        except OSError as exc:
            yield Rejected("", f"workspace not readable: {exc.strerror}")
            return
        visited = {(root_stat.st_dev, root_stat.st_ino)}
        yield from self._walk_dir(root, "", [], visited)

    def _walk_dir(self, directory: str, rel: str, specs: list[tuple[str, GitIgnoreSpec]],
                  visited: set[tuple[int, int]]) -> Iterator[Candidate | Rejected]:
        specs = specs + self._load_ignores(directory, rel)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            yield Rejected(rel or ".", f"folder not readable: {exc.strerror}")
            return
        for entry in entries:
            name = entry.name
            child_rel = f"{rel}/{name}" if rel else name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=True)
            except OSError:
                is_link, is_dir = True, False
            if is_dir:
                if name in SKIP_DIRS or _is_virtualenv(entry.path) or self._ignored(specs, child_rel, True):
                    continue
                try:
                    info = os.stat(entry.path)
                except OSError as exc:
                    yield Rejected(child_rel, f"folder not readable: {exc.strerror}")
                    continue
                if is_link and not self._inside(entry.path):
                    yield Rejected(child_rel, "symlink to a folder outside the workspace")
                    continue
                key = (info.st_dev, info.st_ino)
                if key in visited:
                    yield Rejected(child_rel, "symlink loop (folder already visited)")
                    continue
                visited.add(key)
                yield from self._walk_dir(entry.path, child_rel, specs, visited)
                continue
            language = language_for(name)
            if language is None or self._ignored(specs, child_rel, False):
                continue
            try:
                info = entry.stat(follow_symlinks=True)
            except OSError as exc:
                yield Rejected(child_rel, "broken symlink" if is_link else f"cannot stat: {exc.strerror}")
                continue
            if is_link and not self._inside(entry.path):
                yield Rejected(child_rel, "symlink to a file outside the workspace", info.st_size, info.st_mtime_ns)
                continue
            if not stat.S_ISREG(info.st_mode):
                yield Rejected(child_rel, "not a regular file", 0, info.st_mtime_ns)
                continue
            if info.st_size > self.max_file_size:
                yield Rejected(child_rel, f"too large ({_mb(info.st_size)} > {_mb(self.max_file_size)} limit)",
                               info.st_size, info.st_mtime_ns)
                continue
            yield Candidate(child_rel, entry.path, language, info.st_size, info.st_mtime_ns)

    def excluded(self, rel: str) -> str | None:
        """Why the walk would leave out the workspace-relative file ``rel``, or None if it would not.

        For single-file updates (an editor saving `node_modules/x.js` must not put it in the index).
        """
        parts = rel.split("/")
        specs: list[tuple[str, GitIgnoreSpec]] = []
        directory = str(self.root)
        for depth, name in enumerate(parts):
            specs += self._load_ignores(directory, "/".join(parts[:depth]))
            child_rel = "/".join(parts[:depth + 1])
            is_dir = depth < len(parts) - 1
            directory = os.path.join(directory, name)
            if is_dir and (name in SKIP_DIRS or _is_virtualenv(directory)):
                return f"inside {name}/, which is never indexed"
            if self._ignored(specs, child_rel, is_dir):
                return "ignored by .gitignore/.nexusignore"
        return None

    def _inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == str(self.root) or real.startswith(str(self.root) + os.sep)

    def _load_ignores(self, directory: str, rel: str) -> list[tuple[str, GitIgnoreSpec]]:
        found = []
        for name in IGNORE_FILES:
            path = os.path.join(directory, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as fh:
                    found.append((rel, GitIgnoreSpec.from_lines(fh.read().splitlines())))
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("cannot read %s: %s", path, exc)
        return found

    def _ignored(self, specs: list[tuple[str, GitIgnoreSpec]], rel: str, is_dir: bool) -> bool:
        if self.extra is not None and self.extra.match_file(rel + "/" if is_dir else rel):
            return True
        ignored = False
        for base, spec in specs:
            local = rel[len(base) + 1:] if base else rel
            if is_dir:
                local += "/"
            # Later (deeper) files override earlier ones, as in git; check_file reports negations too.
            result = spec.check_file(local)
            if result.include is not None:
                ignored = result.include
        return ignored


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
