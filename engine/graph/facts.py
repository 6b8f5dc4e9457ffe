"""What the code graph keeps about one indexed file version: computed by the parsing worker that
indexes the file, and stored with its index data in the engine's LMDB.

The graph stores *names*, not resolved targets: a call site records "calls `load_settings`", and the
definitions of `load_settings` are looked up when a query runs or when file edges are recomputed. That
is what keeps it cheap to maintain: editing one file rewrites that file's facts and, only when the set
of names it defines changes, the edges of the files that mention those names.

Imports are recorded as *candidate keys* computed from the importing file's path alone by the
language's resolver (``nexus.engine.languages.modules`` defines them): ``=app/config.py`` (an exact
path) or ``~os/path.py`` (a path suffix, for absolute module names whose source root is unknown). A file
is imported by whoever recorded a key matching it, so a file that appears later is found by the
importers that were already there.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..languages import get
from ..parsing import CALL_BIT
from ..parsing.chunks import line_starts_of
from ..store import Reader

# Symbol kinds that own the code inside them: a call inside one is attributed to it.
CALLER_KINDS = frozenset({"function", "method", "constructor", "class", "interface", "struct", "enum",
                          "namespace", "macro"})
# Definitions that are weak evidence of a dependency: a use of `name` or `value` in another file is
# more likely its own local than this field or variable.
WEAK_KINDS = frozenset({"variable", "field", "property", "enum_member"})
WEAK_WEIGHT = 0.2
# Names that are locals by convention in every language the index covers.
LOCAL_NAMES = frozenset({"self", "cls", "this", "args", "kwargs", "argv", "argc", "i", "j", "k", "n", "x", "y",
                         "result", "value", "name", "data", "item", "key", "len", "size", "obj", "other"})
# Symbol kinds worth a line in the repo map.
MAP_KINDS = frozenset({"class", "interface", "struct", "enum", "function", "method", "constructor", "type",
                       "namespace", "macro", "constant"})

@dataclass(frozen=True, slots=True)
class CallSite:
    line: int  # zero-based
    caller: str  # qualified name of the enclosing definition, "" for top-level code


@dataclass(frozen=True, slots=True)
class FileFacts:
    path: str
    file_id: int
    language: str
    defines: dict[str, float]  # name -> 1.0 if a definition of it here is a function, class..., else 0.2
    uses: dict[str, int]  # name -> occurrences outside its own definitions
    calls: dict[str, list[CallSite]]  # callee name -> call sites
    imports: list[tuple[str, int, str]]  # (candidate key, line, module as written)

    def to_record(self) -> list[Any]:
        return [self.file_id, self.language, self.defines, self.uses,
                {name: [[s.line, s.caller] for s in sites] for name, sites in self.calls.items()},
                [list(item) for item in self.imports]]

    @classmethod
    def from_record(cls, path: str, record: list[Any]) -> FileFacts:
        file_id, language, defines, uses, calls, imports = record
        return cls(path, file_id, language, defines, uses,
                   {name: [CallSite(line, caller) for line, caller in sites] for name, sites in calls.items()},
                   [(key, line, module) for key, line, module in imports])


def file_facts(reader: Reader, path: str, file_id: int, language: str) -> FileFacts:
    """One file version's facts from an engine snapshot: the record its parsing worker stored with it,
    or, for a version indexed before workers produced them, derived from its content and references."""
    record = reader.raw_facts(file_id)
    if record is not None:
        return FileFacts.from_record(path, record)
    names, packed = reader.raw_refs(file_id)
    triples = array("I")
    triples.frombytes(packed)
    content = reader.content(file_id) or b""
    return facts_of(path, file_id, language, reader.raw_symbols(file_id), line_starts_of(content), names,
                    triples, [(i.module, i.names, i.alias, i.line) for i in reader.imports(file_id)])


def facts_record(path: str, file_id: int, language: str, symbols: Sequence[Sequence[Any]],
                 line_starts: Sequence[int], names: Sequence[str], triples: Sequence[int],
                 raw_imports: Iterable[Sequence[Any]]) -> list[Any]:
    """:meth:`FileFacts.to_record` of a parsed file, built from what the extractor returns: what a
    parsing worker stores next to the file's index data, so the graph never re-reads the file."""
    return facts_of(path, file_id, language, symbols, line_starts, names, triples, raw_imports).to_record()


def facts_of(path: str, file_id: int, language: str, symbols: Sequence[Sequence[Any]],
             line_starts: Sequence[int], names: Sequence[str], triples: Sequence[int],
             raw_imports: Iterable[Sequence[Any]]) -> FileFacts:
    """Definitions, uses outside them, call sites with their callers, and import keys of one file."""
    defines: dict[str, float] = {}
    name_starts: set[int] = set()
    owners: list[tuple[int, int, str]] = []  # (start byte, end byte, qualified name), outer first
    for raw in symbols:
        name, kind, container = raw[0], raw[1], raw[2]
        weight = WEAK_WEIGHT if kind in WEAK_KINDS else 1.0
        defines[name] = max(defines.get(name, 0.0), weight)
        name_line, name_col = raw[7], raw[8]
        if name_line < len(line_starts):
            name_starts.add(line_starts[name_line] + name_col)
        if kind in CALLER_KINDS:
            owners.append((raw[11], raw[12], f"{container}.{name}" if container else name))

    codes, starts = triples[0::3], triples[1::3]
    order = sorted(range(len(starts)), key=starts.__getitem__)  # captures come nearly sorted: ~O(n)
    uses: Counter[str] = Counter()
    calls: dict[str, list[CallSite]] = {}
    stack: list[tuple[int, int, str]] = []
    next_owner = 0
    mask = CALL_BIT - 1
    for i in order:
        start = starts[i]
        if start in name_starts:
            continue  # the name of a definition, not a use of it
        while next_owner < len(owners) and owners[next_owner][0] <= start:
            while stack and stack[-1][1] <= owners[next_owner][0]:
                stack.pop()
            stack.append(owners[next_owner])
            next_owner += 1
        while stack and stack[-1][1] <= start:
            stack.pop()
        code = codes[i]
        name = names[code & mask]
        uses[name] += 1
        if code & CALL_BIT:
            line = bisect_right(line_starts, start) - 1
            calls.setdefault(name, []).append(CallSite(line, stack[-1][2] if stack else ""))

    imports = []
    for module, imported, _alias, line in raw_imports:
        for key in import_keys(path, language, module, tuple(imported)):
            imports.append((key, line, module))
    return FileFacts(path, file_id, language, defines, dict(uses), calls, imports)


def import_keys(path: str, language: str, module: str, names: tuple[str, ...]) -> list[str]:
    """Candidate keys of the files an import may refer to: the language's one resolver, the same that
    navigation follows (``navigation.import_keys``)."""
    return list(get(language).resolve_import(path, module, names).keys)
