"""What an operation runs with: the backends of one workspace, and who asked."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .identity import LOCAL, Identity

if TYPE_CHECKING:
    from .backends import Backends


@dataclasses.dataclass(frozen=True, slots=True)
class Call:
    backends: Backends
    identity: Identity = LOCAL
    peer: str = ""
