"""``nexus gateway`` as the real subprocess a user runs, started and killed (``kill -9``) by the tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from nexus.cli.collab_client import room_url
from nexus.gateway import Role, TokenIssuer, UserStore, load_secret


class GatewayProcess:
    """One workspace and config folder; :meth:`start` (again after :meth:`kill`) runs a fresh gateway on it."""

    def __init__(self, tmp: Path) -> None:
        self.root = tmp / "workspace"
        self.root.mkdir(parents=True, exist_ok=True)
        self.config = tmp / "config"
        UserStore(self.config / "gateway-users.json").add("dave", Role.DEVELOPER, "dave-password")
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("NEXUS_GATEWAY_")},
                    "NEXUS_CONFIG_DIR": str(self.config), "NEXUS_CACHE_DIR": str(tmp / "cache")}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.log: list[str] = []

    def start(self, timeout: float = 60.0) -> str:
        proc = subprocess.Popen([sys.executable, "-m", "nexus.cli", "gateway", "--port", "0", "--root", str(self.root)],
                                env=self.env, stderr=subprocess.PIPE, text=True)
        assert proc.stderr is not None
        found = threading.Event()

        def drain() -> None:
            assert proc.stderr is not None
            for line in proc.stderr:
                self.log.append(line)
                match = re.search(r"listening on (ws://\S+)", line)
                if match:
                    self.url = match.group(1)
                    found.set()

        self._drain = threading.Thread(target=drain, daemon=True)
        self._drain.start()
        self.proc = proc
        if not found.wait(timeout):
            self.kill()
            raise AssertionError("the gateway did not start:\n" + "".join(self.log[-30:]))
        return self.url

    def token(self, user: str = "dave") -> str:
        secret = load_secret("", self.config / "gateway-secret")
        return TokenIssuer(secret).issue(user, Role.DEVELOPER).token

    def room(self, name: str) -> str:
        return room_url(self.url, name, self.token())

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self._reap()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap()

    def _reap(self) -> None:
        if self.proc is not None:
            self._drain.join(10)
            assert self.proc.stderr is not None
            self.proc.stderr.close()
        self.proc = None
