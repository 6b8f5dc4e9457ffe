"""The ``[kernels]`` settings section: pool sizes, culling, sandbox limits, output limits, gateway.

Read with ``load_settings(root).section("kernels", KernelSettings)``; every field can also come from a
``NEXUS_KERNELS_<FIELD>`` environment variable (``NEXUS_KERNELS_MEMORY_MB=1024``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from nexus.engine.config import Settings
from nexus.engine.errors import ConfigError

DEFAULT_POOL = {"python": 1}


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    """Resource limits of one kernel process tree; 0 means unlimited.

    ``memory_mb`` is the address-space limit for native code (Python, C++); for the JavaScript and Java
    runtimes it is their heap limit, because V8 and the JVM reserve far more address space than they use.
    ``cpu_seconds`` counts per execution, not over a session's lifetime; ``cpus`` is a share of the machine
    (1.0: one core's worth), enforced by a cpu cgroup where one is writable.
    """

    memory_mb: int = 1024
    cpu_seconds: int = 60
    processes: int = 128
    file_size_mb: int = 256
    network: bool = False
    cpus: float = 1.0


@dataclasses.dataclass(frozen=True, slots=True)
class OutputLimits:
    """How much output one execution keeps; the rest is counted and dropped with a notice."""

    max_bytes: int = 1_000_000
    max_items: int = 1_000


@dataclasses.dataclass(frozen=True, slots=True)
class KernelSettings:
    pool: dict[str, int] = dataclasses.field(default_factory=lambda: dict(DEFAULT_POOL))
    cull_idle_seconds: float = 3600.0
    timeout_seconds: float = 30.0
    interrupt_grace_seconds: float = 3.0
    start_timeout_seconds: float = 60.0
    memory_mb: int = 1024
    cpu_seconds: int = 60
    processes: int = 128
    file_size_mb: int = 256
    network: bool = False
    cpus: float = 1.0  # CPU share of one kernel (cgroup cpu.max / cfs quota), 0: unlimited
    use_bwrap: bool = True
    use_cgroups: bool = True
    cgroup_root: str = ""  # a delegated cgroup v2 folder; empty: found from /proc/self/cgroup
    sandbox_uid: int = 65534  # the host user kernels run as when the service runs as root
    sandbox_gid: int = 65534
    allow_unsandboxed: bool = False  # let the gateway/Jupyter extension run code without bubblewrap
    hidden_paths: tuple[Path, ...] = ()  # more folders kernels must not see (beyond homes, config, cache)
    env: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)  # language or "*" -> VAR -> value
    max_output_bytes: int = 1_000_000
    max_output_items: int = 1_000
    gateway_url: str = ""
    gateway_token: str = ""
    workspace: Path | None = None
    cwd_in_workspace: bool = False  # kernels start in the workspace root (else in their own work/ folder)

    def __post_init__(self) -> None:
        for name in (
            "memory_mb",
            "cpu_seconds",
            "processes",
            "file_size_mb",
            "max_output_bytes",
            "max_output_items",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"setting kernels.{name} must be 0 (unlimited) or positive")
        if self.timeout_seconds <= 0:
            raise ConfigError("setting kernels.timeout_seconds must be positive")
        for language, size in self.pool.items():
            if not isinstance(size, int) or size < 0:
                raise ConfigError(f"setting kernels.pool.{language} must be a non-negative integer")
        if self.cpus < 0:
            raise ConfigError("setting kernels.cpus must be 0 (unlimited) or a positive number of CPUs")
        if self.sandbox_uid <= 0 or self.sandbox_gid <= 0:
            raise ConfigError("settings kernels.sandbox_uid and sandbox_gid must name an unprivileged user (> 0)")
        for language, variables in self.env.items():
            if not isinstance(variables, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
            ):
                raise ConfigError(f"setting kernels.env.{language} must be a table of NAME = \"value\" strings")

    def env_for(self, language: str) -> dict[str, str]:
        """The variables the admin configured for ``language``'s kernels (``"*"`` applies to all)."""
        return {**self.env.get("*", {}), **self.env.get(language, {})}

    @property
    def limits(self) -> Limits:
        return Limits(self.memory_mb, self.cpu_seconds, self.processes, self.file_size_mb, self.network, self.cpus)

    @property
    def output_limits(self) -> OutputLimits:
        return OutputLimits(self.max_output_bytes, self.max_output_items)


def kernel_settings(settings: Settings) -> KernelSettings:
    """The typed ``[kernels]`` section; ``pool`` may be a table or ``"python=1,javascript=1"`` (env)."""
    raw = dict(settings.raw.get("kernels", {}))
    pool = raw.pop("pool", None)
    section = Settings({"kernels": raw}, settings.sources).section("kernels", KernelSettings)
    if pool is None:
        return section
    if isinstance(pool, str):
        parsed: dict[str, int] = {}
        for part in filter(None, (p.strip() for p in pool.split(","))):
            name, sep, value = part.partition("=")
            if not sep or not value.strip().isdigit():
                raise ConfigError(f"setting kernels.pool: {part!r} is not LANGUAGE=COUNT")
            parsed[name.strip()] = int(value)
        pool = parsed
    if not isinstance(pool, dict):
        raise ConfigError("setting kernels.pool must be a table of LANGUAGE = COUNT")
    try:
        return dataclasses.replace(section, pool={str(k): int(v) for k, v in pool.items()})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting kernels.pool: {exc}") from exc
