"""``nexus users`` in-process, and ``nexus gateway`` as the real subprocess a user runs."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from nexus.cli.main import main
from nexus.gateway import Role, UserStore


def test_users_add_list_remove(tmp_path: Path) -> None:
    users = tmp_path / "users.json"
    runner = CliRunner()
    added = runner.invoke(main, ["users", "--file", str(users), "add", "dave", "--role", "developer",
                                 "--password", "dave-password"])
    assert added.exit_code == 0, added.output
    prompted = runner.invoke(main, ["users", "--file", str(users), "add", "vera", "--role", "viewer"],
                             input="vera-password\nvera-password\n")
    assert prompted.exit_code == 0, prompted.output
    assert "vera-password" not in users.read_text()
    assert UserStore(users).verify("vera", "vera-password") is not None
    listed = runner.invoke(main, ["users", "--file", str(users), "list"])
    assert re.findall(r"^(\w+)\t(\w+)\t", listed.output, re.MULTILINE) == [("dave", "developer"), ("vera", "viewer")]
    removed = runner.invoke(main, ["users", "--file", str(users), "remove", "dave"])
    assert removed.exit_code == 0 and UserStore(users).get("dave") is None


def test_users_errors_are_one_clear_line(tmp_path: Path) -> None:
    users = ["users", "--file", str(tmp_path / "users.json")]
    runner = CliRunner()
    for args, message in [(["add", "x", "--role", "viewer", "--password", "short"], "at least 8 characters"),
                          (["add", "x", "--role", "root", "--password", "long-enough"], "'root' is not one of"),
                          (["remove", "nobody"], "no gateway user named nobody")]:
        result = runner.invoke(main, users + args)
        assert result.exit_code != 0 and message in result.output, result.output


def test_users_default_to_the_configured_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXUS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["users", "add", "erin", "--role", "admin", "--password", "erin-password"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "config" / "gateway-users.json"
    assert UserStore(path).get("erin") is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.fixture
def config_env(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "config"
    UserStore(config / "gateway-users.json").add("dave", Role.DEVELOPER, "dave-password")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    return {**env, "NEXUS_CONFIG_DIR": str(config)}


@pytest.fixture
def gateway_process(tmp_path: Path, config_env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    (tmp_path / "hello.txt").write_text("hello\n")
    proc = subprocess.Popen([sys.executable, "-m", "nexus.cli", "gateway", "--port", "0", "--root", str(tmp_path)],
                            env=config_env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    url = ""
    for line in proc.stderr:
        found = re.search(r"listening on (ws://\S+)", line)
        if found:
            url = found.group(1)
            break
    try:
        assert url, f"the gateway did not start (exit {proc.poll()})"
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        proc.stderr.close()


def test_the_gateway_command_serves_and_stops_gracefully_on_sigterm(
        gateway_process: tuple[subprocess.Popen[str], str], tmp_path: Path) -> None:
    proc, url = gateway_process
    secret = tmp_path / "config" / "gateway-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    port = re.search(r":(\d+)/", url).group(1)  # type: ignore[union-attr]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as response:
        assert json.loads(response.read())["status"] == "ok"
    with connect(url) as ws:
        ws.send(json.dumps({"type": "auth:login", "id": 1,
                            "payload": {"username": "dave", "password": "dave-password"}}))
        assert json.loads(ws.recv(timeout=10))["data"]["role"] == "developer"
        ws.send(json.dumps({"type": "files:read", "id": 2, "payload": {"path": "hello.txt"}}))
        assert json.loads(ws.recv(timeout=10))["data"]["content"] == "hello\n"
        proc.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=10)
        assert ws.close_code == 1001
    assert proc.wait(10) == 0
    assert proc.stderr is not None
    assert "stopped" in proc.stderr.read()
    assert secret.read_text().strip() not in (tmp_path / "config" / "gateway-users.json").read_text()


def test_the_gateway_command_reports_bad_settings(tmp_path: Path, config_env: dict[str, str]) -> None:
    result = subprocess.run([sys.executable, "-m", "nexus.cli", "gateway", "--port", "0", "--root", str(tmp_path)],
                            env={**config_env, "NEXUS_GATEWAY_MAX_CONCURRENT": "0"}, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert "gateway.max_concurrent=0" in result.stderr and "Traceback" not in result.stderr
