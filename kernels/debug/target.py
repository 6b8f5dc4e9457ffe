"""The seam between the client-facing DAP session and what is being debugged.

A ``DebugTarget`` is either debugpy's own adapter running a program (``LaunchTarget``) or a Jupyter
kernel's built-in debugger reached over its control channel (``KernelTarget``). The session hands it
the client's requests and gets back *results* (``success`` / ``body`` / ``message``), which it turns into
responses with its own sequence numbers; targets report events and ask the client things (debugpy's
``runInTerminal``) through a ``TargetSink``.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from .protocol import Message

Result = dict[str, Any]  # {"success": bool, "body": {...}?, "message": str?}


def ok(body: dict[str, Any] | None = None) -> Result:
    return {"success": True, "body": body} if body is not None else {"success": True}


def failed(message: str) -> Result:
    return {"success": False, "message": message}


class TargetSink(Protocol):
    """What a target may do to the client side."""

    def event(self, name: str, body: dict[str, Any] | None = None) -> None: ...

    async def reverse_request(self, command: str, arguments: dict[str, Any]) -> Message:
        """Send a request to the client; returns its response (``success``, ``body``, ``message``)."""


class DebugTarget(Protocol):
    async def start(self, request: Message) -> asyncio.Future[Result]:
        """Begin the client's ``launch`` / ``attach``; raises DebugError subclasses when it cannot.

        Returns the future of the result to answer it with: debugpy answers ``launch`` only after
        ``configurationDone``, so the session must keep serving requests while it waits.
        """

    def send(self, request: Message) -> asyncio.Future[Result]:
        """Forward a client request, in order; the future resolves to its result."""

    async def close(self) -> None:
        """Stop talking to the target (and stop what this adapter started); safe to call twice."""
