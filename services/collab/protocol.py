"""The y-websocket wire format, checked strictly on the way in.

Every message is binary: a varuint message type, then its body. ``SYNC`` (0) carries a sync step
(0: a state vector, 1: the updates that vector lacks, 2: an update), each body a varuint-length-prefixed
payload; ``AWARENESS`` (1) carries a length-prefixed awareness update (entries of client id, clock and
a JSON state, ``null`` when the client leaves); ``QUERY_AWARENESS`` (3) asks for everyone's state.

``ACK`` (0x4E, Nexus's own) is sent only to clients that ask for it (``?ack=1``): its varuint ``n`` says
the connection's first ``n`` update messages (sync step 2, and everything else sent before them, with
them) have been journaled. Standard y-websocket clients never see it.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from nexus.engine.errors import NexusError

SYNC = 0
AWARENESS = 1
AUTH = 2
QUERY_AWARENESS = 3
ACK = 0x4E
STEP1 = 0
STEP2 = 1
UPDATE = 2
EMPTY_UPDATE = b"\x00\x00"
MAX_AWARENESS_STATE = 64 * 1024  # bytes of JSON per client: a cursor and a name, not a payload


class ProtocolError(NexusError):
    """A message that is not valid y-websocket; the connection that sent it is closed with 1007."""


@dataclasses.dataclass(frozen=True, slots=True)
class AwarenessEntry:
    client: int
    clock: int
    state: dict[str, Any] | None  # None: the client left


class Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def varuint(self) -> int:
        value = shift = 0
        while True:
            if self.pos >= len(self.data):
                raise ProtocolError("truncated message (a number runs past the end)")
            byte = self.data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise ProtocolError("malformed number (more than 64 bits)")

    def payload(self) -> bytes:
        length = self.varuint()
        end = self.pos + length
        if end > len(self.data):
            raise ProtocolError(f"truncated message (a payload of {length} bytes, {len(self.data) - self.pos} left)")
        chunk = self.data[self.pos:end]
        self.pos = end
        return chunk

    def done(self) -> None:
        if self.pos != len(self.data):
            raise ProtocolError(f"{len(self.data) - self.pos} unexpected byte(s) after the message")


def varuint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def payload(data: bytes) -> bytes:
    return varuint(len(data)) + data


def sync_message(step: int, data: bytes) -> bytes:
    return bytes([SYNC, step]) + payload(data)


def awareness_message(update: bytes) -> bytes:
    return bytes([AWARENESS]) + payload(update)


def ack_message(count: int) -> bytes:
    return bytes([ACK]) + varuint(count)


def parse(message: bytes) -> tuple[int, int, bytes]:
    """(message type, sync step or 0, payload). Raises ProtocolError."""
    if not isinstance(message, bytes):
        raise ProtocolError("y-websocket messages are binary frames, not text")
    reader = Reader(message)
    kind = reader.varuint()
    if kind == SYNC:
        step = reader.varuint()
        if step not in (STEP1, STEP2, UPDATE):
            raise ProtocolError(f"unknown sync step {step}")
        body = reader.payload()
        reader.done()
        return kind, step, body
    if kind == AWARENESS:
        body = reader.payload()
        reader.done()
        return kind, 0, body
    if kind == QUERY_AWARENESS:
        return kind, 0, b""
    if kind == AUTH:
        raise ProtocolError("y-websocket auth messages are not used: pass the token in the URL (?token=...)")
    raise ProtocolError(f"unknown message type {kind}")


def parse_awareness(update: bytes) -> list[AwarenessEntry]:
    reader = Reader(update)
    count = reader.varuint()
    if count > 10_000:
        raise ProtocolError(f"an awareness update for {count} clients")
    entries = []
    for _ in range(count):
        client = reader.varuint()
        clock = reader.varuint()
        raw = reader.payload()
        if len(raw) > MAX_AWARENESS_STATE:
            raise ProtocolError(f"an awareness state of {len(raw)} bytes (at most {MAX_AWARENESS_STATE})")
        try:
            state = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProtocolError(f"an awareness state that is not JSON ({exc})") from exc
        if state is not None and not isinstance(state, dict):
            raise ProtocolError("an awareness state must be a JSON object or null")
        entries.append(AwarenessEntry(client, clock, state))
    reader.done()
    return entries


def encode_awareness(entries: list[AwarenessEntry]) -> bytes:
    out = bytearray(varuint(len(entries)))
    for entry in entries:
        out += varuint(entry.client) + varuint(entry.clock)
        out += payload(json.dumps(entry.state, separators=(",", ":")).encode("utf-8"))
    return bytes(out)
