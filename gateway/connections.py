"""How many sockets may be open, by whom: caps on anonymous sockets (in all and per client address) and
on each user's authenticated ones.

An anonymous socket may only send ``auth:login``, but each still holds a file descriptor, buffers and a
task; without a cap, anyone who can reach the port can open thousands (the probe held 3,000). So
anonymous sockets are counted globally and per address (the resolved client, see
:mod:`.clientaddr`), each must log in within ``auth_timeout`` seconds, and once it has an identity it
counts against that user's cap instead. Refusals close the WebSocket with a standard code and a reason
a client can show: 1013 (try again later) for a cap, 1008 (policy violation) for the login deadline.
"""

from __future__ import annotations

import dataclasses
from collections import Counter

CLOSE_TRY_LATER = 1013
CLOSE_POLICY = 1008


@dataclasses.dataclass(frozen=True, slots=True)
class Refusal:
    code: int
    reason: str


class ConnectionLimits:
    """The counts, on the event loop (not thread-safe). Each ``open_*`` that returns None took a slot,
    which the caller gives back with the matching ``release_*`` when the socket ends or logs in."""

    def __init__(self, max_anonymous: int, max_anonymous_per_address: int, max_per_user: int) -> None:
        self.max_anonymous = max_anonymous
        self.max_anonymous_per_address = max_anonymous_per_address
        self.max_per_user = max_per_user
        self.anonymous = 0
        self._per_address: Counter[str] = Counter()
        self._per_user: Counter[str] = Counter()

    def open_anonymous(self, address: str) -> Refusal | None:
        if self.anonymous >= self.max_anonymous:
            return Refusal(CLOSE_TRY_LATER, "too many connections waiting to log in; try again later")
        if self._per_address[address] >= self.max_anonymous_per_address:
            # A close reason has at most 123 bytes: this one stays under with the longest IPv6 /64.
            return Refusal(CLOSE_TRY_LATER, f"too many connections from {address} waiting to log in; close some")
        self.anonymous += 1
        self._per_address[address] += 1
        return None

    def open_user(self, user: str) -> Refusal | None:
        if self._per_user[user] >= self.max_per_user:
            return Refusal(CLOSE_TRY_LATER, f"{user} already has {self.max_per_user} connections open; "
                           "close some")
        self._per_user[user] += 1
        return None

    def release_anonymous(self, address: str) -> None:
        self.anonymous -= 1
        _decrement(self._per_address, address)

    def release_user(self, user: str) -> None:
        _decrement(self._per_user, user)

    def user_count(self, user: str) -> int:
        return self._per_user[user]


def _decrement(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
