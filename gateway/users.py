"""The gateway's users file: names, roles and scrypt password hashes, never a password in clear.

scrypt (n=2**14, r=8, p=1) costs about 16 MiB and tens of milliseconds per guess, which is what makes
a stolen file expensive to attack; its parameters are stored in each hash so they can be raised later
without invalidating old entries. The file is written atomically with mode 0600, and re-read when it
changes, so ``nexus users add/remove`` take effect on a running gateway at the next login or connect.

File shape (JSON)::

    {"version": 1, "users": {"alice": {"role": "developer", "password": "scrypt$16384$8$1$<salt>$<hash>",
                                        "created": "2026-11-02T10:00:00+00:00"}}}
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import functools
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from nexus.engine.errors import ConfigError, NexusError, NotFoundError

from .protocol import Role

log = logging.getLogger(__name__)

FILE_VERSION = 1
SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES, SALT_BYTES = 2**14, 8, 1, 32, 16
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}\Z")


class UserError(NexusError):
    """A user cannot be added as asked (bad name, weak password, already there)."""


@dataclasses.dataclass(frozen=True, slots=True)
class User:
    name: str
    role: Role
    password_hash: str
    created: str

    @property
    def created_at(self) -> float | None:
        """``created`` as UNIX time (None if absent or unreadable): tokens older than it are refused."""
        try:
            return datetime.datetime.fromisoformat(self.created).timestamp() if self.created else None
        except ValueError:
            return None


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def check_password(password: str, stored: str) -> bool:
    """True if ``password`` matches ``stored``; False for a mismatch or a malformed hash."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int = KEY_BYTES) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=dklen, maxmem=64 * 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@functools.cache
def _dummy_hash() -> str:
    """Checked when the user does not exist, so "no such user" costs one scrypt, as "wrong password"
    does (and the first unknown name costs no more than later ones: nothing is hashed to make it)."""
    key = secrets.token_bytes(KEY_BYTES)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(secrets.token_bytes(SALT_BYTES))}${_b64(key)}"


class UserStore:
    """The users file. Reads are cheap (a stat per call; re-parsed only when the file changed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._users: dict[str, User] = {}

    def get(self, name: str) -> User | None:
        return self._load().get(name)

    def all(self) -> list[User]:
        return sorted(self._load().values(), key=lambda u: u.name)

    def verify(self, name: str, password: str) -> User | None:
        """The user if ``password`` is theirs, else None. Slow on purpose (scrypt): call it off the loop."""
        user = self.get(name)
        if len(password) > MAX_PASSWORD:  # before the lookup matters: says nothing about the user
            return None
        ok = check_password(password, user.password_hash if user else _dummy_hash())
        return user if ok and user is not None else None

    def add(self, name: str, role: Role, password: str) -> User:
        """Raises UserError for an invalid name, a short password, or an existing user."""
        if NAME_PATTERN.match(name) is None:
            raise UserError(f"user name {name!r}: use letters, digits and . _ @ - (at most 64 characters)")
        if len(password) < MIN_PASSWORD:
            raise UserError(f"password for {name}: at least {MIN_PASSWORD} characters")
        if len(password) > MAX_PASSWORD:
            raise UserError(f"password for {name}: at most {MAX_PASSWORD} characters")
        users = dict(self._load())
        if name in users:
            raise UserError(f"user {name} already exists; remove it first to change it")
        created = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        user = User(name, role, hash_password(password), created)
        users[name] = user
        self._save(users)
        log.info("added gateway user %s (%s)", name, role.label)
        return user

    def remove(self, name: str) -> None:
        """Raises NotFoundError if there is no such user."""
        users = dict(self._load())
        if users.pop(name, None) is None:
            raise NotFoundError(f"no gateway user named {name}")
        self._save(users)
        log.info("removed gateway user %s", name)

    def _load(self) -> dict[str, User]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._stamp, self._users = None, {}
            return self._users
        except OSError as exc:
            raise ConfigError(f"cannot read the users file {self.path}: {exc.strerror}") from exc
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            if st.st_mode & 0o022:
                # Whoever can write this file can make themselves admin: as sensitive as the secret.
                log.warning("%s is writable by other users (mode %o): anyone who can write it can add an "
                            "admin; run chmod 600 on it", self.path, st.st_mode & 0o777)
            self._users = _parse(self.path)
            self._stamp = stamp
        return self._users

    def _save(self, users: dict[str, User]) -> None:
        doc: dict[str, Any] = {"version": FILE_VERSION, "users": {
            u.name: {"role": u.role.label, "password": u.password_hash, "created": u.created}
            for u in sorted(users.values(), key=lambda u: u.name)}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".users-", dir=self.path.parent)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, indent=2)
                fh.write("\n")
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._stamp = None


def _parse(path: Path) -> dict[str, User]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc["users"]
        if doc.get("version") != FILE_VERSION or not isinstance(entries, dict):
            raise ValueError("unsupported version")
        return {name: User(name, Role.parse(e["role"]), str(e["password"]), str(e.get("created", "")))
                for name, e in entries.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"the users file {path} is not valid ({exc}); fix it or remove it and add the users "
                          "again with `nexus users add`") from exc
