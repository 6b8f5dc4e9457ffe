"""Real git repositories for tests, made with the ``git`` command (the code under test reads them with
libgit2, so the two never share a bug)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

_ENV = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.org",
        "GIT_COMMITTER_NAME": "Ada Lovelace", "GIT_COMMITTER_EMAIL": "ada@example.org",
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


class GitRepo:
    def __init__(self, root: Path, branch: str = "main") -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", branch)
        self._tick = 1_700_000_000

    def git(self, *args: str, check: bool = True) -> str:
        env = {**os.environ, **_ENV, "GIT_AUTHOR_DATE": f"@{self._tick_now()} +0000",
               "GIT_COMMITTER_DATE": f"@{self._tick_now()} +0000"}
        done = subprocess.run(["git", *args], cwd=self.root, env=env, capture_output=True, text=True, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {done.stderr}")
        return done.stdout.strip()

    def _tick_now(self) -> int:
        return getattr(self, "_tick", 1_700_000_000)

    def write(self, path: str, text: str | bytes) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
        return target

    def commit(self, message: str, files: dict[str, str | bytes] | None = None, *, add_all: bool = True) -> str:
        for path, text in (files or {}).items():
            self.write(path, text)
        if add_all:
            self.git("add", "-A")
        self._tick += 3600
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")
