"""``initializationOptions``, parsed once into one dataclass.

Clients send what they like; before, each feature fished its own key out of a dict (with its own idea
of what a bad value means). Now ``initialize`` parses the options here, logs every key it does not know
and every value of the wrong type (the default is used instead), and features read typed fields.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Keys the editor clients send for their own side (shown in the client, not read here).
_CLIENT_KEYS = frozenset({"client", "ai", "inlineCompletion"})
BACKEND_CHOICES = ("auto", "jedi", "ty", "pyrefly", "none")


@dataclass(frozen=True, slots=True)
class Options:
    index: bool = True  # false: serve an existing index without updating it
    ruff: bool = True
    file_watcher: bool = True  # the server's own watcher, when the client cannot register file watchers
    # milliseconds per feature the semantic backend gets before the index answers (see semantics.policy)
    budgets: Mapping[str, float] = field(default_factory=dict)
    # the Python backend, overriding ``[python] backend`` in .nexus.toml ("" = the setting's)
    python_backend: str = ""
    # backends (LSP subprocesses) may be switched off altogether: the index and jedi answer
    backends: bool = True
    client: str = ""
    unknown: tuple[str, ...] = ()

    def budget(self, feature: str) -> float | None:
        """Seconds given for ``feature`` by the client, or None for the table's default."""
        value = self.budgets.get(feature)
        return None if value is None else value / 1000

    @classmethod
    def parse(cls, raw: object) -> Options:
        """Options from the client's ``initializationOptions``; never raises: a bad value is logged and
        its default used, so one typo does not cost the user every other setting."""
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            log.warning("initializationOptions should be an object, not %s: ignored", type(raw).__name__)
            return cls()
        values: dict[str, Any] = {}
        unknown: list[str] = []
        for key, value in raw.items():
            if key in ("index", "ruff", "fileWatcher", "backends"):
                if isinstance(value, bool):
                    values["file_watcher" if key == "fileWatcher" else str(key)] = value
                else:
                    _bad(key, value, "true or false")
            elif key == "budgets":
                values["budgets"] = _budgets(value)
            elif key == "python":
                backend = value.get("backend") if isinstance(value, Mapping) else None
                if isinstance(value, Mapping) and set(value) - {"backend"}:
                    unknown.extend(f"python.{k}" for k in sorted(set(value) - {"backend"}))
                if backend in BACKEND_CHOICES:
                    values["python_backend"] = backend
                elif backend is not None or not isinstance(value, Mapping):
                    _bad("python.backend", backend if isinstance(value, Mapping) else value,
                         " | ".join(f'"{c}"' for c in BACKEND_CHOICES))
            elif key == "client":
                values["client"] = value if isinstance(value, str) else ""
            elif key in _CLIENT_KEYS:
                continue
            else:
                unknown.append(str(key))
        if unknown:
            log.warning("unknown initializationOptions ignored: %s", ", ".join(unknown))
        return cls(**values, unknown=tuple(unknown))


def _budgets(value: object) -> dict[str, float]:
    if not isinstance(value, Mapping):
        _bad("budgets", value, "an object of milliseconds per feature")
        return {}
    from .semantics.policy import POLICIES  # the table names the features

    out: dict[str, float] = {}
    for feature, ms in value.items():
        if feature not in POLICIES:
            log.warning("budgets.%s: no such feature (known: %s): ignored", feature, ", ".join(sorted(POLICIES)))
        elif isinstance(ms, (int, float)) and not isinstance(ms, bool) and ms >= 0:
            out[feature] = float(ms)
        else:
            _bad(f"budgets.{feature}", ms, "milliseconds (a number >= 0)")
    return out


def _bad(key: str, value: object, expected: str) -> None:
    log.warning("initializationOptions.%s = %r: expected %s; the default is used", key, value, expected)
