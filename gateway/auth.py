"""Session tokens: HS256 JWTs (pyjwt) carrying the user and role, with an expiry.

What a token can and cannot do, since a token signed with the secret is the only way in without a
password:
- Verification pins the algorithm to HS256, so ``alg: none`` and algorithm-confusion tokens (RS256 with
  the secret as a "public key", HS512, ...) are refused by pyjwt before any claim is read; ``exp``,
  ``iat``, ``sub``, ``iss``, ``aud`` and ``auth_time`` are required, and ``iss``/``aud`` must be this
  gateway's (so a token minted for something else that happens to share the secret is refused); an
  ``iat`` in the future is refused.
- The ``role`` claim is informational: the server takes the role from the users file at every
  connection, login and refresh, so a demotion or removal wins over any token.
- ``auth_time`` is when the password was checked. ``auth:refresh`` carries it over, and no token
  outlives ``auth_time + session_max_age``: a stolen token cannot be refreshed forever. A token whose
  ``auth_time`` predates the user's entry in the users file (removed, then added again) is refused.

The signing secret comes from settings (``gateway.secret`` / ``NEXUS_GATEWAY_SECRET``) or from a secret
file that is generated with mode 0600 on first start; it is never logged.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable
from pathlib import Path

import jwt

from nexus.engine.errors import ConfigError, NexusError

from .protocol import Identity, Role

log = logging.getLogger(__name__)

ALGORITHM = "HS256"
ISSUER = "nexus-gateway"
AUDIENCE = "nexus-gateway-clients"
MIN_SECRET = 32  # characters; RFC 7518 wants an HS256 key of at least 256 bits


class TokenError(NexusError):
    """A token that cannot be accepted; ``expired`` tells a client to log in again rather than give up."""

    def __init__(self, message: str, *, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


@dataclasses.dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: float
    expires_in: int
    identity: Identity


class TokenIssuer:
    def __init__(self, secret: str, *, ttl: int = 86400, max_age: int = 7 * 86400,
                 clock: Callable[[], float] = time.time) -> None:
        if len(secret) < MIN_SECRET:
            raise ConfigError(f"the gateway secret must be at least {MIN_SECRET} characters")
        if ttl <= 0:
            raise ConfigError("gateway.token_ttl must be a positive number of seconds")
        if max_age < ttl:
            raise ConfigError("gateway.session_max_age must be at least gateway.token_ttl")
        self._secret = secret
        self.ttl = ttl
        self.max_age = max_age
        self._clock = clock

    def issue(self, user: str, role: Role, *, authenticated_at: float | None = None) -> IssuedToken:
        """A token for ``user``; ``authenticated_at`` (a refresh) keeps the original login's time, and the
        token expires at the latest ``session_max_age`` after it. Raises TokenError when that is past."""
        now = int(self._clock())
        auth_time = now if authenticated_at is None else int(authenticated_at)
        expires_at = min(now + self.ttl, auth_time + self.max_age)
        if expires_at <= now:
            raise TokenError("this login is older than the session's maximum age: log in again", expired=True)
        claims = {"sub": user, "role": role.label, "iat": now, "exp": expires_at, "iss": ISSUER, "aud": AUDIENCE,
                  "auth_time": auth_time}
        token = jwt.encode(claims, self._secret, algorithm=ALGORITHM)
        return IssuedToken(token, float(expires_at), expires_at - now,
                           Identity(user, role, float(expires_at), float(auth_time)))

    def verify(self, token: str) -> Identity:
        """The identity a token carries. Raises TokenError (expired, bad signature, wrong alg, malformed)."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER, audience=AUDIENCE,
                                options={"require": ["exp", "iat", "sub", "iss", "aud", "auth_time"]})
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("the token has expired: log in again", expired=True) from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"invalid token ({exc})") from exc
        try:
            role = Role.parse(str(claims["role"]))
            auth_time = float(claims["auth_time"])
            sub = claims["sub"]
        except (KeyError, ValueError, TypeError) as exc:
            raise TokenError("invalid token (no valid role or auth_time)") from exc
        if not isinstance(sub, str) or not sub:
            raise TokenError("invalid token (no user)")
        if auth_time > float(claims["iat"]) or float(claims["exp"]) > auth_time + self.max_age:
            raise TokenError("invalid token (its lifetime exceeds the session's maximum age)")
        return Identity(sub, role, float(claims["exp"]), auth_time)


def load_secret(configured: str, secret_file: Path) -> str:
    """The configured secret, else the one in ``secret_file``, created (0600) with a fresh secret if absent.

    Raises ConfigError for a short secret or an unreadable file.
    """
    if configured:
        if len(configured) < MIN_SECRET:
            raise ConfigError(f"gateway.secret is shorter than {MIN_SECRET} characters")
        return configured
    try:
        secret = secret_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return _create_secret(secret_file)
    except OSError as exc:
        raise ConfigError(f"cannot read the gateway secret {secret_file}: {exc.strerror}") from exc
    if len(secret) < MIN_SECRET:
        raise ConfigError(f"the gateway secret in {secret_file} is shorter than {MIN_SECRET} characters; "
                          "delete the file to have a new one generated (this logs everyone out)")
    mode = stat.S_IMODE(secret_file.stat().st_mode)
    if mode & 0o077:
        log.warning("%s is readable by other users (mode %o); run chmod 600 on it", secret_file, mode)
    return secret


def _create_secret(path: Path) -> str:
    secret = secrets.token_urlsafe(48)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another gateway created it first: use theirs
        return load_secret("", path)
    except OSError as exc:
        raise ConfigError(f"cannot create the gateway secret {path}: {exc.strerror}") from exc
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(secret + "\n")
    log.info("generated a new gateway secret in %s", path)
    return secret
