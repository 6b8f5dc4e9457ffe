"""Paths a client names are resolved against the workspace root and refused when they leave it.

Every adapter that reads a file for a client (LSP, Jupyter extension, gateway) goes through
:func:`resolve_inside`, so `../`, absolute paths and symlinks pointing out are refused in one place.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import NotFoundError, WorkspaceError

MAX_READ_BYTES = 10 * 1024 * 1024


def resolve_inside(root: Path, path: str | os.PathLike[str]) -> Path:
    """Return the real path of ``path`` (relative to ``root``, or absolute) if it stays inside ``root``.

    Raises WorkspaceError when the path, after following symlinks, is outside the workspace.
    """
    real_root = Path(os.path.realpath(root))
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = real_root / candidate
    real = Path(os.path.realpath(candidate))
    if real != real_root and not real.is_relative_to(real_root):
        raise WorkspaceError(f"{path} is outside the workspace")
    return real


def read_text_inside(root: Path, path: str | os.PathLike[str], limit: int = MAX_READ_BYTES) -> tuple[Path, str]:
    """Read a workspace text file for a client.

    Raises WorkspaceError (outside, too large, binary, not a file) or NotFoundError (missing).
    Invalid UTF-8 is decoded with replacement characters rather than refused: the client sees the text.
    """
    real = resolve_inside(root, path)
    try:
        size = real.stat().st_size
    except FileNotFoundError as exc:
        raise NotFoundError(f"{path}: no such file") from exc
    except OSError as exc:
        raise WorkspaceError(f"{path}: {exc.strerror}") from exc
    if not real.is_file():
        raise WorkspaceError(f"{path} is not a file")
    if size > limit:
        raise WorkspaceError(f"{path} is {size} bytes, above the {limit}-byte limit")
    try:
        data = real.read_bytes()
    except OSError as exc:
        raise WorkspaceError(f"{path}: {exc.strerror}") from exc
    if b"\0" in data[:8192]:
        raise WorkspaceError(f"{path} is a binary file")
    return real, data.decode("utf-8", errors="replace")
