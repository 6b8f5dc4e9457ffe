"""Go to definition, find references, highlights and hover for all five languages, by name.

Without a type checker a name is resolved in the order a reader would: the scopes around the use in the
same file (exact for locals, parameters and imports), then the file's own definitions, then the modules
the file imports, then the rest of the workspace, ranked. References follow the same rules backwards:
a local is searched in its scope only; a file-level name in the files that can see it (that import it
or its module, share its package or include it); a member name (``obj.name``) everywhere.

Every function takes the live :class:`SourceFile` of the current document (unsaved text) and a
``Workspace`` (or None when no index is open); ``sources`` maps workspace-relative paths of other open
documents to their live text so their unsaved edits count too.
"""

from __future__ import annotations

import logging
import posixpath
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import tree_sitter as ts

from .languages import ImportTargets, key_matches, registry
from .languages.modules import is_folder_key, key_path
from .model import Span, Symbol
from .scopes import Binding, FileScopes, member_object
from .source import SourceFile

if TYPE_CHECKING:
    from .workspace import Workspace

log = logging.getLogger(__name__)

MAX_RESULTS = 50
MAX_REFERENCES = 5000
_MEMBER_KINDS = frozenset({"method", "field", "property", "constructor", "enum_member"})


@dataclass(frozen=True, slots=True)
class Target:
    path: str  # workspace-relative, or the current document's path
    span: Span  # the name
    full: Span  # the whole definition (the name again when unknown)
    symbol: Symbol | None = None  # when the target is an indexed definition
    line_text: str = ""  # the definition's line, for locals that are no symbol


@dataclass(frozen=True, slots=True)
class Occurrence:
    path: str
    span: Span
    is_definition: bool = False


class Navigator:
    """``symbols=False`` when only locations are wanted (go to definition): a local target is then not
    matched against the file's symbols, which saves extracting them from a large buffer."""

    def __init__(self, ws: Workspace | None, src: SourceFile, sources: Mapping[str, SourceFile] | None = None,
                 symbols: bool = True):
        self.ws = ws
        self.src = src
        self.scopes = FileScopes(src)
        self.sources = sources or {}
        self.with_symbols = symbols
        self._cells: dict[str, str | None] = {}  # notebook path -> the language of its code cells

    # -- definitions -----------------------------------------------------------------------------

    def definitions(self, line: int, col: int) -> list[Target]:
        node = self.scopes.identifier_at(line, col)
        if node is None:
            return []
        name = self.src.node_text(node)
        obj = member_object(node)
        if obj is not False and obj is not True:
            return self._member_definitions(node, name, obj)
        binding = self.scopes.resolve(node)
        if binding is not None and binding.kind == "import":
            imported = self._imported(binding, name)
            return imported or [self._target(binding.node)]
        if binding is not None:
            return [self._target(binding.node)]
        return self._global(name)

    def local_definition(self, line: int, col: int, follow_imports: bool = True) -> list[Target] | None:
        """The definition when this file's syntax tree settles it exactly, else None: a parameter, a local
        or any name bound in the file, resolved through its scopes; an imported name only when imports
        are not followed (the import is then the answer). A type checker would say the same."""
        node = self.scopes.identifier_at(line, col)
        if node is None or member_object(node) is not False:
            return None
        binding = self.scopes.resolve(node)
        if binding is None or (binding.kind == "import" and follow_imports):
            return None
        parent = binding.node.parent
        if parent is not None and parent.type in ("global_statement", "nonlocal_statement"):
            return None  # the name lives in another scope
        return [self._target(binding.node)]

    def _member_definitions(self, node: ts.Node, name: str, obj: ts.Node | None) -> list[Target]:
        own = [s for s in self.src.symbols if s.name == name]
        if obj is not None and self.src.node_text(obj) in ("self", "this", "cls"):
            cls = _enclosing_class(self.src, node)
            if cls is not None:
                members = [s for s in own if s.container == cls.qualified_name]
                if members:
                    return [self._symbol_target(self.src.path, s) for s in members]
        if obj is not None and obj.type in ("identifier", "namespace_identifier", "type_identifier"):
            # `module.name` / `Class.name`: what `obj` resolves to narrows the candidates.
            binding = self.scopes.resolve(obj)
            if binding is not None and binding.kind == "import":
                found = self._ranked(name, self._import_targets(binding).keys, prefer_members=False)
                if found:
                    return found
        members = [s for s in own if s.kind in _MEMBER_KINDS]
        if members:
            return [self._symbol_target(self.src.path, s) for s in members]
        return self._ranked(name, (), prefer_members=True)

    def imported(self, binding: Binding) -> list[Target]:
        """Where an import binding leads: the imported file itself (a Target without a symbol) for a
        module, else the imported definition; empty when it is not indexed."""
        return self._imported(binding, self.src.node_text(binding.node))

    def _imported(self, binding: Binding, name: str) -> list[Target]:
        """Follow an import binding to the definition in the imported file, when it is indexed."""
        statement = _statement(binding.node)
        original = _original_name(self.src, binding.node)
        targets = self._import_targets(binding, original)
        if not targets.keys:
            return []
        if statement is not None and statement.type in ("import_statement",) and self.scopes.family == "python":
            return self._first_file(targets.module)  # `import pkg.mod`: the module itself
        if binding.node.parent is not None and binding.node.parent.type == "namespace_import":
            return self._first_file(targets.module)
        found = self._ranked(original, targets.module, prefer_members=False, only_paths=True)
        if found:
            return found
        # `from pkg import mod` where mod is a module, not a name in pkg.
        return self._first_file(targets.members)

    def _first_file(self, keys: tuple[str, ...]) -> list[Target]:
        """The first indexed file a key denotes: exact paths in key order first (``pkg/__init__.py`` at
        the root beats ``lib/pkg.py``), then path suffixes, the shortest path first."""
        for exact in (True, False):
            for key in keys:
                target = self._file_target(key, exact)
                if target is not None:
                    return [target]
        return []

    def _global(self, name: str) -> list[Target]:
        own = [s for s in self.src.symbols if s.name == name]
        if own:
            top = [s for s in own if s.depth == 0] or own
            return [self._symbol_target(self.src.path, s) for s in top]
        return self._ranked(name, self._imported_paths(), prefer_members=False)

    def _ranked(self, name: str, preferred: tuple[str, ...], prefer_members: bool,
                only_paths: bool = False) -> list[Target]:
        """Workspace definitions of ``name``, the best-ranked group first; ``preferred``: candidate keys
        of the files the name is likely in (``only_paths``: only those)."""
        if self.ws is None:
            return []
        candidates = self.ws.definitions(name)
        if not candidates:
            return []
        here = posixpath.dirname(self.src.path)
        mine = self.scopes.family
        # Following one import, its first key that has the name wins, as the graph takes the first key
        # that resolves; among every import's keys, an exact path beats a path suffix.
        exact = {key[1:] for key in preferred if key[0] == "="}
        loose = [key for key in preferred if key[0] != "="]
        scored: list[tuple[float, str, Symbol]] = []
        for path, symbol in candidates:
            if path == self.src.path:
                continue  # the live buffer's symbols were already considered
            score = 0.0
            if only_paths:
                first = next((i for i, key in enumerate(preferred) if key_matches(key, path)), None)
                if first is None:
                    continue
                score += 50 - 0.01 * min(first, 100)
            elif path in exact:
                score += 50
            elif any(key_matches(key, path) for key in loose):
                score += 45
            if _family_of(path) == mine:
                score += 10
            if posixpath.dirname(path) == here:
                score += 5
            if (symbol.kind in _MEMBER_KINDS) == prefer_members:
                score += 3
            if symbol.depth == 0:
                score += 1
            scored.append((score, path, symbol))
        if not scored:
            return []
        best = max(s for s, _, _ in scored)
        chosen = [(p, s) for score, p, s in scored if score == best][:MAX_RESULTS]
        return [self._symbol_target(p, s) for p, s in chosen]

    # -- imports ---------------------------------------------------------------------------------

    def _imported_paths(self) -> tuple[str, ...]:
        """Candidate keys of every file this file imports."""
        extraction = self.src.extraction
        if extraction is None:
            return ()
        out: list[str] = []
        for module, names, _alias, _line in extraction.imports:
            out.extend(import_keys(self.src.language, self.src.path, module, tuple(names)).keys)
        return tuple(out)

    def _import_targets(self, binding: Binding, name: str | None = None) -> ImportTargets:
        """The files an import binding's statement may refer to (read from that statement alone, not
        from the whole file's extraction); ``members`` only for the imported ``name``."""
        statement = _statement(binding.node)
        language = registry.lookup(self.src.language)
        if statement is None or language is None:
            return ImportTargets()
        module: list[str] = []
        members: list[str] = []
        for item in language.spec().imports(statement, self.src.data):
            names = item.names if name is None else tuple(n for n in item.names if n in (name, "*")) or item.names
            found = language.resolve_import(self.src.path, item.module, names)
            module.extend(found.module)
            members.extend(found.members)
        return ImportTargets(tuple(module), tuple(members))

    def _file_target(self, key: str, exact: bool = False) -> Target | None:
        """The indexed file ``key`` denotes: the key's own path when ``exact``, else the shortest indexed
        path the key matches; None for a folder key."""
        if self.ws is None or is_folder_key(key):
            return None
        zero = Span(0, 0, 0, 0)
        body = key_path(key)
        if exact:
            return Target(body, zero, zero) if self.ws.file_info(body) is not None else None
        for path in sorted(indexed_paths(self.ws).get(posixpath.basename(body), ()), key=len):
            if key_matches(key, path):
                return Target(path, zero, zero)
        return None

    # -- references ------------------------------------------------------------------------------

    def references(self, line: int, col: int, include_declaration: bool = True) -> list[Occurrence]:
        node = self.scopes.identifier_at(line, col)
        if node is None:
            return []
        name = self.src.node_text(node)
        binding = None if member_object(node) is not False else self.scopes.resolve(node)
        if binding is not None and not binding.is_file_level:
            uses = self.scopes.uses_of(binding)
            return [Occurrence(self.src.path, self.src.span_of(n), n == binding.node)
                    for n in uses if include_declaration or n != binding.node]
        targets = self.definitions(line, col)
        definition_spots = {(t.path, t.span.start_line, t.span.start_col) for t in targets}
        is_member = member_object(node) is not False or any(
            t.symbol is not None and t.symbol.kind in _MEMBER_KINDS for t in targets)
        homes = {t.path for t in targets}
        out: list[Occurrence] = []
        for path, spans in self._occurrences(name, is_member).items():
            if path != self.src.path and not is_member and homes and not self._can_see(path, homes, name):
                continue
            for span in spans:
                is_def = (path, span.start_line, span.start_col) in definition_spots
                if include_declaration or not is_def:
                    out.append(Occurrence(path, span, is_def))
        return out[:MAX_REFERENCES]

    def _occurrences(self, name: str, is_member: bool) -> dict[str, list[Span]]:
        """Spans of ``name`` per file: live buffers for open files, the index for the rest."""
        out: dict[str, list[Span]] = {}
        mine = self.scopes.family
        current = self.scopes.unbound_uses(name) if not is_member else self.scopes.occurrences(name)
        out[self.src.path] = [self.src.span_of(n) for n in current]
        if self.ws is not None:
            for path, ref in self.ws.references(name):
                if path == self.src.path or path in self.sources or registry.family(self._language(path)) != mine:
                    continue
                out.setdefault(path, []).append(Span(ref.line, ref.start_col, ref.line, ref.end_col))
        for path, other in self.sources.items():
            if path == self.src.path or registry.family(other.language) != mine:
                continue
            scopes = FileScopes(other)
            nodes = scopes.occurrences(name) if is_member else scopes.unbound_uses(name)
            if nodes:
                out[path] = [other.span_of(n) for n in nodes]
        return out

    def _language(self, path: str) -> str | None:
        """The language of ``path``'s indexed text: a notebook's is its code cells' (a Python notebook
        calling a package function is one of its references)."""
        language = registry.language_for(path)
        if language != "notebook":
            return language
        if path not in self._cells:
            info = self.ws.file_info(path) if self.ws is not None else None
            self._cells[path] = info.language if info is not None and info.language != "notebook" else None
        return self._cells[path]

    def _can_see(self, path: str, homes: set[str], name: str) -> bool:
        """Whether file ``path`` can refer to a file-level definition in one of ``homes``."""
        if path in homes:
            return True
        language = self._language(path)
        fam = registry.family(language)
        if fam == "c":
            return True  # headers: anything may be included transitively
        if fam == "java" and any(posixpath.dirname(h) == posixpath.dirname(path) for h in homes):
            return True
        imports = self._imports_of(path)
        for module, names, alias, _line in imports:
            if name in names or alias == name:
                return True
            keys = import_keys(language, path, module, names).keys
            if any(key_matches(key, home) for home in homes for key in keys):
                return True
        return False

    def _imports_of(self, path: str) -> list[tuple[str, tuple[str, ...], str, int]]:
        live = self.sources.get(path)
        if live is not None and live.extraction is not None:
            return [(m, tuple(n), a, line) for m, n, a, line in live.extraction.imports]
        if self.ws is None:
            return []
        try:
            return [(i.module, i.names, i.alias, i.line) for i in self.ws.imports(path)]
        except Exception as exc:
            log.debug("imports of %s unavailable: %s", path, exc)
            return []

    def highlights(self, line: int, col: int) -> list[Occurrence]:
        """Occurrences in the current file only (a cheap, exact-scope subset of references)."""
        node = self.scopes.identifier_at(line, col)
        if node is None:
            return []
        binding = None if member_object(node) is not False else self.scopes.resolve(node)
        if binding is not None and not binding.is_file_level:
            nodes = self.scopes.uses_of(binding)
        elif member_object(node) is not False:
            nodes = [n for n in self.scopes.occurrences(self.src.node_text(node)) if member_object(n) is not False
                     or self.scopes.binding(n) is not None]
        else:
            nodes = self.scopes.unbound_uses(self.src.node_text(node))
        return [Occurrence(self.src.path, self.src.span_of(n), self.scopes.binding(n) is not None) for n in nodes]

    # -- helpers ---------------------------------------------------------------------------------

    def _target(self, node: ts.Node) -> Target:
        span = self.src.span_of(node)
        for symbol in self.src.symbols if self.with_symbols else ():
            if symbol.name_span == span:
                return Target(self.src.path, span, symbol.span, symbol)
        return Target(self.src.path, span, span, None, self.src.line_text(span.start_line).strip())

    def _symbol_target(self, path: str, symbol: Symbol) -> Target:
        return Target(path, symbol.name_span, symbol.span, symbol)


_PATHS: weakref.WeakKeyDictionary[Workspace, tuple[int, dict[str, list[str]]]] = weakref.WeakKeyDictionary()


def indexed_paths(ws: Workspace) -> dict[str, list[str]]:
    """Every indexed path by file name, for ``*/suffix`` module patterns. Rebuilt (keys only, no
    records unpacked) when the store has committed a write since."""
    stamp = ws.store.env.info()["last_txnid"]
    found = _PATHS.get(ws)
    if found is not None and found[0] == stamp:
        return found[1]
    from .store.lmdb_store import key_path

    by_name: dict[str, list[str]] = {}
    with ws.store.read() as reader, reader.txn.cursor(db=reader.db["files"]) as cursor:
        for key in cursor.iternext(keys=True, values=False):
            path = key_path(key)
            by_name.setdefault(posixpath.basename(path), []).append(path)
    _PATHS[ws] = (stamp, by_name)
    return by_name


def import_keys(language: str | None, from_path: str, module: str, names: tuple[str, ...] = ()) -> ImportTargets:
    """The files an import in ``from_path`` may refer to: the language's one resolver, which the code
    graph uses too (``graph.facts.import_keys``); nothing for a file in no language."""
    found = registry.lookup(language)
    if found is None or not module:
        return ImportTargets()
    return found.resolve_import(from_path, module, names)


def _family_of(path: str) -> str:
    return registry.family(registry.language_for(path))


def _statement(node: ts.Node) -> ts.Node | None:
    current: ts.Node | None = node
    while current is not None and not current.type.endswith(("statement", "declaration", "preproc_include")):
        current = current.parent
    return current


def _original_name(src: SourceFile, node: ts.Node) -> str:
    """For `import {a as b}` / `from m import a as b`, the imported name `a`; else the node's text."""
    parent = node.parent
    if parent is not None and parent.type in ("aliased_import", "import_specifier"):
        original = parent.child_by_field_name("name")
        if original is not None:
            text = src.node_text(original)
            return text.rsplit(".", 1)[-1]
    return src.node_text(node)


def _enclosing_class(src: SourceFile, node: ts.Node) -> Symbol | None:
    classes = [s for s in src.symbols if s.kind in ("class", "struct", "interface", "enum")
               and s.start_byte <= node.start_byte < s.end_byte]
    return max(classes, key=lambda s: s.start_byte) if classes else None
