"""Where a debugger finds the kernel sessions that live in other processes.

A session's kernel belongs to the process whose ``ExecutionService`` opened it (the language server,
the WebSocket gateway, the Jupyter extension); ``nexus dap`` is a separate process that an editor starts.
So each service advertises its local sessions as small JSON files, one per kernel, in
``$NEXUS_SESSIONS_DIR`` or else ``<jupyter runtime dir>/nexus-sessions`` (mode 0700, next to Jupyter's
own connection files, which hold the same kind of secret). An entry names the kernel's connection
file; ``nexus dap`` connects to the kernel with jupyter_client like any second client (a console,
JupyterLab's debugger) would.

Entries are removed when the session is shut down or culled. An entry whose owner process is gone
(a crash, a SIGKILL) is stale: readers skip and delete it, so a dead language server never looks like
an attachable session.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from .errors import DebugConfigError, NoSuchDebugTargetError

log = logging.getLogger(__name__)

SUFFIX = ".json"


def sessions_dir() -> Path:
    configured = os.environ.get("NEXUS_SESSIONS_DIR")
    if configured:
        return Path(configured)
    from jupyter_core.paths import jupyter_runtime_dir

    return Path(jupyter_runtime_dir()) / "nexus-sessions"


@dataclasses.dataclass(frozen=True, slots=True)
class SessionEntry:
    """One advertised kernel session: who owns it and how to reach its kernel."""

    session_id: str
    kernel_id: str
    language: str
    connection_file: str
    owner_pid: int
    owner_started: float  # the owner's process start time: a recycled pid does not match it
    cwd: str
    opened: float

    def to_json(self) -> dict[str, Any]:
        return {
            "sessionId": self.session_id,
            "kernelId": self.kernel_id,
            "language": self.language,
            "connectionFile": self.connection_file,
            "ownerPid": self.owner_pid,
            "ownerStarted": self.owner_started,
            "cwd": self.cwd,
            "opened": self.opened,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SessionEntry:
        return cls(
            str(data["sessionId"]),
            str(data["kernelId"]),
            str(data["language"]),
            str(data["connectionFile"]),
            int(data["ownerPid"]),
            float(data["ownerStarted"]),
            str(data.get("cwd", "")),
            float(data.get("opened", 0.0)),
        )

    def describe(self) -> str:
        return f"{self.session_id} ({self.language}, kernel {self.kernel_id}, pid {self.owner_pid})"


def _process_started(pid: int) -> float | None:
    """The start time of a live process, or None when it is gone (or a zombie)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return None
        return float(process.create_time())
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


class SessionRegistry:
    """Advertises this process's sessions and finds the live sessions of every process."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or sessions_dir()

    def _path(self, owner_pid: int, kernel_id: str) -> Path:
        return self.directory / f"{owner_pid}-{kernel_id}{SUFFIX}"

    def advertise(self, session_id: str, kernel_id: str, language: str, connection_file: str) -> SessionEntry:
        """Publish a session of this process; returns the entry. Raises OSError when the folder is unwritable."""
        pid = os.getpid()
        entry = SessionEntry(
            session_id,
            kernel_id,
            language,
            connection_file,
            pid,
            _process_started(pid) or 0.0,
            os.getcwd(),
            time.time(),
        )
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # write then rename: a reader never sees half an entry
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry.to_json(), fh)
            os.replace(tmp, self._path(pid, kernel_id))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return entry

    def withdraw(self, kernel_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(os.getpid(), kernel_id).unlink()

    def entries(self) -> list[SessionEntry]:
        """The live sessions of all processes, oldest first; stale entries are deleted on the way."""
        found: list[SessionEntry] = []
        try:
            paths = sorted(self.directory.glob(f"*{SUFFIX}"))
        except OSError:
            return []
        for path in paths:
            try:
                entry = SessionEntry.from_json(json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                continue  # withdrawn meanwhile
            except (OSError, ValueError, KeyError, TypeError) as exc:
                log.warning("ignoring unreadable session entry %s: %s", path, exc)
                continue
            started = _process_started(entry.owner_pid)
            if started is None or (entry.owner_started and abs(started - entry.owner_started) > 1.0):
                log.info("removing the stale session entry %s (its process is gone)", path.name)
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            found.append(entry)
        return sorted(found, key=lambda e: e.opened)

    def find(self, session_id: str | None = None, kernel_id: str | None = None) -> SessionEntry:
        """The one live session matching the id given, or the only one when none is given.

        Raises NoSuchDebugTargetError (listing what is running) or DebugConfigError when several
        processes have a session of that name.
        """
        entries = self.entries()
        if kernel_id:
            matches = [e for e in entries if e.kernel_id == kernel_id]
            wanted = f"kernel {kernel_id!r}"
        elif session_id:
            matches = [e for e in entries if e.session_id == session_id]
            wanted = f"kernel session {session_id!r}"
        else:
            matches = entries
            wanted = "kernel session"
        if len(matches) == 1:
            return matches[0]
        running = "; ".join(e.describe() for e in entries) or "none"
        if not matches:
            raise NoSuchDebugTargetError(
                f"no running {wanted} to attach to (running sessions: {running}). "
                "Sessions are started by Nexus (Run Cell in the editor, ide:execute, nexus run) and "
                "listed by `nexus dap --list-sessions`."
            )
        if not session_id and not kernel_id:
            raise DebugConfigError(
                f"several kernel sessions are running; name one with sessionId or kernelId: {running}"
            )
        raise DebugConfigError(
            f"several processes have a {wanted}; name the kernel with kernelId instead: "
            + "; ".join(e.describe() for e in matches)
        )
