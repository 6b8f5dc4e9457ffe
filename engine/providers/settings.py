"""Which providers exist, how to reach them, and which model serves which role.

Sources, later winning: ``[providers]`` and ``[providers.<name>]`` in nexus.toml / .nexus.toml, then
``NEXUS_PROVIDERS_<KEY>`` and ``NEXUS_<NAME>_<KEY>`` environment variables (``NEXUS_ANTHROPIC_BASE_URL``,
``NEXUS_LOCAL_MODEL``...). API keys come from the provider's own variable (``ANTHROPIC_API_KEY``,
``OPENAI_API_KEY``, ``GEMINI_API_KEY``), from ``api_key_env`` naming another one, or (discouraged)
``api_key`` in the file. Keys are wrapped in :class:`Secret` so no repr, log line or error shows them.

A provider is *configured* when it can be called: a key for the hosted ones, a ``base_url`` for
``local``. Roles map to ``"provider"`` or ``"provider:model"`` (the model part may itself contain
colons, as Ollama tags do).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nexus.engine.config import Settings, load_settings
from nexus.engine.errors import ConfigError

from .errors import InvalidRequestError, NoProviderError
from .types import Role

log = logging.getLogger(__name__)

KINDS = ("anthropic", "openai", "gemini", "local")
ALIASES = {"claude": "anthropic", "gpt": "openai", "chatgpt": "openai", "google": "gemini", "ollama": "local"}


class Secret:
    """A credential that never shows itself: ``repr``/``str`` print ``***``; :meth:`reveal` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclasses.dataclass(frozen=True, slots=True)
class _KindDefaults:
    key_env: str | None
    base_url: str | None
    models: Mapping[Role, str]


_DEFAULTS: dict[str, _KindDefaults] = {
    "anthropic": _KindDefaults("ANTHROPIC_API_KEY", None, {
        Role.CHAT: "claude-sonnet-5-5", Role.INLINE: "claude-haiku-5-5", Role.EDIT: "claude-sonnet-5-5"}),
    "openai": _KindDefaults("OPENAI_API_KEY", None, {
        Role.CHAT: "gpt-5.5", Role.INLINE: "gpt-5.4-mini", Role.EDIT: "gpt-5.5"}),
    "gemini": _KindDefaults("GEMINI_API_KEY", "https://generativelanguage.googleapis.com/v1beta/openai/", {
        Role.CHAT: "gemini-3-pro-preview", Role.INLINE: "gemini-3-flash-preview", Role.EDIT: "gemini-3-pro-preview"}),
    "local": _KindDefaults(None, None, {}),
}


@dataclasses.dataclass(frozen=True, slots=True)
class ProviderConfig:
    name: str
    kind: str
    api_key: Secret | None = None
    key_hint: str = "its API key"
    base_url: str | None = None
    models: Mapping[Role, str] = dataclasses.field(default_factory=dict)
    enabled: bool = True

    @property
    def configured(self) -> bool:
        if not self.enabled:
            return False
        if self.kind == "local":
            return self.base_url is not None
        return self.api_key is not None

    def model_for(self, role: Role) -> str:
        model = self.models.get(role)
        if not model:
            raise ConfigError(
                f"provider {self.name} has no model for role {role.value}: set providers.{self.name}.model "
                f"(or NEXUS_{self.name.upper()}_MODEL)")
        return model

    def how_to_configure(self) -> str:
        if self.kind == "local":
            return f"set NEXUS_{self.name.upper()}_BASE_URL (or providers.{self.name}.base_url)"
        return f"set {self.key_hint}"


@dataclasses.dataclass(frozen=True, slots=True)
class _Section:
    """The flat keys of ``[providers]``; subsections are read separately."""

    order: tuple[str, ...] = ()
    chat: str | None = None
    inline: str | None = None
    edit: str | None = None
    fallback: bool = True
    timeout: float = 60.0
    connect_timeout: float = 10.0
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 30.0
    breaker_failures: int = 5
    breaker_reset: float = 30.0


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    provider: str
    model: str


@dataclasses.dataclass(frozen=True, slots=True)
class ProvidersConfig:
    """Everything the router needs. ``timeout`` bounds the wait for the first byte and between chunks."""

    providers: tuple[ProviderConfig, ...] = ()
    order: tuple[str, ...] = ()
    roles: Mapping[Role, tuple[str, str | None]] = dataclasses.field(default_factory=dict)
    fallback: bool = True
    timeout: float = 60.0
    connect_timeout: float = 10.0
    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    max_retry_after: float = 30.0
    breaker_failures: int = 5
    breaker_reset: float = 30.0

    def get(self, name: str) -> ProviderConfig:
        """The provider called ``name`` (or an alias such as ``claude``); InvalidRequestError if unknown."""
        wanted = ALIASES.get(name.lower(), name.lower())
        for provider in self.providers:
            if provider.name == wanted:
                return provider
        known = ", ".join(p.name for p in self.providers)
        raise InvalidRequestError(f"unknown provider {name!r}; known: {known}")

    @property
    def configured(self) -> tuple[ProviderConfig, ...]:
        """Configured providers, in fallback order."""
        rank = {name: i for i, name in enumerate(self.order)}
        ready = [p for p in self.providers if p.configured]
        return tuple(sorted(ready, key=lambda p: rank.get(p.name, len(rank))))

    def targets(self, role: Role, provider: str | None = None, model: str | None = None,
                fallback: bool | None = None) -> tuple[Target, ...]:
        """The providers to try, in order, for one call.

        An explicit ``provider`` is tried alone unless ``fallback=True``; otherwise the role's provider
        comes first and the other configured providers follow when ``fallback`` (default: the
        ``providers.fallback`` setting). ``model`` overrides the model of the first target only.
        Raises NoProviderError when nothing usable is configured, InvalidRequestError for an unknown name.
        """
        ready = self.configured
        if provider is not None:
            first = self.get(provider)
            if not first.configured:
                raise NoProviderError(f"{first.name} is not configured: {first.how_to_configure()}")
            use_fallback = bool(fallback)
        else:
            if not ready:
                raise NoProviderError()
            # Without an explicit role, the first configured provider that has a model for it.
            default = next((p for p in ready if p.models.get(role)), ready[0])
            name, role_model = self.roles.get(role, (default.name, None))
            first = self.get(name)
            if not first.configured:
                raise NoProviderError(
                    f"providers.{role.value} names {first.name}, which is not configured: "
                    f"{first.how_to_configure()}")
            model = model or role_model
            use_fallback = self.fallback if fallback is None else fallback
        targets = [Target(first.name, model or first.model_for(role))]
        if use_fallback:
            for other in ready:
                if other.name != first.name and other.models.get(role):
                    targets.append(Target(other.name, other.model_for(role)))
        return tuple(targets)


def load_providers_config(settings: Settings | None = None, *, root: Path | None = None,
                          env: Mapping[str, str] | None = None) -> ProvidersConfig:
    """Read the provider settings; raises ConfigError with the offending key on invalid values."""
    env = os.environ if env is None else env
    settings = settings if settings is not None else load_settings(root, env)
    section = settings.section("providers", _Section)
    raw = settings.raw.get("providers", {})
    names = list(KINDS)
    names += [k for k, v in raw.items() if isinstance(v, Mapping) and k not in names]
    providers = tuple(_provider(name, {**raw.get(name, {}), **settings.raw.get(name, {})}, env) for name in names)
    config_names = {p.name for p in providers}
    order = tuple(ALIASES.get(n, n) for n in section.order)
    for name in order:
        if name not in config_names:
            raise ConfigError(f"providers.order names unknown provider {name!r}")
    roles: dict[Role, tuple[str, str | None]] = {}
    for role in Role:
        value = getattr(section, role.value)
        if value:
            name, _, model = value.partition(":")
            name = ALIASES.get(name.strip().lower(), name.strip().lower())
            if name not in config_names:
                raise ConfigError(f"providers.{role.value}: unknown provider {name!r} in {value!r}")
            roles[role] = (name, model.strip() or None)
    for key in ("timeout", "connect_timeout", "backoff_base", "backoff_max", "breaker_reset"):
        if getattr(section, key) <= 0:
            raise ConfigError(f"providers.{key} must be positive")
    if section.max_retries < 0 or section.breaker_failures < 1:
        raise ConfigError("providers.max_retries must be >= 0 and providers.breaker_failures >= 1")
    return ProvidersConfig(
        providers=providers, order=order, roles=roles, fallback=section.fallback, timeout=section.timeout,
        connect_timeout=section.connect_timeout, max_retries=section.max_retries,
        backoff_base=section.backoff_base, backoff_max=section.backoff_max,
        max_retry_after=section.max_retry_after, breaker_failures=section.breaker_failures,
        breaker_reset=section.breaker_reset,
    )


def _provider(name: str, values: Mapping[str, Any], env: Mapping[str, str]) -> ProviderConfig:
    kind = str(values.get("kind", name)).lower()
    if kind not in _DEFAULTS:
        raise ConfigError(f"providers.{name}.kind must be one of {', '.join(KINDS)}, not {kind!r}")
    defaults = _DEFAULTS[kind]
    key_env = str(values.get("api_key_env") or defaults.key_env or f"NEXUS_{name.upper()}_API_KEY")
    key = env.get(key_env) or None
    key_hint = key_env
    if key is None and values.get("api_key"):
        key, key_hint = str(values["api_key"]), f"providers.{name}.api_key"
    base_url = values.get("base_url") or defaults.base_url
    if base_url is not None:
        base_url = str(base_url).strip()
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"providers.{name}.base_url must start with http:// or https://, not {base_url!r}")
    models = dict(defaults.models)
    if values.get("model"):
        models = {role: str(values["model"]) for role in Role}
    for role in Role:
        if values.get(f"{role.value}_model"):
            models[role] = str(values[f"{role.value}_model"])
    enabled = values.get("enabled", True)
    if isinstance(enabled, str):
        enabled = enabled.strip().lower() not in ("0", "false", "no", "off")
    unknown = set(values) - {"kind", "api_key_env", "api_key", "base_url", "model", "enabled",
                             *(f"{r.value}_model" for r in Role)}
    for key_name in sorted(unknown):
        log.warning("unknown setting providers.%s.%s ignored", name, key_name)
    return ProviderConfig(name=name, kind=kind, api_key=Secret(key) if key else None, key_hint=key_hint,
                          base_url=base_url, models=models, enabled=bool(enabled))
