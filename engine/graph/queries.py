"""Questions asked of the code graph: definitions, callers, callees, imports, importers, neighbours.

Resolution is by name, the way ctags-style tools and aider's repo map resolve: a call to ``load`` is a
call to every definition named ``load``, narrowed when one of them is in the calling file or in a file
it imports. That is precise enough to navigate and to rank context, works the same for all five
languages, and never needs type inference.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import NotFoundError
from ..model import Symbol
from .rank import FileGraph
from .store import GraphStore

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

# Past this many definitions of one name, a call site is "ambiguous" rather than an edge to each.
MAX_TARGETS = 8


@dataclass(frozen=True, slots=True)
class Definition:
    path: str
    symbol: Symbol

    def to_json(self) -> dict[str, Any]:
        s = self.symbol
        return {"path": self.path, "line": s.span.start_line + 1, "endLine": s.span.end_line + 1,
                "name": s.name, "qualifiedName": s.qualified_name, "kind": s.kind, "signature": s.signature}


@dataclass(frozen=True, slots=True)
class CallEdge:
    """One call site: ``caller`` (in ``path`` at ``line``) calls ``callee``; ``targets`` are the
    definitions the callee name resolves to (empty: defined outside the workspace)."""

    path: str
    line: int  # zero-based
    caller: str
    callee: str
    targets: tuple[Definition, ...] = ()
    ambiguous: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line + 1, "caller": self.caller, "callee": self.callee,
                "targets": [t.to_json() for t in self.targets], "ambiguous": self.ambiguous}


@dataclass(frozen=True, slots=True)
class ImportEdge:
    path: str  # the importing file
    line: int
    module: str
    target: str | None  # the workspace file it resolves to, None when outside the workspace

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line + 1, "module": self.module, "target": self.target}


class CodeGraph:
    """The graph of one workspace. Every query first syncs the graph if the index moved (cheap)."""

    def __init__(self, ws: Workspace, store: GraphStore | None = None) -> None:
        self.ws = ws
        self.store = store or GraphStore.for_workspace(ws)

    def sync(self) -> None:
        if not self.store.is_current(self.ws):
            self.store.sync(self.ws)

    def file_graph(self) -> FileGraph:
        self.sync()
        if self.store.edges_pending():  # left by an index run: ranking is the first use that needs them
            self.store.recompute_edges(self.ws)
        return FileGraph.load(self.store)

    # -- symbols ---------------------------------------------------------------------------------

    def definitions(self, symbol: str) -> list[Definition]:
        """Definitions of ``name``, ``Container.name`` (``::`` works too) or ``path:name``."""
        path_filter = ""
        head, colon, tail = symbol.rpartition(":")
        if colon and not head.endswith(":") and not tail.startswith(":") and head:
            path_filter, symbol = head, tail
        normalised = symbol.replace("::", ".")
        container, _, name = normalised.rpartition(".")
        found = []
        for path, sym in self.ws.definitions(name):
            if path_filter and path != path_filter:
                continue
            qualified = sym.container.replace("::", ".")
            if container and not (qualified == container or qualified.endswith("." + container)):
                continue
            found.append(Definition(path, sym))
        return found

    def require(self, symbol: str) -> list[Definition]:
        found = self.definitions(symbol)
        if not found:
            raise NotFoundError(f"no definition of {symbol!r} in the index")
        return found

    def callers(self, symbol: str, limit: int = 1000) -> list[CallEdge]:
        """Call sites of ``symbol`` across the workspace, by path then line."""
        self.sync()
        definitions = self.require(symbol)
        name = definitions[0].symbol.name
        out = []
        for path, sites in self.store.scan("calls", name):
            for line, caller in sites:
                out.append(CallEdge(path, line, caller, name, tuple(definitions)))
                if len(out) >= limit:
                    return out
        return out

    def callees(self, symbol: str, max_definitions: int = 50) -> list[CallEdge]:
        """What ``symbol``'s definitions call, each call resolved to its likely definitions. A name
        with more than ``max_definitions`` definitions (``__init__``) is answered for the first ones."""
        self.sync()
        out = []
        for definition in self.require(symbol)[:max_definitions]:
            facts = self.store.facts(definition.path)
            if facts is None:
                continue
            qualified = definition.symbol.qualified_name
            imported = {e.target for e in self.imports(definition.path) if e.target}
            for callee, sites in sorted(facts.calls.items()):
                mine = [s for s in sites if s.caller == qualified or s.caller.startswith(qualified + ".")]
                if not mine:
                    continue
                targets, ambiguous = self.resolve(callee, definition.path, imported)
                for site in mine:
                    out.append(CallEdge(definition.path, site.line, site.caller, callee, targets, ambiguous))
        out.sort(key=lambda e: (e.path, e.line, e.callee))
        return out

    def resolve(self, name: str, from_path: str, imported: set[str] | None = None
                ) -> tuple[tuple[Definition, ...], bool]:
        """Definitions a use of ``name`` in ``from_path`` most likely means: (definitions, ambiguous)."""
        with self.ws.snapshot() as snap:
            reader = snap.reader
            hits = [h for h in self.ws.search_index.symbols_named(name, 5000, snap.searcher)
                    if h.display[0] == name]
            # Where the definitions are is cheap (Tantivy's symbol documents); their symbols are read
            # only for the ones chosen, which matters for names defined in hundreds of files.
            where = [(reader.path_of(h.file_id), h.file_id, h.item) for h in hits]
            where = [w for w in where if w[0] is not None]
            chosen = [w for w in where if w[0] == from_path]
            if not chosen and imported:
                chosen = [w for w in where if w[0] in imported]
            ambiguous = False
            if not chosen:
                if len(where) > MAX_TARGETS:
                    return (), True
                chosen, ambiguous = where, len({w[0] for w in where}) > 1
            found = []
            for path, file_id, index in chosen:
                symbol = reader.symbol(file_id, index)
                if symbol is not None and path is not None:
                    found.append(Definition(path, symbol))
        found.sort(key=lambda d: (d.path, d.symbol.span.start_line))
        return tuple(found), ambiguous

    # -- files -----------------------------------------------------------------------------------

    def imports(self, path: str) -> list[ImportEdge]:
        """The imports of ``path``, each resolved to a workspace file when it is one."""
        self.sync()
        rel = self.ws.relative(path)
        facts = self.store.facts(rel)
        if facts is None:
            raise NotFoundError(f"{path} is not in the index")
        paths = self.store.path_index()
        best: dict[tuple[int, str], str | None] = {}
        for key, line, module in facts.imports:
            targets = paths.resolve(key, rel)
            slot = (line, module)
            if targets and best.get(slot) is None:
                best[slot] = targets[0]
            else:
                best.setdefault(slot, None)
        return [ImportEdge(rel, line, module, target) for (line, module), target in sorted(best.items())]

    def importers(self, path: str) -> list[ImportEdge]:
        """Files importing ``path``."""
        self.sync()
        from ..languages.modules import key_matches, keys_matching

        rel = self.ws.relative(path)
        if self.store.facts(rel) is None:
            raise NotFoundError(f"{path} is not in the index")
        paths = self.store.path_index()
        out: dict[tuple[str, int], ImportEdge] = {}
        for key in keys_matching(rel):
            for importer, rows in self.store.scan("imps", key):
                if not key_matches(key, rel) or rel not in paths.resolve(key, importer):
                    continue
                for line, module in rows:
                    out.setdefault((importer, line), ImportEdge(importer, line, module, rel))
        return [out[k] for k in sorted(out)]

    def neighbours(self, path: str, hops: int = 1) -> dict[str, int]:
        """Files within ``hops`` dependency edges of ``path`` (either direction), with distances."""
        rel = self.ws.relative(path)
        graph = self.file_graph()
        if rel not in graph.index:
            raise NotFoundError(f"{path} is not in the index")
        return graph.neighbours(rel, hops)

    def dependencies(self, path: str) -> list[tuple[str, float]]:
        """Files ``path`` depends on, heaviest first."""
        self.file_graph()
        rel = self.ws.relative(path)
        edges = self.store.edges_of(rel)
        return sorted(edges, key=lambda e: (-e[1], e[0]))
