"""Settings: built-in defaults, then the user's ``nexus.toml``, then the workspace's ``.nexus.toml``,
then ``NEXUS_<SECTION>_<KEY>`` environment variables, later sources winning.

Each subsystem owns its section as a frozen dataclass and asks for it with
``settings.section("index", IndexSettings)``; this module only merges sources and coerces values, so a
new subsystem adds settings without touching it.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import platformdirs

from .errors import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")
ENV_PREFIX = "NEXUS_"
WORKSPACE_FILE = ".nexus.toml"
USER_FILE = "nexus.toml"


def user_config_dir() -> Path:
    return Path(os.environ.get("NEXUS_CONFIG_DIR") or platformdirs.user_config_dir("nexus"))


def user_cache_dir() -> Path:
    return Path(os.environ.get("NEXUS_CACHE_DIR") or platformdirs.user_cache_dir("nexus"))


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    """Merged raw settings; typed views come from :meth:`section`."""

    raw: Mapping[str, Mapping[str, Any]]
    sources: tuple[str, ...] = ()

    def section(self, name: str, cls: type[T]) -> T:
        """Return section ``name`` as ``cls`` (a dataclass), with defaults for absent keys.

        Raises ConfigError naming the source key when a value has the wrong type or is unknown.
        """
        values = dict(self.raw.get(name, {}))
        fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        hints = typing.get_type_hints(cls)
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            field_name = key.replace("-", "_")
            if field_name not in fields:
                # An unknown key in someone else's subsection (e.g. [providers.openai]) is fine;
                # a misspelt scalar is worth a warning, not a refusal to start.
                if not isinstance(value, Mapping):
                    log.warning("unknown setting %s.%s ignored", name, key)
                continue
            kwargs[field_name] = _coerce(value, hints[field_name], f"{name}.{key}")
        return cls(**kwargs)


def load_settings(root: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Merge the defaults-free sources for workspace ``root`` (None: user file and env only)."""
    env = os.environ if env is None else env
    merged: dict[str, dict[str, Any]] = {}
    sources: list[str] = []
    candidates = [user_config_dir() / USER_FILE]
    if root is not None:
        candidates.append(root / WORKSPACE_FILE)
    for path in candidates:
        if path.is_file():
            values = _read_toml(path)
            if path.name == WORKSPACE_FILE:
                values = _untrusted(values, path)
            _merge(merged, values)
            sources.append(str(path))
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        section, _, name = key[len(ENV_PREFIX):].lower().partition("_")
        if section and name:
            merged.setdefault(section, {})[name] = value
    return Settings(merged, tuple(sources))


TRUSTED_ONLY: dict[str, frozenset[str] | None] = {
    "kernels": frozenset({"use_bwrap", "use_cgroups", "allow_unsandboxed", "sandbox_uid", "sandbox_gid", "network",
                          "hidden_paths", "env", "cgroup_root", "gateway_url", "gateway_token", "memory_mb",
                          "cpu_seconds", "processes", "file_size_mb", "cpus", "timeout_seconds"}),
    "gateway": None,  # every key: the secret, users file, proxies, limits
    "context": frozenset({"store_dir"}),
    "index": frozenset({"cache_dir"}),
}
"""Settings a workspace's own ``.nexus.toml`` may not set: the workspace is content (a cloned repository,
a notebook someone shared), and these keys would weaken the sandbox, raise its limits, or send data and
keys elsewhere. They come only from the user's nexus.toml, the environment or the server's own config."""
SECRET_KEYS = frozenset({"base_url", "api_key", "api_key_env"})
"""In any section of a workspace file: a provider's address and key would let a repository send the
user's API key (or, through ``api_key_env``, any environment variable) to a server of its choosing."""


def _untrusted(values: dict[str, Any], path: Path) -> dict[str, Any]:
    """``values`` of a workspace file without the keys only trusted sources may set (each one logged)."""
    kept: dict[str, Any] = {}
    for section, table in values.items():
        if not isinstance(table, dict):
            kept[section] = table
            continue
        banned = TRUSTED_ONLY.get(section, frozenset())
        kept[section] = _strip(table, banned, f"{section}.", path)
    return kept


def _strip(table: dict[str, Any], banned: frozenset[str] | None, prefix: str, path: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in table.items():
        if banned is None or key in banned or key in SECRET_KEYS:
            log.warning("%s: ignoring %s%s: it can only be set in the user's %s or a NEXUS_ environment variable",
                        path, prefix, key, USER_FILE)
        elif isinstance(value, dict):
            out[key] = _strip(value, frozenset(), f"{prefix}{key}.", path)
        else:
            out[key] = value
    return out


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


def _merge(into: dict[str, Any], new: Mapping[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        elif isinstance(value, Mapping):
            into[key] = {}
            _merge(into[key], value)
        else:
            into[key] = value


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _coerce(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value == "" and len(args) < len(typing.get_args(hint))):
            return None
        return _coerce(value, args[0], where)
    try:
        if hint is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE | _FALSE:
                return text in _TRUE
            raise ValueError(value)
        if hint in (int, float):
            if isinstance(value, bool):
                raise ValueError(value)
            return hint(value)
        if hint is str:
            return str(value)
        if hint is Path:
            return Path(str(value)).expanduser()
        if origin in (tuple, list):
            items = [s.strip() for s in value.split(",") if s.strip()] if isinstance(value, str) else list(value)
            (item_hint, *_rest) = typing.get_args(hint) or (str,)
            coerced = [_coerce(v, item_hint, where) for v in items]
            return tuple(coerced) if origin is tuple else coerced
        if origin is dict or hint is dict:
            if not isinstance(value, Mapping):
                raise ValueError(value)
            return dict(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {where}: {value!r} is not a valid {getattr(hint, '__name__', hint)}") from exc
    return value
