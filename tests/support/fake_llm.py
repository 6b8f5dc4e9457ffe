"""A local model server on 127.0.0.1 that speaks the real wire protocols, for tests and benchmarks.

It answers ``POST .../v1/messages`` as the Anthropic Messages API (SSE with ``event:`` lines and typed
data: ``message_start``, ``content_block_start``, ``content_block_delta``, ``content_block_stop``,
``message_delta``, ``message_stop``) and ``POST .../chat/completions`` as OpenAI chat completions
(``chat.completion.chunk`` SSE chunks, a usage chunk when asked, ``[DONE]``), streamed or not. The
official SDKs are pointed at it through ``base_url``; nothing is mocked.

The first path segment is a *route*, so one server can play several providers:
``fake.base_url("anthropic")`` is ``http://127.0.0.1:PORT/anthropic`` and ``fake.base_url("openai")``
is ``http://127.0.0.1:PORT/openai/v1``. Each route answers from its own script of :class:`Reply`
values (then its default), and every request is recorded with its headers, body and what happened to
the connection::

    with FakeLLM() as fake:
        fake.script("anthropic", Reply.error(429, retry_after=1), Reply(text="hello"))
        ...  # point a client at fake.base_url("anthropic")
        assert fake.requests[-1].completed

Reuse it from any test folder: ``from tests.support.fake_llm import FakeLLM, Reply, fake_llm`` (the
last is a pytest fixture), or ``fake.env()`` for a subprocess's environment. The server runs on its
own thread and event loop, so it serves sync tests, async tests and subprocesses alike.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import itertools
import json
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, Self

import pytest


@dataclasses.dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer. Delays are seconds.

    ``first_byte_delay``: wait before sending anything (headers included). ``chunk_interval``: wait
    between text chunks (a slow stream). ``status`` >= 400: an error response in the protocol's error
    shape, with ``retry-after`` when ``retry_after`` is set. ``cut_after``: abort the connection after
    that many text chunks (a stream broken mid-way). ``error_event_after``: after that many chunks,
    send the protocol's in-stream error (Anthropic ``event: error`` overloaded, OpenAI an error
    object) and end the stream. ``truncate_after``: end the stream cleanly after that many chunks
    without the final events. ``echo``: answer with the last user message instead of ``text``.
    """

    text: str = "Hello from the fake model."
    chunks: tuple[str, ...] | None = None
    first_byte_delay: float = 0.0
    chunk_interval: float = 0.0
    status: int = 200
    retry_after: float | None = None
    error_message: str | None = None
    cut_after: int | None = None
    error_event_after: int | None = None
    truncate_after: int | None = None
    echo: bool = False
    stop_reason: str = "end_turn"
    tool_calls: tuple[tuple[str, Any], ...] = ()  # (tool name, arguments: a dict, or raw text sent as is)

    @classmethod
    def tools(cls, *calls: tuple[str, Any], text: str = "") -> Reply:
        """A turn that calls tools (Anthropic ``tool_use`` blocks, OpenAI ``tool_calls``), after ``text``."""
        return cls(text=text, chunks=() if not text else None, tool_calls=tuple(calls), stop_reason="tool_use")

    @classmethod
    def error(cls, status: int, *, retry_after: float | None = None, message: str | None = None) -> Reply:
        return cls(status=status, retry_after=retry_after, error_message=message)

    def pieces(self, request_json: Mapping[str, Any]) -> list[str]:
        if self.echo:
            return _split(_last_user_text(request_json))
        return list(self.chunks) if self.chunks is not None else _split(self.text)


@dataclasses.dataclass(slots=True)
class RecordedRequest:
    """A request as the server saw it, and what became of it (updated while it is served)."""

    id: int
    route: str
    path: str
    protocol: str
    headers: dict[str, str]
    json: dict[str, Any]
    received_at: float
    reply: Reply
    chunks_sent: int = 0
    first_byte_at: float | None = None  # perf_counter when the first response bytes were written
    completed: bool = False  # the whole reply was written
    disconnected: threading.Event = dataclasses.field(default_factory=threading.Event)

    @property
    def prompt_text(self) -> str:
        return _last_user_text(self.json)


class FakeLLM:
    """The server. ``start()``/``stop()`` or use it as a context manager."""

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply()
        self.requests: list[RecordedRequest] = []
        self._scripts: dict[str, collections.deque[Reply]] = collections.defaultdict(collections.deque)
        self._defaults: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        def run() -> None:
            assert self._loop is not None
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._serve_connection, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-llm", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake LLM server did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _shutdown(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    # -- configuration ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, route: str, protocol: str | None = None) -> str:
        """The ``base_url`` to give an SDK for ``route``: Anthropic clients append ``/v1/messages``,
        OpenAI clients ``/chat/completions`` (so their base ends in ``/v1``)."""
        protocol = protocol or ("anthropic" if route == "anthropic" else "openai")
        return f"{self.url}/{route}" if protocol == "anthropic" else f"{self.url}/{route}/v1"

    def env(self, api_key: str = "test-key-not-secret") -> dict[str, str]:
        """Environment variables configuring all four providers against this server."""
        return {
            "ANTHROPIC_API_KEY": api_key, "OPENAI_API_KEY": api_key, "GEMINI_API_KEY": api_key,
            "NEXUS_ANTHROPIC_BASE_URL": self.base_url("anthropic"),
            "NEXUS_OPENAI_BASE_URL": self.base_url("openai"),
            "NEXUS_GEMINI_BASE_URL": self.base_url("gemini"),
            "NEXUS_LOCAL_BASE_URL": self.base_url("local"), "NEXUS_LOCAL_MODEL": "fake-local-model",
        }

    def script(self, route: str, *replies: Reply) -> None:
        """Queue replies for ``route`` ("*" for any route), used once each, in order."""
        with self._lock:
            self._scripts[route].extend(replies)

    def set_default(self, reply: Reply, route: str | None = None) -> None:
        """The reply once the script is used up (for ``route``, or every route)."""
        with self._lock:
            if route is None:
                self.default = reply
            else:
                self._defaults[route] = reply

    def requests_to(self, route: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.route == route]

    async def wait_disconnected(self, request: RecordedRequest, timeout: float = 5.0) -> bool:
        """Wait (without blocking the caller's loop) until the client closed ``request``'s connection."""
        return await asyncio.to_thread(request.disconnected.wait, timeout)

    def _next_reply(self, route: str) -> Reply:
        with self._lock:
            for key in (route, "*"):
                if self._scripts[key]:
                    return self._scripts[key].popleft()
            return self._defaults.get(route, self.default)

    # -- HTTP ------------------------------------------------------------------------------------
    async def _serve_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        try:
            leftover: bytes | None = b""
            while leftover is not None:
                leftover = await self._serve_request(reader, writer, leftover)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            self._handlers.discard(task)
            self._writers.discard(writer)
            writer.transport.abort()

    async def _serve_request(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                             leftover: bytes) -> bytes | None:
        """Serve one request; return bytes already read from the next one, or None to close."""
        line = leftover + await reader.readline()
        if not line.strip():
            return None
        method, target, _version = line.decode("latin-1").split(" ", 2)
        headers: dict[str, str] = {}
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
        path = target.split("?", 1)[0]
        route = path.strip("/").split("/", 1)[0]
        if method != "POST" or not path.endswith(("/v1/messages", "/chat/completions")):
            await _write_json(writer, 404, {"error": {"message": f"no such endpoint: {method} {path}"}})
            return b""
        protocol = "anthropic" if path.endswith("/v1/messages") else "openai"
        try:
            payload = json.loads(body or b"{}")
        except json.JSONDecodeError:
            await _write_json(writer, 400, {"error": {"message": "body is not JSON"}})
            return b""
        recorded = RecordedRequest(next(self._ids), route, path, protocol, headers, payload,
                                   time.perf_counter(), self._next_reply(route))
        self.requests.append(recorded)
        return await _Responder(recorded, reader, writer).respond()


class _Responder:
    """Writes one reply in one protocol, watching for the client going away."""

    def __init__(self, rec: RecordedRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.rec, self.reader, self.writer = rec, reader, writer
        self.reply = rec.reply
        self.model = str(rec.json.get("model") or "fake-model")
        self.anthropic = rec.protocol == "anthropic"
        self._eof: asyncio.Task[bytes] | None = None

    async def respond(self) -> bytes | None:
        """Serve the reply; return bytes of the next request already read, or None to close."""
        # A pending read notices the client closing the connection while we wait or stream.
        self._eof = asyncio.ensure_future(self.reader.read(1))
        keep_alive = False
        try:
            if self.reply.first_byte_delay and await self._client_gone(self.reply.first_byte_delay):
                return None
            if self.reply.status >= 400:
                await self._error()
                keep_alive = True
            elif self.rec.json.get("stream"):
                keep_alive = await self._stream()
            else:
                await self._whole()
                keep_alive = True
        except ConnectionError:
            self.rec.disconnected.set()
        finally:
            if not self._eof.done():
                self._eof.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._eof
        if not keep_alive:
            return None
        if self._eof.cancelled():
            return b""
        # The client sent its next request on this connection before our watcher was cancelled.
        first = self._eof.result()
        return first if first else None

    async def _client_gone(self, wait: float) -> bool:
        assert self._eof is not None
        done, _ = await asyncio.wait({self._eof}, timeout=wait)
        if done:
            self.rec.disconnected.set()
            return True
        return False

    def _mark_first_byte(self) -> None:
        if self.rec.first_byte_at is None:
            self.rec.first_byte_at = time.perf_counter()

    async def _error(self) -> None:
        message = self.reply.error_message or f"fake error {self.reply.status}"
        extra = {}
        if self.reply.retry_after is not None:
            extra["retry-after"] = f"{self.reply.retry_after:g}"
        if self.anthropic:
            kind = {429: "rate_limit_error", 401: "authentication_error", 529: "overloaded_error"}.get(
                self.reply.status, "api_error" if self.reply.status >= 500 else "invalid_request_error")
            body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
        else:
            body = {"error": {"message": message, "type": "server_error" if self.reply.status >= 500
                              else "invalid_request_error", "param": None, "code": None}}
        self._mark_first_byte()
        self.rec.completed = True
        await _write_json(self.writer, self.reply.status, body, extra)

    async def _whole(self) -> None:
        text = "".join(self.reply.pieces(self.rec.json))
        usage_in, usage_out = _count_words(self.rec.json), len(self.reply.pieces(self.rec.json))
        if self.anthropic:
            body: dict[str, Any] = {
                "id": f"msg_fake_{self.rec.id}", "type": "message", "role": "assistant", "model": self.model,
                "content": [{"type": "text", "text": text}], "stop_reason": self.reply.stop_reason,
                "stop_sequence": None, "usage": {"input_tokens": usage_in, "output_tokens": usage_out}}
        else:
            body = {
                "id": f"chatcmpl-fake-{self.rec.id}", "object": "chat.completion", "created": int(time.time()),
                "model": self.model, "choices": [{"index": 0, "finish_reason": _openai_finish(self.reply),
                                                  "message": {"role": "assistant", "content": text}}],
                "usage": {"prompt_tokens": usage_in, "completion_tokens": usage_out,
                          "total_tokens": usage_in + usage_out}}
        self._mark_first_byte()
        self.rec.completed = True
        await _write_json(self.writer, 200, body)

    async def _stream(self) -> bool:
        pieces = self.reply.pieces(self.rec.json)
        head = (b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream; charset=utf-8\r\n"
                b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n")
        opening = self._opening()
        stops_at_zero = 0 in (self.reply.cut_after, self.reply.error_event_after, self.reply.truncate_after)
        first = pieces[0] if pieces and not stops_at_zero else None
        # Headers, opening events and the first text go out in one write: the "first byte" moment.
        data = head + _chunk(opening + (self._delta(first) if first is not None else b""))
        sent = 1 if first is not None else 0
        self.rec.chunks_sent = sent
        self._mark_first_byte()
        self.writer.write(data)
        await self.writer.drain()
        for piece in pieces[sent:]:
            if await self._interrupt_at(sent):
                return False
            if self.reply.chunk_interval and await self._client_gone(self.reply.chunk_interval):
                return False
            if self._eof is not None and self._eof.done():
                self.rec.disconnected.set()
                return False
            sent += 1
            self.rec.chunks_sent = sent
            self.writer.write(_chunk(self._delta(piece)))
            await self.writer.drain()
        if await self._interrupt_at(sent):
            return False
        self.rec.completed = True  # set before the write, so a client that has the answer sees it
        self.writer.write(_chunk(self._closing(pieces)) + b"0\r\n\r\n")
        await self.writer.drain()
        return True

    async def _interrupt_at(self, sent: int) -> bool:
        """Apply cut/error/truncate behaviours once ``sent`` chunks are out; True if the reply ended."""
        reply = self.reply
        if reply.cut_after is not None and sent >= reply.cut_after:
            self.writer.transport.abort()  # no terminating chunk: the client sees a broken body
            return True
        if reply.error_event_after is not None and sent >= reply.error_event_after:
            if self.anthropic:
                event = _sse("error", {"type": "error", "error": {"type": "overloaded_error",
                                                                  "message": "Overloaded"}})
            else:
                event = _sse(None, {"error": {"message": "The server had an error while processing",
                                              "type": "server_error", "param": None, "code": None}})
            self.writer.write(_chunk(event) + b"0\r\n\r\n")
            await self.writer.drain()
            return True
        if reply.truncate_after is not None and sent >= reply.truncate_after:
            self.writer.write(b"0\r\n\r\n")
            await self.writer.drain()
            return True
        return False

    def _opening(self) -> bytes:
        if self.anthropic:
            message: dict[str, Any] = {"id": f"msg_fake_{self.rec.id}", "type": "message", "role": "assistant",
                       "model": self.model, "content": [], "stop_reason": None, "stop_sequence": None,
                       "usage": {"input_tokens": _count_words(self.rec.json), "output_tokens": 1}}
            return (_sse("message_start", {"type": "message_start", "message": message})
                    + _sse("content_block_start", {"type": "content_block_start", "index": 0,
                                                   "content_block": {"type": "text", "text": ""}})
                    + _sse("ping", {"type": "ping"}))
        return _sse(None, self._openai_chunk({"role": "assistant", "content": ""}, None))

    def _delta(self, text: str) -> bytes:
        if self.anthropic:
            return _sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                "delta": {"type": "text_delta", "text": text}})
        return _sse(None, self._openai_chunk({"content": text}, None))

    def _tool_events(self) -> bytes:
        out = b""
        for n, (name, arguments) in enumerate(self.reply.tool_calls):
            raw = arguments if isinstance(arguments, str) else json.dumps(arguments)
            halves = [raw[:len(raw) // 2], raw[len(raw) // 2:]]
            call_id = f"toolu_{self.rec.id}_{n}" if self.anthropic else f"call_{self.rec.id}_{n}"
            if self.anthropic:
                index = n + 1
                out += _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": {
                    "type": "tool_use", "id": call_id, "name": name, "input": {}}})
                for half in halves:
                    out += _sse("content_block_delta", {"type": "content_block_delta", "index": index,
                                                        "delta": {"type": "input_json_delta", "partial_json": half}})
                out += _sse("content_block_stop", {"type": "content_block_stop", "index": index})
            else:
                out += _sse(None, self._openai_chunk({"tool_calls": [{"index": n, "id": call_id, "type": "function",
                                                                      "function": {"name": name, "arguments": ""}}]},
                                                     None))
                for half in halves:
                    out += _sse(None, self._openai_chunk({"tool_calls": [{"index": n, "function": {"arguments": half}}]},
                                                         None))
        return out

    def _closing(self, pieces: list[str]) -> bytes:
        if self.anthropic:
            return (_sse("content_block_stop", {"type": "content_block_stop", "index": 0})
                    + self._tool_events()
                    + _sse("message_delta", {"type": "message_delta",
                                             "delta": {"stop_reason": self.reply.stop_reason, "stop_sequence": None},
                                             "usage": {"output_tokens": len(pieces)}})
                    + _sse("message_stop", {"type": "message_stop"}))
        out = self._tool_events() + _sse(None, self._openai_chunk({}, _openai_finish(self.reply)))
        if (self.rec.json.get("stream_options") or {}).get("include_usage"):
            usage_in = _count_words(self.rec.json)
            chunk = self._openai_chunk(None, None)
            chunk["choices"] = []
            chunk["usage"] = {"prompt_tokens": usage_in, "completion_tokens": len(pieces),
                              "total_tokens": usage_in + len(pieces)}
            out += _sse(None, chunk)
        return out + b"data: [DONE]\n\n"

    def _openai_chunk(self, delta: dict[str, Any] | None, finish: str | None) -> dict[str, Any]:
        return {"id": f"chatcmpl-fake-{self.rec.id}", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": self.model,
                "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish, "logprobs": None}]}


def _openai_finish(reply: Reply) -> str:
    return {"end_turn": "stop", "max_tokens": "length", "stop_sequence": "stop",
            "tool_use": "tool_calls"}.get(reply.stop_reason, "stop")


def _sse(event: str | None, data: dict[str, Any]) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


async def _write_json(writer: asyncio.StreamWriter, status: int, body: dict[str, Any],
                      headers: Mapping[str, str] | None = None) -> None:
    data = json.dumps(body).encode()
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "content-type: application/json",
             f"content-length: {len(data)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
    await writer.drain()


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
            500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 529: "Overloaded"}


def _split(text: str) -> list[str]:
    """Word-sized chunks that join back to ``text`` exactly."""
    words = text.split(" ")
    return [w + " " for w in words[:-1]] + ([words[-1]] if words[-1] else [])


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def _last_user_text(request_json: Mapping[str, Any]) -> str:
    for message in reversed(request_json.get("messages") or []):
        if message.get("role") == "user":
            return _message_text(message.get("content"))
    return ""


def _count_words(request_json: Mapping[str, Any]) -> int:
    texts = [_message_text(m.get("content")) for m in request_json.get("messages") or []]
    system = request_json.get("system")
    texts.append(system if isinstance(system, str) else "")
    return sum(len(t.split()) for t in texts)


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    """A started :class:`FakeLLM`, stopped after the test."""
    with FakeLLM() as server:
        yield server
