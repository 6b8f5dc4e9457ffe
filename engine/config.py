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
            _merge(merged, _read_toml(path))
            sources.append(str(path))
    for key, value in env.items():
        if not key.startswith(ENV_PREFIX):
            continue
        section, _, name = key[len(ENV_PREFIX):].lower().partition("_")
        if section and name:
            merged.setdefault(section, {})[name] = value
    return Settings(merged, tuple(sources))


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
