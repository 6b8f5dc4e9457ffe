"""Session-wide isolation: tests never read the user's config or write the user's cache."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True, scope="session")
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    base = tmp_path_factory.mktemp("nexus-home")
    saved = {k: os.environ.get(k) for k in ("NEXUS_CACHE_DIR", "NEXUS_CONFIG_DIR", "NEXUS_SESSIONS_DIR")}
    os.environ["NEXUS_CACHE_DIR"] = str(base / "cache")
    os.environ["NEXUS_CONFIG_DIR"] = str(base / "config")
    os.environ.setdefault("NEXUS_SESSIONS_DIR", str(base / "sessions"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def cache_dir() -> Path:
    return Path(os.environ["NEXUS_CACHE_DIR"])
