"""The Debug Adapter Protocol on the wire: ``Content-Length`` framed JSON over asyncio streams.

DAP frames each message like LSP (a ``Content-Length: N`` header, a blank line, N bytes of UTF-8
JSON) but without JSON-RPC: a message is a request, a response or an event, each with its own
``seq``. The helpers here build those three shapes so the rest of the adapter never spells them out.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Any

log = logging.getLogger(__name__)

Message = dict[str, Any]

MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # a variables reply for a huge object is large, a gigabyte is an error


class ProtocolError(Exception):
    """The peer sent something that is not DAP framing or JSON; the connection cannot continue."""


class MessageReader:
    """Reads DAP messages from a byte stream; ``read()`` returns None at a clean end of stream."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    async def read(self) -> Message | None:
        length: int | None = None
        while True:
            try:
                line = await self._reader.readuntil(b"\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial.strip():
                    return None
                raise ProtocolError(f"stream ended inside a header: {exc.partial[:80]!r}") from exc
            if line == b"\r\n":
                if length is None:
                    continue  # stray blank line between messages
                break
            name, _, value = line.decode("ascii", "replace").partition(":")
            if name.strip().lower() == "content-length":
                try:
                    length = int(value.strip())
                except ValueError as exc:
                    raise ProtocolError(f"bad Content-Length header: {line!r}") from exc
        if length < 0 or length > MAX_MESSAGE_BYTES:
            raise ProtocolError(f"refusing a message of {length} bytes")
        try:
            body = await self._reader.readexactly(length)
        except asyncio.IncompleteReadError as exc:
            raise ProtocolError("stream ended inside a message body") from exc
        try:
            message = json.loads(body)
        except ValueError as exc:
            raise ProtocolError(f"message body is not JSON: {body[:80]!r}") from exc
        if not isinstance(message, dict) or "type" not in message:
            raise ProtocolError(f"not a DAP message: {body[:80]!r}")
        return message


class MessageWriter:
    """Writes DAP messages; ``write`` is synchronous so messages keep the order they were written in."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    def write(self, message: Message) -> None:
        if self._writer.is_closing():
            log.debug("dropping %s %s: the stream is closed", message.get("type"), _name(message))
            return
        body = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._writer.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    async def drain(self) -> None:
        if not self._writer.is_closing():
            try:
                await self._writer.drain()
            except (ConnectionError, BrokenPipeError):
                log.debug("peer closed the stream while writing")

    async def close(self) -> None:
        if not self._writer.is_closing():
            self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, BrokenPipeError):
            pass


def _name(message: Message) -> str:
    return str(message.get("command") or message.get("event") or "")


def request(seq: int, command: str, arguments: dict[str, Any] | None = None) -> Message:
    message: Message = {"seq": seq, "type": "request", "command": command}
    if arguments is not None:
        message["arguments"] = arguments
    return message


def response(seq: int, req: Message, body: dict[str, Any] | None = None) -> Message:
    message: Message = {
        "seq": seq,
        "type": "response",
        "request_seq": req.get("seq", 0),
        "command": req.get("command", ""),
        "success": True,
    }
    if body is not None:
        message["body"] = body
    return message


def error_response(seq: int, req: Message, text: str, *, show_user: bool = True) -> Message:
    """A failed response; ``body.error`` makes VS Code and nvim-dap show ``text`` to the user."""
    return {
        "seq": seq,
        "type": "response",
        "request_seq": req.get("seq", 0),
        "command": req.get("command", ""),
        "success": False,
        "message": text,
        "body": {"error": {"id": 1, "format": text, "showUser": show_user}},
    }


def event(seq: int, name: str, body: dict[str, Any] | None = None) -> Message:
    message: Message = {"seq": seq, "type": "event", "event": name}
    if body is not None:
        message["body"] = body
    return message


async def stdio_streams() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """The process's stdin/stdout as asyncio streams, with fd 1 then pointed at stderr.

    Stdout carries only the protocol: after this, a stray ``print`` from any library lands on stderr
    instead of corrupting a message, and child processes inherit stderr as their stdout.
    """
    loop = asyncio.get_running_loop()
    protocol_out = os.fdopen(os.dup(sys.stdout.fileno()), "wb", buffering=0)
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    # a StreamReaderProtocol (with a reader nobody reads) gives the writer drain() and wait_closed()
    transport, proto = await loop.connect_write_pipe(
        lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), protocol_out
    )
    writer = asyncio.StreamWriter(transport, proto, None, loop)
    return reader, writer
