"""What an execution produces: typed output items, the collector that bounds them, and the result.

The items mirror nbformat's output types (``stream``, ``display_data``, ``execute_result``, ``error``), so
the Jupyter extension can store them in a notebook as they are and the gateway can forward them as JSON.
``ExecutionResult.to_json()`` is the seed's ``/api/ide/execute`` reply: ``{output, exitCode,
executionTime, outputs}`` plus ``truncated`` and, when a limit or the kernel stopped the run, ``reason``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any, Literal

from .settings import OutputLimits

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_TIMEOUT = 124
EXIT_KILLED = 137

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclasses.dataclass(frozen=True, slots=True)
class Stream:
    name: Literal["stdout", "stderr"]
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"output_type": "stream", "name": self.name, "text": self.text}


@dataclasses.dataclass(frozen=True, slots=True)
class Rich:
    """A MIME bundle: ``execute_result`` (the cell's value) or ``display_data``."""

    output_type: Literal["execute_result", "display_data"]
    data: Mapping[str, Any]
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    execution_count: int | None = None

    @property
    def text(self) -> str:
        """The plain-text form, one line at least (a terminal prints a value on its own line)."""
        plain = self.data.get("text/plain", "")
        text = "".join(plain) if isinstance(plain, list) else str(plain)
        return text if not text or text.endswith("\n") else text + "\n"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "output_type": self.output_type,
            "data": dict(self.data),
            "metadata": dict(self.metadata),
        }
        if self.output_type == "execute_result":
            out["execution_count"] = self.execution_count
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class Error:
    ename: str
    evalue: str
    traceback: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.traceback:
            return strip_ansi("\n".join(self.traceback)) + "\n"
        return f"{self.ename}: {self.evalue}\n"

    def to_json(self) -> dict[str, Any]:
        return {
            "output_type": "error",
            "ename": self.ename,
            "evalue": self.evalue,
            "traceback": list(self.traceback),
        }


OutputItem = Stream | Rich | Error


@dataclasses.dataclass(frozen=True, slots=True)
class SourceError:
    """An error at a place in a user's file (``locations.find_errors``); ``line`` and ``column`` are
    1-based, ``column`` None when the toolchain does not say."""

    path: str
    line: int
    column: int | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "column": self.column, "message": self.message}


def item_from_message(msg_type: str, content: Mapping[str, Any]) -> OutputItem | None:
    """Translate one IOPub message into an item; None for messages that are not output."""
    if msg_type == "stream":
        name: Literal["stdout", "stderr"] = "stderr" if content.get("name") == "stderr" else "stdout"
        return Stream(name, str(content.get("text", "")))
    if msg_type in ("execute_result", "display_data", "update_display_data"):
        kind: Literal["execute_result", "display_data"] = (
            "execute_result" if msg_type == "execute_result" else "display_data"
        )
        return Rich(
            kind,
            dict(content.get("data") or {}),
            dict(content.get("metadata") or {}),
            content.get("execution_count"),
        )
    if msg_type == "error":
        return Error(
            str(content.get("ename", "Error")),
            str(content.get("evalue", "")),
            tuple(str(line) for line in content.get("traceback") or ()),
        )
    return None


def item_size(item: OutputItem) -> int:
    if isinstance(item, Stream):
        return len(item.text.encode("utf-8", "replace"))
    if isinstance(item, Error):
        return len(item.text.encode("utf-8", "replace"))
    return sum(len(str(v)) for v in item.data.values())


@dataclasses.dataclass(frozen=True, slots=True)
class ExecutionResult:
    """The outcome of one execution. ``exit_code``: 0 ok, 1 error, 124 timeout, 137 killed by a limit."""

    exit_code: int
    outputs: tuple[OutputItem, ...]
    execution_time: float
    truncated: bool = False
    dropped_bytes: int = 0
    reason: str = ""
    language: str = ""
    session_id: str | None = None
    errors: tuple[SourceError, ...] | None = None  # a file run's errors, mapped to its files; None: a snippet

    @property
    def output(self) -> str:
        """Everything a terminal would show, in order: streams, plain-text values, tracebacks."""
        return "".join(item.text for item in self.outputs)

    @property
    def error(self) -> Error | None:
        return next((item for item in reversed(self.outputs) if isinstance(item, Error)), None)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "output": self.output,
            "exitCode": self.exit_code,
            "executionTime": round(self.execution_time * 1000),
            "outputs": [item.to_json() for item in self.outputs],
            "truncated": self.truncated,
        }
        if self.reason:
            out["reason"] = self.reason
        if self.session_id is not None:
            out["sessionId"] = self.session_id
        if self.errors is not None:
            out["errors"] = [error.to_json() for error in self.errors]
        return out


class OutputCollector:
    """Keeps outputs up to the limits (consecutive stream text merged, as nbformat does) and counts the rest.

    Memory stays bounded whatever the kernel sends: past ``max_bytes`` an item is only measured. The
    first dropped item adds one stderr notice so the user knows output is missing, not lost silently.
    """

    def __init__(self, limits: OutputLimits) -> None:
        self._limits = limits
        self._items: list[OutputItem | _StreamParts] = []
        self._bytes = 0
        self.dropped_bytes = 0
        self.dropped_items = 0

    @property
    def truncated(self) -> bool:
        return self.dropped_items > 0

    def add(self, item: OutputItem) -> OutputItem | None:
        """Keep ``item`` (possibly cut); return what was kept, for streaming, or None when dropped."""
        size = item_size(item)
        limits = self._limits
        room = limits.max_bytes - self._bytes if limits.max_bytes else size
        full = limits.max_items and len(self._items) >= limits.max_items and not self._merges(item)
        if isinstance(item, Error) and not full:
            room = max(room, size)  # the error explains the run: always keep it when it fits in count
        if size > room or full:
            if isinstance(item, Stream) and room > 0 and not full:
                cut = item.text.encode("utf-8", "replace")[:room].decode("utf-8", "ignore")
                self.dropped_bytes += size - len(cut.encode("utf-8"))
                self._count_drop()
                kept = Stream(item.name, cut)
                self._store(kept, len(cut.encode("utf-8")))
                return kept
            self.dropped_bytes += size
            self._count_drop()
            return None
        self._store(item, size)
        return item

    def _merges(self, item: OutputItem) -> bool:
        last = self._items[-1] if self._items else None
        return isinstance(item, Stream) and isinstance(last, _StreamParts) and last.name == item.name

    def _store(self, item: OutputItem, size: int) -> None:
        # Stream chunks are joined once at the end: appending to one growing string is quadratic.
        self._bytes += size
        last = self._items[-1] if self._items else None
        if isinstance(item, Stream) and isinstance(last, _StreamParts) and last.name == item.name:
            last.parts.append(item.text)
        elif isinstance(item, Stream):
            self._items.append(_StreamParts(item.name, [item.text]))
        else:
            self._items.append(item)

    def _count_drop(self) -> None:
        self.dropped_items += 1

    def items(self) -> tuple[OutputItem, ...]:
        items = tuple(
            Stream(i.name, "".join(i.parts)) if isinstance(i, _StreamParts) else i for i in self._items
        )
        if not self.truncated:
            return items
        notice = Stream(
            "stderr",
            f"\n[output truncated: {self.dropped_bytes} bytes in "
            f"{self.dropped_items} outputs not shown; limit "
            f"{self._limits.max_bytes} bytes / {self._limits.max_items} outputs]\n",
        )
        return (*items, notice)


@dataclasses.dataclass(slots=True)
class _StreamParts:
    name: Literal["stdout", "stderr"]
    parts: list[str]
