"""Attacks on a real gateway with real ``websockets`` clients, on loopback only: password floods from
one address (directly, through a trusted proxy, and from a peer forging ``X-Forwarded-For``), floods of
anonymous sockets, a stalled login, and /metrics without the admin role. Different "machines" are
different loopback source addresses (127.0.0.0/8 all reach the gateway on 127.0.0.1) or, behind the
trusted proxy, different ``X-Forwarded-For`` values. Every loop is bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from nexus.gateway import Gateway, Role, TokenIssuer, UserStore

from .wsclient import PASSWORDS, SECRET, Client, token_for

Start = Callable[..., Any]
WRONG = "not-the-password"


@contextlib.asynccontextmanager
async def machine(gw: Gateway, source: str = "127.0.0.1", forwarded_for: str | None = None,
                  token: str | None = None) -> AsyncIterator[Client]:
    """A client connecting from loopback address ``source``, optionally through "the proxy" (which
    sets X-Forwarded-For), optionally with a token."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    url = gw.url if token is None else f"{gw.url}?token={token}"
    async with connect(url, local_addr=(source, 0), additional_headers=headers, open_timeout=10) as ws:
        yield Client(ws)


def outcome(reply: dict[str, Any]) -> str:
    return str(reply["data"]["code"]) if reply["type"] == "error" else str(reply["type"])


async def login(c: Client, user: str, password: str | None = None) -> str:
    return outcome(await c.request("auth:login", {"username": user, "password": password or PASSWORDS[user]}))


async def flood(c: Client, user: str, attempts: int) -> list[str]:
    return [await login(c, user, WRONG) for _ in range(attempts)]


LIMITS = {"type_limits": {"auth:login": "5/m"}, "login_user_limit": "8/m"}


async def test_a_login_flood_from_one_address_locks_out_only_that_address(start: Start) -> None:
    async with start(**LIMITS) as gw:
        async with machine(gw, "127.0.0.2") as attacker:
            results = await flood(attacker, "dave", 20)
        # Five guesses (each a real scrypt) then refused before the password is even checked.
        assert results == ["bad_credentials"] * 5 + ["rate_limited"] * 15
        async with machine(gw, "127.0.0.3") as vera:  # another user on another machine
            assert await login(vera, "vera") == "auth:login"
        async with machine(gw, "127.0.0.4") as dave:  # the attacked user from their own machine
            assert await login(dave, "dave") == "auth:login"
        # Past the per-user allowance (8 failures in all, 5 spent above), other machines cannot guess
        # dave's password any more: 3 more failures, then refused from a fresh address too...
        async with machine(gw, "127.0.0.5") as second, machine(gw, "127.0.0.6") as third:
            assert await flood(second, "dave", 2) == ["bad_credentials"] * 2
            assert await flood(third, "dave", 2) == ["bad_credentials", "rate_limited"]
        async with machine(gw, "127.0.0.7") as fresh:
            assert await login(fresh, "dave") == "rate_limited"
            assert await login(fresh, "vera") == "auth:login"  # ... for dave only
        # ... but dave still logs in from the machine he logged in from before.
        async with machine(gw, "127.0.0.4") as dave:
            assert await login(dave, "dave") == "auth:login"
        assert gw.metrics.requests.get("auth:login", "error") >= 20


async def test_through_a_trusted_proxy_each_forwarded_client_has_its_own_allowance(start: Start) -> None:
    async with start(trusted_proxies=("127.0.0.1/32",), **LIMITS) as gw:
        # Every connection comes from the proxy (127.0.0.1); the proxy appends the address it saw.
        async with machine(gw, forwarded_for="198.51.100.66") as attacker:
            assert await flood(attacker, "dave", 8) == ["bad_credentials"] * 5 + ["rate_limited"] * 3
        # The attacker puts made-up addresses in its own X-Forwarded-For; the proxy appends the real one,
        # which is what counts.
        for forged in ("10.1.1.1", "10.2.2.2, 10.3.3.3"):
            async with machine(gw, forwarded_for=f"{forged}, 198.51.100.66") as attacker:
                assert await login(attacker, "dave", WRONG) == "rate_limited"
        async with machine(gw, forwarded_for="198.51.100.7") as vera:
            assert await login(vera, "vera") == "auth:login"
        async with machine(gw, forwarded_for="198.51.100.8") as dave:
            assert await login(dave, "dave") == "auth:login"
        # Two proxies in a row (both trusted): the right-most untrusted address is the client.
        async with start(trusted_proxies=("127.0.0.1/32", "192.0.2.0/24"), **LIMITS) as chained:
            async with machine(chained, forwarded_for="198.51.100.66, 192.0.2.10") as attacker:
                assert await flood(attacker, "dave", 6) == ["bad_credentials"] * 5 + ["rate_limited"]
            async with machine(chained, forwarded_for="198.51.100.9, 192.0.2.10") as dave:
                assert await login(dave, "dave") == "auth:login"


async def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(start: Start) -> None:
    async with start(trusted_proxies=("127.0.0.1/32",), **LIMITS) as gw:
        # 127.0.0.2 is not the proxy: a fresh forged address per attempt buys it nothing.
        results = []
        for i in range(10):
            async with machine(gw, "127.0.0.2", forwarded_for=f"203.0.113.{i}") as attacker:
                results.append(await login(attacker, "dave", WRONG))
        assert results == ["bad_credentials"] * 5 + ["rate_limited"] * 5
        async with machine(gw, "127.0.0.3", forwarded_for="203.0.113.0") as vera:
            assert await login(vera, "vera") == "auth:login"
        # Without trusted proxies the header is ignored from everyone, 127.0.0.1 included.
    async with start(**LIMITS) as gw:
        results = []
        for i in range(7):
            async with machine(gw, forwarded_for=f"203.0.113.{i}") as attacker:
                results.append(await login(attacker, "dave", WRONG))
        assert results == ["bad_credentials"] * 5 + ["rate_limited"] * 2


async def _open(gw: Gateway, stack: contextlib.AsyncExitStack, source: str, token: str | None = None) -> str:
    """Open a socket and see what became of it: "open" (answered), or the close code and reason."""
    url = gw.url if token is None else f"{gw.url}?token={token}"
    ws: ClientConnection = await stack.enter_async_context(connect(url, local_addr=(source, 0), open_timeout=10))
    try:
        await ws.send(json.dumps({"type": "ping", "id": 1}))
        await asyncio.wait_for(ws.recv(), 10)
    except ConnectionClosed:
        return f"{ws.close_code} {ws.close_reason}"
    return "open"


async def test_anonymous_sockets_are_capped_and_authenticated_clients_still_connect(start: Start) -> None:
    async with start(max_anonymous=50, max_anonymous_per_address=10) as gw, contextlib.AsyncExitStack() as stack:
        # One machine: 10, then refused.
        one = [await _open(gw, stack, "127.0.0.2") for _ in range(15)]
        assert one[:10] == ["open"] * 10
        assert all(r.startswith("1013 too many connections from 127.0.0.2") for r in one[10:]), one
        # Many machines, 80 sockets: the global cap of 50 holds (10 already open from 127.0.0.2).
        many = [await _open(gw, stack, f"127.0.1.{i % 8 + 1}") for i in range(80)]
        assert many.count("open") == 40
        refused = [r for r in many if r != "open"]
        assert len(refused) == 40 and all(r.startswith("1013 too many connections waiting to log in") for r in refused)
        assert gw.connections.anonymous == 50
        # A client with a token is not anonymous: it connects and works.
        assert await _open(gw, stack, "127.0.0.9", token_for(gw, "vera")) == "open"
        async with machine(gw, "127.0.0.9", token=token_for(gw, "dave")) as dave:
            assert outcome(await dave.request("ping")) == "pong"
        text = gw.metrics.render()
        assert 'nexus_gateway_connections_refused_total{reason="anonymous"} 45' in text
        assert "nexus_gateway_anonymous_connections 50" in text
        # Logging in on an anonymous socket moves it to its user's count and frees an anonymous slot.
        async with machine(gw, "127.0.0.10") as late:
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(late.recv(), 10)
            assert late.ws.close_code == 1013
    async with start(max_anonymous=2) as gw, machine(gw, "127.0.0.2") as first, machine(gw, "127.0.0.3") as second:
        assert outcome(await first.request("ping")) == "unauthenticated"
        assert await login(second, "vera") == "auth:login"
        assert gw.connections.anonymous == 1
        async with machine(gw, "127.0.0.4") as third:
            assert outcome(await third.request("ping")) == "unauthenticated"


async def test_a_socket_that_does_not_log_in_in_time_is_closed(start: Start) -> None:
    async with start(auth_timeout=0.5) as gw, machine(gw) as idle, machine(gw) as prompt:
        assert await login(prompt, "dave") == "auth:login"
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(idle.recv(), 10)
        assert idle.ws.close_code == 1008 and "not logged in within 0.5 s" in (idle.ws.close_reason or "")
        # The one that logged in is still served after the deadline passed.
        assert outcome(await prompt.request("ping")) == "pong"
        assert gw.connections.anonymous == 0


async def test_each_user_has_a_connection_cap(start: Start) -> None:
    async with start(max_connections_per_user=3) as gw, contextlib.AsyncExitStack() as stack:
        opened = [await _open(gw, stack, "127.0.0.2", token_for(gw, "dave")) for _ in range(4)]
        assert opened[:3] == ["open"] * 3
        assert opened[3].startswith("1013 dave already has 3 connections open")
        async with machine(gw, "127.0.0.3") as anonymous:
            reply = await anonymous.request("auth:login", {"username": "dave", "password": PASSWORDS["dave"]})
            assert outcome(reply) == "too_many_connections"
            assert outcome(await anonymous.request("ping")) == "unauthenticated"  # still anonymous
            assert await login(anonymous, "vera") == "auth:login"  # other users are not affected


def _get(url: str, token: str | None = None) -> tuple[int, str, dict[str, str]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as err:
        with err:
            return err.code, err.read().decode(), dict(err.headers)


async def test_metrics_need_an_admin_unless_made_public(start: Start) -> None:
    async with start() as gw:
        base = f"http://127.0.0.1:{gw.port}"
        status, body, headers = await asyncio.to_thread(_get, f"{base}/metrics")
        assert status == 401 and "admin" in body and headers["WWW-Authenticate"].startswith("Bearer")
        for user in ("vera", "dave"):
            status, body, _ = await asyncio.to_thread(_get, f"{base}/metrics", token_for(gw, user))
            assert status == 403 and "needs the admin role" in body
        forged = gw.tokens.issue("alice", Role.ADMIN).token[:-4] + "AAAA"
        assert (await asyncio.to_thread(_get, f"{base}/metrics", forged))[0] == 401
        # A token saying "admin" for dave (the role claim) does not make him one: the users file decides.
        assert (await asyncio.to_thread(_get, f"{base}/metrics", gw.tokens.issue("dave", Role.ADMIN).token))[0] == 403
        status, body, _ = await asyncio.to_thread(_get, f"{base}/metrics", token_for(gw, "alice"))
        assert status == 200 and "nexus_gateway_connections" in body
        status, body, _ = await asyncio.to_thread(_get, f"{base}/health")  # /health stays public
        assert status == 200 and json.loads(body)["status"] == "ok"
    async with start(metrics_public=True) as gw:
        status, body, _ = await asyncio.to_thread(_get, f"http://127.0.0.1:{gw.port}/metrics")
        assert status == 200 and "nexus_gateway_requests_total" in body


async def test_tokens_of_a_removed_user_do_not_work_for_a_new_user_of_the_same_name(start: Start,
                                                                                      settings: Any) -> None:
    doc = json.loads(settings.users_file.read_text())
    doc["users"]["vera"]["created"] = "2026-01-01T00:00:00+00:00"  # an account older than the token
    settings.users_file.write_text(json.dumps(doc))
    async with start() as gw:
        old = TokenIssuer(SECRET, clock=lambda: time.time() - 60).issue("vera", Role.VIEWER).token
        async with machine(gw, token=old) as c:
            assert outcome(await c.request("ping")) == "pong"
        store = UserStore(settings.users_file)
        store.remove("vera")
        store.add("vera", Role.ADMIN, "the-new-vera-password")  # someone else, now an admin
        with pytest.raises(InvalidStatus) as err:
            async with machine(gw, token=old):
                pass
        assert err.value.response.status_code == 401 and b"predates" in err.value.response.body


async def test_refresh_keeps_the_login_time_and_the_users_file_role(start: Start, settings: Any) -> None:
    async with start(token_ttl=60, session_max_age=120) as gw, machine(gw) as c:
        logged = (await c.login("dave"))["data"]["token"]
        refreshed = await c.request("auth:refresh")
        assert refreshed["data"]["role"] == "developer" and refreshed["data"]["expiresIn"] <= 60
        before, after = gw.tokens.verify(logged), gw.tokens.verify(refreshed["data"]["token"])
        assert before.authenticated_at == after.authenticated_at
        # A token claiming admin for dave (only the secret's holder can sign one) still gets dave's role.
        async with machine(gw, token=gw.tokens.issue("dave", Role.ADMIN).token) as d:
            assert (await d.request("auth:refresh"))["data"]["role"] == "developer"


async def test_many_people_behind_one_address_can_all_log_in(start: Start) -> None:
    async with start(**LIMITS) as gw, machine(gw, "127.0.0.2") as office:
        for user in ["vera", "dave", "alice"] * 4:  # 12 successful logins, more than the 5 allowed failures
            assert await login(office, user) == "auth:login"
        assert await flood(office, "dave", 6) == ["bad_credentials"] * 5 + ["rate_limited"]
