"""Debugging over the Debug Adapter Protocol: Python programs under debugpy, code in live kernels.

``nexus dap`` (``nexus.cli.dap``) serves a ``DebugSession`` per client. ``launch`` runs a program under
debugpy's adapter (``LaunchTarget``); ``attach`` reaches the debugger inside a Jupyter kernel over its
control channel (``KernelTarget``), found through the ``SessionRegistry`` that ``ExecutionService``
advertises its sessions in. See docs/debugging.md for the configurations editors send.
"""

from __future__ import annotations

from .errors import (
    AdapterStartError,
    DebugConfigError,
    DebugError,
    KernelUnreachableError,
    NoDebuggerError,
    NoSuchDebugTargetError,
    ProgramNotFoundError,
)
from .registry import SessionEntry, SessionRegistry, sessions_dir

__all__ = [
    "AdapterStartError",
    "DebugConfigError",
    "DebugError",
    "DebugSession",
    "KernelUnreachableError",
    "NoDebuggerError",
    "NoSuchDebugTargetError",
    "ProgramNotFoundError",
    "SessionEntry",
    "SessionRegistry",
    "serve_stdio",
    "serve_tcp",
    "sessions_dir",
]


def __getattr__(name: str) -> object:
    # the session pulls in the adapters' machinery (zmq clients, subprocesses); the registry, which
    # every ExecutionService imports, must not
    if name in ("DebugSession", "serve_stdio", "serve_tcp"):
        from . import session

        return getattr(session, name)
    raise AttributeError(name)
