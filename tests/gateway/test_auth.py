"""Tokens, the secret file, the users file and the rate limiter, on their own."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from nexus.engine.errors import ConfigError, NotFoundError
from nexus.gateway import Rate, RateLimiter, Role, TokenError, TokenIssuer, UserError, UserStore, load_secret
from nexus.gateway import users as users_module
from nexus.gateway.auth import AUDIENCE
from nexus.gateway.ratelimit import PRUNE_ABOVE, LoginLimiter, build_limiter

from .wsclient import SECRET


def _b64(obj: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def test_a_token_round_trips_with_user_role_and_expiry() -> None:
    issuer = TokenIssuer(SECRET, ttl=3600)
    issued = issuer.issue("dave", Role.DEVELOPER)
    identity = issuer.verify(issued.token)
    assert (identity.user, identity.role, issued.expires_in) == ("dave", Role.DEVELOPER, 3600)
    assert identity.expires_at == issued.expires_at and issued.expires_at > time.time() + 3500


def test_expired_forged_and_alg_none_tokens_are_refused() -> None:
    issuer = TokenIssuer(SECRET, ttl=60)
    past = TokenIssuer(SECRET, ttl=60, clock=lambda: time.time() - 3600).issue("dave", Role.DEVELOPER)
    with pytest.raises(TokenError) as err:
        issuer.verify(past.token)
    assert err.value.expired

    forged = TokenIssuer("another-secret-" + "y" * 40).issue("alice", Role.ADMIN)
    claims = {"sub": "alice", "role": "admin", "iat": int(time.time()), "exp": int(time.time()) + 60,
              "iss": "nexus-gateway", "aud": "nexus-gateway-clients", "auth_time": int(time.time())}
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    hs512 = jwt.encode(claims, SECRET * 2, algorithm="HS512")
    no_exp = jwt.encode({k: v for k, v in claims.items() if k != "exp"}, SECRET, algorithm="HS256")
    bad_role = jwt.encode({**claims, "role": "root"}, SECRET, algorithm="HS256")
    for token in (forged.token, unsigned, hs512, no_exp, bad_role, "garbage", ""):
        with pytest.raises(TokenError) as err:
            issuer.verify(token)
        assert not err.value.expired, token


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        TokenIssuer("short")
    with pytest.raises(ConfigError, match="shorter than 32"):
        load_secret("short", Path("/nonexistent"))


def test_the_secret_file_is_generated_0600_once_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "gateway-secret"
    first = load_secret("", path)
    assert len(first) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret("", path) == first
    assert load_secret(SECRET, path) == SECRET
    path.write_text("tiny\n")
    with pytest.raises(ConfigError, match="delete the file"):
        load_secret("", path)


def test_users_are_stored_hashed_in_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    store = UserStore(path)
    store.add("alice", Role.ADMIN, "correct horse battery")
    text = path.read_text()
    assert "correct horse" not in text and "scrypt$" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    user = store.verify("alice", "correct horse battery")
    assert user is not None and user.role is Role.ADMIN
    assert store.verify("alice", "wrong password!") is None
    assert store.verify("nobody", "correct horse battery") is None


def test_user_validation_and_removal(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "users.json")
    store.add("bob", Role.VIEWER, "password-1")
    for name, password, message in [("bob", "password-2", "already exists"), ("bad name", "password-1", "user name"),
                                     ("carol", "short", "at least 8")]:
        with pytest.raises(UserError, match=message):
            store.add(name, Role.VIEWER, password)
    store.remove("bob")
    assert store.all() == []
    with pytest.raises(NotFoundError):
        store.remove("bob")


def test_a_running_store_sees_changes_made_by_another_process(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    running, cli = UserStore(path), UserStore(path)
    assert running.get("erin") is None
    cli.add("erin", Role.DEVELOPER, "password-1")
    assert running.get("erin") is not None
    cli.remove("erin")
    assert running.get("erin") is None


def test_a_corrupt_users_file_is_a_clear_config_error(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="not valid"):
        UserStore(path).get("alice")
    path.write_text(json.dumps({"version": 1, "users": {"a": {"role": "root", "password": "x"}}}))
    with pytest.raises(ConfigError, match="unknown role"):
        UserStore(path).get("a")
    os.chmod(path, 0o600)


@pytest.mark.parametrize(("text", "count", "seconds"), [
    ("1000/15m", 1000, 900.0), ("10/60s", 10, 60.0), ("5/h", 5, 3600.0), ("3/m", 3, 60.0), (" 7 / 2.5s ", 7, 2.5)])
def test_rates_parse(text: str, count: int, seconds: float) -> None:
    assert Rate.parse(text) == Rate(count, seconds)


@pytest.mark.parametrize("text", ["10", "ten/m", "10/", "0/m", "10/0s", "10/5y", "-1/m"])
def test_bad_rates_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="gateway.rate_limit"):
        Rate.parse(text, "gateway.rate_limit")


def test_off_disables_a_limit() -> None:
    assert Rate.parse("off") is None and Rate.parse("0") is None
    assert build_limiter("off", {"x:y": "off"}) is None


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_buckets_refuse_with_the_time_until_a_token_is_back() -> None:
    clock = Clock()
    limiter = RateLimiter(Rate(3, 30.0), {"processor:chain": Rate(1, 60.0)}, clock=clock)
    assert limiter.acquire("dave", "ping") is None
    assert limiter.acquire("dave", "processor:chain") is None
    retry = limiter.acquire("dave", "processor:chain")
    assert retry == pytest.approx(60.0)
    # The refused request consumed nothing: one user token is still there.
    assert limiter.acquire("dave", "ping") is None
    assert limiter.acquire("dave", "ping") == pytest.approx(10.0)
    assert limiter.acquire("vera", "ping") is None  # buckets are per user
    clock.now += 10.0
    assert limiter.acquire("dave", "ping") is None
    clock.now += 50.0
    assert limiter.acquire("dave", "processor:chain") is None


def test_login_limits_per_address_and_per_user_with_remembered_addresses() -> None:
    clock = Clock()
    limiter = LoginLimiter(Rate(3, 60.0), Rate(5, 60.0), clock=clock)
    assert [limiter.acquire("dave", "a") for _ in range(4)][:3] == [None] * 3
    assert limiter.acquire("dave", "a") == pytest.approx(20.0)  # address a is spent
    assert limiter.acquire("vera", "b") is None                  # b is not
    limiter.succeeded("vera", "b")
    assert limiter.acquire("dave", "c") is None and limiter.acquire("dave", "c") is None
    # dave's 5 failures are spent (a: 3, c: 2, and vera's success gave hers back): new addresses wait...
    assert limiter.acquire("dave", "d") is not None
    # ... a success from an address refunds and remembers it; from there dave is not held by the user cap.
    clock.now += 12.0  # one token back for dave
    assert limiter.acquire("dave", "e") is None
    limiter.succeeded("dave", "e")
    for _ in range(3):
        assert limiter.acquire("dave", "e") is None  # only e's own allowance (3, the success refunded) counts
    assert limiter.acquire("dave", "e") is not None
    clock.now += 31 * 86400.0  # remembered addresses are forgotten after 30 days
    assert limiter._is_known("dave", "e") is False


def test_a_spray_of_fresh_keys_does_not_evict_the_bucket_under_attack() -> None:
    clock = Clock()
    limiter = RateLimiter(None, {"user": Rate(3, 3600.0)}, clock=clock)
    for _ in range(3):
        assert limiter.acquire("dave", "user") is None
    for i in range(PRUNE_ABOVE * 2):  # the attacker sprays names to push dave's spent bucket out
        clock.now += 0.001
        limiter.acquire(f"spray{i}", "user")
        if i % 1000 == 0:
            clock.now += 0.001
            assert limiter.acquire("dave", "user") is not None  # hammered, so recently used: kept
    assert len(limiter._buckets) <= PRUNE_ABOVE


def _claims(**changes: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {"sub": "alice", "role": "admin", "iat": now, "exp": now + 60,
                                 "iss": "nexus-gateway", "aud": AUDIENCE, "auth_time": now}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize("changes", [
    {"aud": None}, {"aud": "something-else"}, {"iss": None}, {"iss": "evil"}, {"auth_time": None},
    {"iat": int(time.time()) + 3600, "exp": int(time.time()) + 7200},  # issued in the future
    {"auth_time": int(time.time()) - 8 * 86400},                       # older than session_max_age
    {"sub": ""}, {"sub": 42},
])
def test_tokens_missing_or_wrong_claims_are_refused(changes: dict[str, object]) -> None:
    issuer = TokenIssuer(SECRET)
    assert issuer.verify(jwt.encode(_claims(), SECRET, algorithm="HS256")).user == "alice"
    with pytest.raises(TokenError):
        issuer.verify(jwt.encode(_claims(**changes), SECRET, algorithm="HS256"))


def test_rs256_with_the_secret_as_a_public_key_is_refused() -> None:
    header = _b64({"alg": "RS256", "typ": "JWT"})
    body = _b64(_claims())
    signature = base64.urlsafe_b64encode(hmac.new(SECRET.encode(), f"{header}.{body}".encode(),
                                                  hashlib.sha256).digest()).rstrip(b"=").decode()
    with pytest.raises(TokenError):
        TokenIssuer(SECRET).verify(f"{header}.{body}.{signature}")


def test_refreshing_cannot_outlive_the_session_max_age() -> None:
    clock = Clock()
    issuer = TokenIssuer(SECRET, ttl=100, max_age=250, clock=clock)
    first = issuer.issue("dave", Role.DEVELOPER)
    assert first.identity.authenticated_at == clock.now and first.expires_in == 100
    clock.now += 90
    second = issuer.issue("dave", Role.DEVELOPER, authenticated_at=first.identity.authenticated_at)
    clock.now += 90
    third = issuer.issue("dave", Role.DEVELOPER, authenticated_at=second.identity.authenticated_at)
    assert third.expires_at == 1000.0 + 250 and third.expires_in == 70  # clipped to the login + max age
    assert third.identity.authenticated_at == 1000.0
    clock.now += 70
    with pytest.raises(TokenError, match="log in again") as err:
        issuer.issue("dave", Role.DEVELOPER, authenticated_at=third.identity.authenticated_at)
    assert err.value.expired
    with pytest.raises(ConfigError, match="session_max_age"):
        TokenIssuer(SECRET, ttl=100, max_age=50)


def test_an_unknown_user_costs_the_same_scrypt_as_a_wrong_password(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = UserStore(tmp_path / "users.json")
    store.add("alice", Role.ADMIN, "correct horse battery")
    calls: list[tuple[int, int, int, int]] = []
    real = hashlib.scrypt

    def counting(password: bytes, **kw: Any) -> bytes:
        calls.append((kw["n"], kw["r"], kw["p"], kw["dklen"]))
        return real(password, **kw)

    monkeypatch.setattr(users_module.hashlib, "scrypt", counting)
    assert store.verify("nobody-at-all", "some password") is None  # the first unknown name
    assert store.verify("nobody-else", "some password") is None
    assert store.verify("alice", "wrong password") is None
    assert calls[0] == calls[1] == calls[2] and len(calls) == 3  # one scrypt each, same parameters


def test_a_users_file_others_can_write_is_warned_about(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "users.json"
    store = UserStore(path)
    store.add("bob", Role.VIEWER, "password-1")
    assert store.get("bob") is not None and "writable by other users" not in caplog.text
    os.chmod(path, 0o666)
    os.utime(path, ns=(1, 1))  # a change the store notices (the stamp is mtime and size)
    assert store.get("bob") is not None
    assert "writable by other users" in caplog.text and "chmod 600" in caplog.text
