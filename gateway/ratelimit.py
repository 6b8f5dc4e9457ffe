"""Token buckets per user, and per user and message type for the expensive types; and the login limiter.

A bucket holds up to ``count`` tokens and refills at ``count / seconds`` per second, so "1000/15m"
allows a burst of 1000 then about one request every 0.9 s, the smoothed form of the seed's
"1000 requests per 15 minutes". A request takes one token from its user's bucket and, for a type with
its own limit ("processor:chain" 10/15m), one from that bucket too; it is refused (with the seconds
until enough tokens are back) without consuming either when one is empty.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Mapping

from nexus.engine.errors import ConfigError

_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_RATE = re.compile(r"\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)?\s*([smhd]?)\s*\Z")
_OFF = frozenset({"", "0", "off", "none", "unlimited"})
PRUNE_ABOVE = 10_000  # buckets; past this, full ones (which carry no information) are dropped


@dataclasses.dataclass(frozen=True, slots=True)
class Rate:
    count: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.count / self.seconds

    @classmethod
    def parse(cls, text: str, where: str = "rate") -> Rate | None:
        """Parse "1000/15m", "10/60s", "5/h" ("/m" means one minute); "off"/"0" gives None.

        Raises ConfigError naming ``where``.
        """
        if text.strip().lower() in _OFF:
            return None
        match = _RATE.match(text)
        if match is None or not (match.group(2) or match.group(3)):
            raise ConfigError(f"setting {where}: {text!r} is not a rate like '1000/15m' or 'off'")
        count, amount, unit = match.groups()
        seconds = (float(amount) if amount else 1.0) * _UNITS[unit or "s"]
        if int(count) <= 0 or seconds <= 0:
            raise ConfigError(f"setting {where}: {text!r} must allow at least one request per period")
        return cls(int(count), seconds)


class _Bucket:
    __slots__ = ("tokens", "updated")

    def __init__(self, tokens: float, updated: float) -> None:
        self.tokens = tokens
        self.updated = updated

    def refill(self, rate: Rate, now: float) -> float:
        tokens = min(float(rate.count), self.tokens + (now - self.updated) * rate.per_second)
        self.tokens, self.updated = tokens, now
        return tokens


class RateLimiter:
    """Implements the dispatcher's ``Limiter``. Not thread-safe: it lives on the event loop."""

    def __init__(self, per_user: Rate | None, per_type: Mapping[str, Rate] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.per_user = per_user
        self.per_type = dict(per_type or {})
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def acquire(self, key: str, type_: str) -> float | None:
        """Take a token for ``key``; None when allowed, else the seconds until the request would be."""
        now = self._clock()
        checks: list[tuple[_Bucket, Rate]] = []
        if self.per_user is not None:
            checks.append((self._bucket(key, "", self.per_user, now), self.per_user))
        type_rate = self.per_type.get(type_)
        if type_rate is not None:
            checks.append((self._bucket(key, type_, type_rate, now), type_rate))
        wait = 0.0
        for bucket, rate in checks:
            tokens = bucket.refill(rate, now)
            if tokens < 1.0:
                wait = max(wait, (1.0 - tokens) / rate.per_second)
        if wait > 0.0:
            return wait
        for bucket, _rate in checks:
            bucket.tokens -= 1.0
        return None

    def refund(self, key: str, type_: str) -> None:
        """Give back one token taken from ``key``'s ``type_`` bucket (a request that should not count)."""
        rate = self.per_type.get(type_) if type_ else self.per_user
        bucket = self._buckets.get((key, type_))
        if rate is not None and bucket is not None:
            bucket.tokens = min(float(rate.count), bucket.tokens + 1.0)

    def _bucket(self, key: str, type_: str, rate: Rate, now: float) -> _Bucket:
        bucket = self._buckets.get((key, type_))
        if bucket is None:
            if len(self._buckets) >= PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[(key, type_)] = _Bucket(float(rate.count), now)
        return bucket

    def _prune(self, now: float) -> None:
        """Drop full buckets; if that is not enough (keys sprayed faster than buckets refill), drop the
        least recently used half, which keeps the buckets of whoever is being hammered right now."""
        for (key, type_), bucket in list(self._buckets.items()):
            rate = self.per_type.get(type_) if type_ else self.per_user
            if rate is None or bucket.tokens + (now - bucket.updated) * rate.per_second >= rate.count:
                del self._buckets[(key, type_)]
        if len(self._buckets) >= PRUNE_ABOVE // 2:
            by_age = sorted(self._buckets.items(), key=lambda item: item[1].updated)
            for name, _bucket in by_age[:len(by_age) // 2]:
                del self._buckets[name]


def build_limiter(per_user: str, per_type: Mapping[str, str]) -> RateLimiter | None:
    """A limiter from settings strings; None when every limit is off. Raises ConfigError. ``auth:login``
    is left to :class:`LoginLimiter` (it counts per address and user name, not per connection)."""
    per_type = {t: r for t, r in per_type.items() if t != "auth:login"}
    user_rate = Rate.parse(per_user, "gateway.rate_limit")
    type_rates = {t: r for t, text in per_type.items()
                  if (r := Rate.parse(str(text), f"gateway.type_limits.{t}")) is not None}
    if user_rate is None and not type_rates:
        return None
    return RateLimiter(user_rate, type_rates)


class LoginLimiter:
    """Password guessing, limited so that one attacker cannot lock other people out.

    Two kinds of bucket: per client address (failures count; an attempt is taken before the scrypt
    and given back when the password was right) and per user name (only failures count, and only from
    addresses that have not logged in as that user before). So a flood from one address stops at the address's allowance and does not touch anyone
    else; a flood against one user from many addresses stops at that user's allowance, while the user
    still logs in from an address they have used successfully before (kept in memory, per user, for
    ``remember`` seconds, at most ``REMEMBERED`` addresses each).
    """

    REMEMBERED = 16

    def __init__(self, per_address: Rate | None, per_user: Rate | None, *, remember: float = 30 * 86400.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._addresses = RateLimiter(None, {"address": per_address} if per_address else {}, clock=clock)
        self._users = RateLimiter(None, {"user": per_user} if per_user else {}, clock=clock)
        self._known: dict[str, dict[str, float]] = {}  # user -> address key -> last successful login
        self._remember = remember
        self._clock = clock

    def acquire(self, user: str, address: str) -> float | None:
        """Take one attempt for ``user`` from ``address`` before checking the password; None if allowed,
        else the seconds to wait. Call :meth:`succeeded` or nothing (a failure) afterwards."""
        wait = self._addresses.acquire(address, "address")
        if wait is not None:
            return wait
        if self._is_known(user, address):
            return None
        return self._users.acquire(user, "user")

    def succeeded(self, user: str, address: str) -> None:
        """The password was right: give the attempt back (to the address too, so that people behind one
        NAT logging in at nine o'clock do not use up its allowance) and remember the address."""
        self._addresses.refund(address, "address")
        if not self._is_known(user, address):
            self._users.refund(user, "user")
        known = self._known.setdefault(user, {})
        known[address] = self._clock()
        if len(known) > self.REMEMBERED:
            del known[min(known, key=known.__getitem__)]
        if len(self._known) > PRUNE_ABOVE:
            self._forget_old()

    def _is_known(self, user: str, address: str) -> bool:
        seen = self._known.get(user, {}).get(address)
        return seen is not None and self._clock() - seen < self._remember

    def _forget_old(self) -> None:
        now = self._clock()
        for user, known in list(self._known.items()):
            for address, seen in list(known.items()):
                if now - seen >= self._remember:
                    del known[address]
            if not known:
                del self._known[user]


def build_login_limiter(per_address: str, per_user: str) -> LoginLimiter | None:
    """From settings strings (``type_limits."auth:login"``, ``login_user_limit``); None when both are off."""
    address_rate = Rate.parse(per_address, "gateway.type_limits.auth:login")
    user_rate = Rate.parse(per_user, "gateway.login_user_limit")
    if address_rate is None and user_rate is None:
        return None
    return LoginLimiter(address_rate, user_rate)
