"""The CLI as a face of the operations layer: ``--json`` output is the operation's result, the same data
the gateway, the Jupyter extension and the language server return."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from nexus.engine import NexusError


def call_operation(root: str | Path, name: str, payload: dict[str, Any]) -> Any:
    """The result of operation ``name`` on workspace ``root`` for the local user; errors exit cleanly."""
    from nexus.engine.config import load_settings
    from nexus.services import Backends, Call, Registry

    registry = Registry.default()
    op = registry.get(name)
    providers = op is not None and op.rate == "ai"  # only AI operations pay for the provider SDKs

    async def run() -> Any:
        path = Path(root).resolve()
        backends = Backends.open(path, load_settings(path), providers=providers)
        try:
            return await registry.result(name, payload, Call(backends))
        finally:
            await backends.aclose()

    try:
        return asyncio.run(run())
    except NexusError as exc:
        raise click.ClickException(str(exc)) from exc


def stream_operation(root: str | Path, name: str, payload: dict[str, Any],
                     on_event: Callable[[str, Any], None]) -> Any:
    """Like :func:`call_operation`, handing each streamed item (kind, data) to ``on_event`` as it comes."""
    from nexus.engine.config import load_settings
    from nexus.services import Backends, Call, Registry

    registry = Registry.default()
    op = registry.get(name)
    providers = op is not None and op.rate == "ai"

    async def run() -> Any:
        path = Path(root).resolve()
        backends = Backends.open(path, load_settings(path), providers=providers)
        final: Any = None
        try:
            stream = registry.call(name, payload, Call(backends))
            try:
                async for item in stream:
                    if item.final:
                        final = item.data
                    else:
                        on_event(item.kind, item.data)
            finally:
                await stream.aclose()  # type: ignore[attr-defined]
            return final
        finally:
            await backends.aclose()

    try:
        return asyncio.run(run())
    except NexusError as exc:
        raise click.ClickException(str(exc)) from exc
