"""``search:query`` ``{query, limit?}`` -> ``search:query`` ``{hits: [{path, line, text, score}]}``: the
workspace index searched (viewers may search).

Not wired yet: the workspace index and search in ``nexus.engine`` are being built; until then this type
answers ``unavailable``. Tantivy queries block: run them in a worker thread against a snapshot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..protocol import Registry, Role

if TYPE_CHECKING:
    from . import Services

TYPE = "search:query"
MIN_ROLE = Role.VIEWER
FEATURE = "workspace search (the nexus.engine index)"


def register(registry: Registry, services: Services) -> None:
    registry.register_unavailable(TYPE, FEATURE, min_role=MIN_ROLE)
