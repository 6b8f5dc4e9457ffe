"""End to end: real websockets clients against a real gateway on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import jwt
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from nexus.engine.config import load_settings
from nexus.gateway import Gateway, GatewaySettings, Reply, Request, Role, TokenIssuer
from nexus.gateway.protocol import Context

from .wsclient import SECRET, Client, client, error_code, token_for

Start = Callable[..., Any]


async def test_login_then_work_on_the_same_connection(start: Start) -> None:
    async with start() as gw, client(gw) as c:
        assert error_code(await c.request("ping")) == "unauthenticated"
        login = await c.login("dave")
        assert login["type"] == "auth:login"
        assert login["data"]["role"] == "developer" and login["data"]["expiresIn"] == 86400
        assert gw.tokens.verify(login["data"]["token"]).user == "dave"
        assert await c.request("ping") == {"type": "pong", "id": "r3", "data": {}}


async def test_a_token_from_login_opens_new_connections_by_query_or_header(start: Start) -> None:
    async with start() as gw:
        async with client(gw) as c:
            token = (await c.login("vera"))["data"]["token"]
        async with connect(f"{gw.url}?token={token}") as ws:
            await ws.send('{"type": "ping", "id": 1}')
            assert json.loads(await ws.recv())["type"] == "pong"
        async with connect(gw.url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
            await ws.send('{"type": "ping", "id": 1}')
            assert json.loads(await ws.recv())["type"] == "pong"


async def test_wrong_password_and_unknown_user_look_the_same(start: Start) -> None:
    async with start() as gw, client(gw) as c:
        wrong = await c.request("auth:login", {"username": "dave", "password": "not-daves-password"})
        unknown = await c.request("auth:login", {"username": "mallory", "password": "whatever-pw"})
        assert wrong["data"] == unknown["data"] == {"code": "bad_credentials",
                                                    "message": "unknown user or wrong password"}
        assert error_code(await c.request("auth:login", {"username": "dave"})) == "bad_request"
        assert error_code(await c.request("ping")) == "unauthenticated"


async def test_refresh_gives_a_new_token_with_the_current_role(start: Start) -> None:
    async with start() as gw, client(gw, "dave") as c:
        refreshed = await c.request("auth:refresh")
        assert refreshed["type"] == "auth:refresh" and refreshed["data"]["role"] == "developer"
        assert gw.tokens.verify(refreshed["data"]["token"]).user == "dave"
        gw.users.remove("dave")
        gone = await c.request("auth:refresh")
        assert error_code(gone) == "unauthenticated" and "no longer exists" in gone["data"]["message"]


async def test_an_expired_session_must_log_in_again(start: Start) -> None:
    short = TokenIssuer(SECRET, ttl=60).issue("dave", Role.DEVELOPER).token
    async with start() as gw, connect(f"{gw.url}?token={short}") as ws:
        c = Client(ws)
        assert (await c.request("ping"))["type"] == "pong"
        gw.dispatcher.clock = lambda: time.time() + 61  # the token passes its expiry while connected
        assert error_code(await c.request("ping")) == "token_expired"
        assert error_code(await c.request("auth:refresh")) == "token_expired"
        assert (await c.login("dave"))["type"] == "auth:login"
        assert (await c.request("ping"))["type"] == "pong"


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


async def test_bad_tokens_are_refused_at_the_handshake(start: Start) -> None:
    now = int(time.time())
    claims = {"sub": "alice", "role": "admin", "iat": now, "exp": now + 600, "iss": "nexus-gateway",
              "aud": "nexus-gateway-clients", "auth_time": now}
    expired = jwt.encode({**claims, "iat": now - 600, "exp": now - 60}, SECRET, algorithm="HS256")
    forged = jwt.encode(claims, "not-the-secret-" + "z" * 40, algorithm="HS256")
    alg_none = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    ghost = jwt.encode({**claims, "sub": "ghost"}, SECRET, algorithm="HS256")
    async with start() as gw:
        cases = [(f"?token={t}", {}) for t in (expired, forged, alg_none, ghost, "garbage")]
        cases += [("", {"Authorization": f"Bearer {forged}"}), ("", {"Authorization": "Basic dXNlcjpwdw=="})]
        for query, headers in cases:
            with pytest.raises(InvalidStatus) as err:
                async with connect(gw.url + query, additional_headers=headers):
                    pass
            assert err.value.response.status_code == 401, (query, headers)
        with pytest.raises(InvalidStatus) as err:
            async with connect(f"{gw.url}?token={expired}"):
                pass
        assert b"expired" in err.value.response.body
        assert gw.metrics.connections.get() == 0


async def test_roles_gate_message_types(start: Start) -> None:
    async with start() as gw:
        async with client(gw, "vera") as viewer:
            refused = await viewer.request("ide:execute", {"language": "python", "code": "print(1)"})
            assert error_code(refused) == "forbidden"
            assert refused["data"]["message"] == "ide:execute needs the developer role; vera is a viewer"
            assert error_code(await viewer.request("ai:chat", {})) == "forbidden"
            assert error_code(await viewer.request("search:query", {"query": "x"})) == "unavailable"  # not indexed
            assert (await viewer.request("files:read", {"path": "src/app.py"}))["type"] == "files:read"
        async with client(gw, "dave") as developer:
            bad = await developer.request("ide:execute", {"language": "python", "code": 1})
            assert error_code(bad) == "bad_request" and "payload.code" in bad["data"]["message"]


async def test_a_token_carries_the_role_the_users_file_gives_now(start: Start) -> None:
    async with start() as gw:
        token = gw.tokens.issue("dave", Role.DEVELOPER).token
        gw.users.remove("dave")
        gw.users.add("dave", Role.VIEWER, "a-new-password")
        async with connect(f"{gw.url}?token={token}") as ws:
            demoted = await Client(ws).request("ide:execute", {"code": "1"})
        assert error_code(demoted) == "forbidden" and "dave is a viewer" in demoted["data"]["message"]


async def test_unconfigured_and_unknown_types_answer_clearly(start: Start) -> None:
    async with start() as gw, client(gw, "alice") as admin:
        no_provider = await admin.request("ai:chat", {"prompt": "hi"})
        assert error_code(no_provider) == "unavailable" and "ANTHROPIC_API_KEY" in no_provider["data"]["message"]
        unknown = await admin.request("files:write", {})
        assert error_code(unknown) == "unknown_type" and "files:read" in unknown["data"]["message"]


async def test_files_read_serves_workspace_files_and_refuses_everything_else(
        start: Start, workspace: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_text("top secret")
    (workspace / "link-out").symlink_to(secret)
    (workspace / "dir-out").symlink_to(tmp_path)
    (workspace / "blob.bin").write_bytes(b"\x00\x01\x02")
    (workspace / "link-in").symlink_to(workspace / "src" / "app.py")
    async with start() as gw, client(gw, "vera") as c:
        ok = await c.request("files:read", {"path": "src/app.py"})
        assert ok["data"] == {"path": "src/app.py", "content": "print('héllo')\n"}
        assert (await c.request("files:read", {"path": "link-in"}))["data"]["path"] == "src/app.py"
        assert (await c.request("files:read", {"path": str(workspace / "src/app.py")}))["type"] == "files:read"
        for path in ("../outside.txt", "src/../../outside.txt", str(secret), "/etc/passwd", "link-out",
                     "dir-out/outside.txt", "blob.bin", "src"):
            reply = await c.request("files:read", {"path": path})
            assert error_code(reply) == "invalid_path", path
            assert "top secret" not in json.dumps(reply)
        assert error_code(await c.request("files:read", {"path": "nope.py"})) == "not_found"
        for bad in ("a\x00b", "src/app.py\x00.txt"):
            reply = await c.request("files:read", {"path": bad})
            assert error_code(reply) == "bad_request", reply
            assert "NUL byte" in reply["data"]["message"]
        assert error_code(await c.request("files:read", {"path": 3})) == "bad_request"
        assert error_code(await c.request("files:read", {})) == "bad_request"


def _slow_handlers(started: asyncio.Event, finished: asyncio.Event) -> Callable[[Gateway], None]:
    """A test-only streaming handler that never ends on its own, registered on the test's gateway."""

    async def slow(request: Request, ctx: Context) -> AsyncIterator[Reply]:
        try:
            yield Reply("test:tick", {"n": 0})
            started.set()
            await asyncio.Event().wait()
            yield Reply("test:done")
        finally:
            finished.set()

    def setup(gw: Gateway) -> None:
        gw.dispatcher.registry.register("test:slow", slow, min_role=Role.DEVELOPER)

    return setup


async def test_cancel_stops_a_running_request(start: Start) -> None:
    started, finished = asyncio.Event(), asyncio.Event()
    async with start(setup=_slow_handlers(started, finished)) as gw, client(gw, "dave") as c:
        slow_id = await c.send("test:slow")
        assert await c.recv() == {"type": "test:tick", "id": slow_id, "data": {"n": 0}}
        await asyncio.wait_for(started.wait(), 5)
        cancel_id = await c.send("cancel", {"id": slow_id})
        replies = {(r["id"], r["type"]): r for r in [await c.recv(), await c.recv()]}
        assert replies[(cancel_id, "cancel")]["data"] == {"id": slow_id, "cancelled": True}
        assert replies[(slow_id, "error")]["data"] == {"code": "cancelled", "message": "cancelled by the client"}
        await asyncio.wait_for(finished.wait(), 5)
        assert (await c.request("cancel", {"id": slow_id}))["data"]["cancelled"] is False
        assert (await c.request("ping"))["type"] == "pong"
        assert gw.metrics.requests.get("test:slow", "cancelled") == 1


async def test_closing_the_connection_stops_its_requests(start: Start) -> None:
    started, finished = asyncio.Event(), asyncio.Event()
    async with start(setup=_slow_handlers(started, finished)) as gw:
        async with client(gw, "dave") as c:
            await c.send("test:slow")
            await asyncio.wait_for(started.wait(), 5)
        await asyncio.wait_for(finished.wait(), 5)
        async with client(gw, "vera") as viewer:
            assert error_code(await viewer.request("test:slow")) == "forbidden"


async def test_rate_limits_answer_with_a_retry_time_and_keep_the_connection(start: Start) -> None:
    async with start(rate_limit="5/m", type_limits={"files:read": "2/m"}) as gw, client(gw, "vera") as c:
        for _ in range(2):
            assert (await c.request("files:read", {"path": "src/app.py"}))["type"] == "files:read"
        limited = await c.request("files:read", {"path": "src/app.py"})
        assert error_code(limited) == "rate_limited"
        assert 0 < limited["data"]["retryAfter"] <= 30.0
        assert "retry in" in limited["data"]["message"]
        for _ in range(3):  # the per-user bucket still had 3 of its 5
            assert (await c.request("ping"))["type"] == "pong"
        assert error_code(await c.request("ping")) == "rate_limited"
        # Still open: cancel is not rate limited, and another user is not affected.
        assert (await c.request("cancel", {"id": "nothing"}))["data"]["cancelled"] is False
        async with client(gw, "dave") as other:
            assert (await other.request("ping"))["type"] == "pong"
        assert gw.metrics.errors.get("rate_limited") == 2


async def test_login_attempts_are_rate_limited_per_address(start: Start) -> None:
    async with start(type_limits={"auth:login": "2/m"}) as gw, client(gw) as c:
        for _ in range(2):
            await c.request("auth:login", {"username": "dave", "password": "wrong-password"})
        assert error_code(await c.login("dave")) == "rate_limited"


async def test_settings_come_from_the_user_toml_not_the_workspace(start: Start, workspace: Path, settings: Any) -> None:
    """The gateway's settings are the machine's (its secret, proxies, limits): the user's nexus.toml sets
    them, while a workspace's .nexus.toml (content, e.g. a cloned repository) is ignored for them."""
    from nexus.engine.config import user_config_dir

    body = '[gateway]\nmax_concurrent = 3\nrate_limit = "100/m"\n[gateway.type_limits]\n"files:read" = "1/h"\n'
    (workspace / ".nexus.toml").write_text(body + 'secret = "known-to-the-repository"\n')
    ignored = load_settings(workspace).section("gateway", GatewaySettings)
    assert (ignored.max_concurrent, ignored.rate_limit, ignored.secret) == (16, "1000/15m", "")
    (workspace / ".nexus.toml").unlink()
    user = user_config_dir()
    user.mkdir(parents=True, exist_ok=True)
    (user / "nexus.toml").write_text(body)
    try:
        loaded = load_settings(workspace).section("gateway", GatewaySettings)
    finally:
        (user / "nexus.toml").unlink()
    assert (loaded.max_concurrent, loaded.rate_limit) == (3, "100/m")
    assert loaded.type_rates()["files:read"] == "1/h" and loaded.type_rates()["processor:chain"] == "10/15m"
    async with start(type_limits=loaded.type_limits) as gw, client(gw, "vera") as c:
        assert (await c.request("files:read", {"path": "src/app.py"}))["type"] == "files:read"
        limited = await c.request("files:read", {"path": "src/app.py"})
        assert error_code(limited) == "rate_limited" and limited["data"]["retryAfter"] > 3000


def _get(url: str, token: str | None = None) -> tuple[int, str, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
        return response.status, response.headers["Content-Type"], response.read().decode()


async def test_health_and_metrics_over_plain_http(start: Start) -> None:
    async with start() as gw:
        base = f"http://127.0.0.1:{gw.port}"
        async with client(gw, "dave") as c:
            await c.request("ping")
            await c.request("files:read", {"path": "../x"})
            status, kind, body = await asyncio.to_thread(_get, f"{base}/health")
            assert (status, kind) == (200, "application/json")
            health = json.loads(body)
            assert health["status"] == "ok" and health["connections"] == 1 and "files:read" in health["types"]
            status, kind, text = await asyncio.to_thread(_get, f"{base}/metrics", token_for(gw, "alice"))
        assert status == 200 and kind.startswith("text/plain; version=0.0.4")
        assert "nexus_gateway_connections 1" in text
        assert 'nexus_gateway_requests_total{type="ping",outcome="ok"} 1' in text
        assert 'nexus_gateway_requests_total{type="files:read",outcome="error"} 1' in text
        assert 'nexus_gateway_errors_total{code="invalid_path"} 1' in text
        assert 'nexus_gateway_request_seconds_count{type="ping"} 1' in text
        assert 'nexus_gateway_request_seconds_bucket{type="ping",le="+Inf"} 1' in text
        assert "nexus_active_kernels 0" in text and "# TYPE nexus_ai_tokens_total counter" in text
        with pytest.raises(urllib.error.HTTPError) as err:
            await asyncio.to_thread(_get, f"{base}/elsewhere")
        assert err.value.code == 404
        err.value.close()


async def test_metrics_hooks_for_subsystems(start: Start) -> None:
    async with start() as gw:
        gw.metrics.active_kernels.set_function(lambda: 3)
        gw.metrics.tokens_used.inc("anthropic", "output", amount=120)
        text = gw.metrics.render()
        assert "nexus_active_kernels 3" in text
        assert 'nexus_ai_tokens_total{provider="anthropic",kind="output"} 120' in text
