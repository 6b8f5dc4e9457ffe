"""What the engine-facing commands share: opening a workspace, turning NexusError into a clean exit."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from nexus.engine import NexusError, Workspace

stderr = Console(stderr=True)
stdout = Console(highlight=False, soft_wrap=True)


@contextmanager
def workspace(root: str | Path) -> Iterator[Workspace]:
    try:
        with Workspace.open(root) as ws:
            yield ws
    except NexusError as exc:
        raise click.ClickException(str(exc)) from exc


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=True) + "\n")


def display_path(path: str) -> str:
    """A path safe to print: undecodable bytes from the file system shown as escapes."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
