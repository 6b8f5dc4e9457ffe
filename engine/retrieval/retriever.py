"""Ranking files and chunks for a request by fusing several signals (see ``fusion``):

- ``bm25``: Tantivy BM25 over definition-level chunks (names and paths boosted), files by best chunk;
- ``symbols``: files defining the identifiers the request mentions (exact names, then fuzzy matches for
  identifier-shaped words), rarer names weighing more;
- ``uses``: files using those identifiers (from the code graph), weighted by inverse document frequency;
- ``graph``: personalised PageRank over the code graph, seeded by the current and open files and the
  two signals above, which pulls in what the seeds depend on;
- ``recency``: the editor's open and recently used files, and files modified on disk in the last day;
- ``history`` and ``cochange``: past commits (reachable from HEAD) whose messages match the request point
  at the files they touched, and files that change together with the best candidates (see ``history``);
- ``tests``: a test file lends its rank to the file it tests (see ``tests``); unless the request is
  about tests, test files are then demoted (``TEST_DEMOTION``) so the implementation ranks above them.

A workspace outside a git repository (or one whose repository cannot be read) simply has no history
signals. Embeddings are not a signal: no embeddings endpoint could be reached to show they help
(``bench/retrieval_bench.py`` is where that would be shown).
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import NotFoundError
from ..graph.queries import CodeGraph
from .fusion import Fused, fuse
from .history import HistoryIndex
from .tests import TestMap, about_tests

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger(__name__)

# Tuned on strace's commits 501-1000 (bench/retrieval_bench.py --skip 500), reported on the 500 newest
# in BENCHMARKS.md. BM25 over chunks carries natural-language queries; the files *using* the identifiers
# a request names ("uses") and those *defining* them ("symbols") lift the right files from BM25's
# near-misses; the graph and recency break ties and carry the editor's state.
# history, tests, path and the demotion: tuned on the older commits of flask, express and jsoup
# (bench/retrieval_tune.py over a --dump of bench/retrieval_bench.py); co-change did not help there, so it
# is computed only when given a weight.
DEFAULT_WEIGHTS: dict[str, float] = {"bm25": 1.0, "symbols": 0.3, "uses": 0.3, "graph": 0.1, "recency": 0.5,
                                     "history": 2.0, "cochange": 0.0, "tests": 0.3, "path": 0.3}
TEST_DEMOTION = 0.3  # a test file's fused score is multiplied by this unless the request is about tests
COCHANGE_SEEDS = 5
BM25_DEPTH = 200
GRAPH_DEPTH = 200
RECENT_SECONDS = 86_400.0
MAX_DEFINING_FILES = 30
MAX_USING_FILES = 50
MAX_RECENT = 50
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:(?:\.|::)[A-Za-z_][A-Za-z0-9_]*)*")
_STOP = frozenset(["a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does", "for", "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "make", "may", "me", "more", "most", "my", "new", "no", "not", "of", "on", "or", "our", "should", "so", "some", "than", "that", "the", "their", "them", "then", "there", "these", "this", "those", "to", "up", "use", "used", "using", "was", "we", "were", "what", "when", "where", "which", "while", "who", "why", "will", "with", "would", "you", "your", "add", "added", "adds", "fix", "fixed", "fixes", "update", "updated", "updates", "remove", "removed", "change", "changed", "changes", "support", "test", "tests"])


@dataclass(frozen=True, slots=True)
class RetrievalQuery:
    text: str = ""
    current_file: str | None = None
    open_files: tuple[str, ...] = ()
    recent_files: tuple[str, ...] = ()  # most recent first
    use_mtime: bool = True  # count files modified on disk in the last day as recent


@dataclass(frozen=True, slots=True)
class RankedFile:
    path: str
    score: float
    line: int  # zero-based line of the best evidence (best chunk or definition), 0 if none
    ranks: dict[str, int] = field(default_factory=dict)  # signal -> 1-based rank


@dataclass(frozen=True, slots=True)
class RankedChunk:
    path: str
    start_line: int  # zero-based, inclusive
    end_line: int
    symbol: str
    score: float
    ranks: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Signals:
    rankings: dict[str, list[str]]
    best_line: dict[str, int]
    chunks: list[tuple[str, int, int, str]]  # bm25 chunk hits in order: (path, start, end, symbol)
    symbol_lines: dict[str, list[int]]  # path -> lines of matched definitions


class Retriever:
    def __init__(self, ws: Workspace, graph: CodeGraph | None = None,
                 weights: dict[str, float] | None = None, history: HistoryIndex | None = None,
                 test_demotion: float | None = None) -> None:
        self.ws = ws
        self.graph = graph if graph is not None else CodeGraph(ws)
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self.test_demotion = TEST_DEMOTION if test_demotion is None else test_demotion
        self._history = history
        self._history_read = history is not None
        self._paths: set[str] | None = None
        self._test_map: TestMap | None = None

    def signals(self, query: RetrievalQuery) -> Signals:
        rankings: dict[str, list[str]] = {}
        best_line: dict[str, int] = {}
        chunks: list[tuple[str, int, int, str]] = []
        text = query.text.strip()
        if text:
            for path, start, end, symbol in self._bm25(text):
                chunks.append((path, start, end, symbol))
                best_line.setdefault(path, start)
        rankings["bm25"] = list(dict.fromkeys(c[0] for c in chunks))
        symbol_files, symbol_lines = self._symbol_files(text)
        rankings["symbols"] = symbol_files
        for path, lines in symbol_lines.items():
            best_line.setdefault(path, lines[0])
        if self.weights.get("uses", 0.0) > 0:
            rankings["uses"] = self._user_files(text)
        rankings["recency"] = self._recent(query)
        if text and self.weights.get("path", 0.0) > 0:
            rankings["path"] = self._named_files(text)
        if text and (self.weights.get("history", 0.0) > 0 or self.weights.get("cochange", 0.0) > 0):
            history = self.history()
            if history is not None:
                rankings["history"] = history.files_for(text, self.paths())
                if self.weights.get("cochange", 0.0) > 0:
                    seeds = fuse({k: rankings[k] for k in ("bm25", "history")}, self.weights, limit=COCHANGE_SEEDS)
                    rankings["cochange"] = history.cochanged([f.key for f in seeds], self.paths())
        if self.weights.get("graph", 0.0) > 0:
            rankings["graph"] = self._graph(query, rankings)
        if (self.weights.get("tests", 0.0) > 0 or self.test_demotion != 1.0) and not about_tests(text):
            rankings["tests"] = self._subjects_of_tests(rankings)
        return Signals(rankings, best_line, chunks, symbol_lines)

    def rank_files(self, query: RetrievalQuery, limit: int = 20, signals: Signals | None = None) -> list[RankedFile]:
        signals = signals or self.signals(query)
        fused = fuse(signals.rankings, self.weights)
        scores = {f.key: f.score for f in fused}
        if self.test_demotion != 1.0 and not about_tests(query.text):
            tests = self.test_map().tests
            scores = {k: v * self.test_demotion if k in tests else v for k, v in scores.items()}
        fused.sort(key=lambda f: (-scores[f.key], f.key))
        return [RankedFile(f.key, round(scores[f.key], 6), signals.best_line.get(f.key, 0), f.ranks)
                for f in fused[:limit]]

    # -- history and tests -----------------------------------------------------------------------

    def paths(self) -> set[str]:
        if self._paths is None:
            self._paths = {f.path for f in self.ws.files()}
        return self._paths

    def history(self) -> HistoryIndex | None:
        """The history signals' index for the workspace's HEAD; None outside a repository (or when it
        cannot be read: logged, and retrieval goes on without it)."""
        if not self._history_read:
            self._history_read = True
            from ..errors import ConfigError
            from ..vcs import GitSettings, VcsError, open_repository
            from ..vcs import history as read_history
            from .history import for_history

            try:
                settings = self.ws.settings.section("git", GitSettings)
                repo = open_repository(self.ws.root) if settings.history else None
                if repo is not None:
                    found = read_history(repo, self.ws.index_dir / "history.msgpack", settings.max_commits)
                    self._history = for_history(found)
            except (VcsError, ConfigError) as exc:
                log.warning("retrieval without history: %s", exc)
        return self._history

    def test_map(self) -> TestMap:
        found = self._test_map
        if found is None:
            def imports(path: str) -> list[str]:
                return [t for t, _w in sorted(self.graph.store.edges_of(path), key=lambda e: -e[1])]
            found = TestMap(self.paths(), imports)
            self._test_map = found
        return found

    def _subjects_of_tests(self, rankings: dict[str, list[str]]) -> list[str]:
        """Subjects of the test files the text signals found, in the order of their tests' best rank."""
        tests = self.test_map()
        seen = fuse({k: rankings[k] for k in ("bm25", "history", "symbols", "uses", "path") if k in rankings}, self.weights,
                    limit=100)
        out: list[str] = []
        for hit in seen:
            if hit.key in tests.tests:
                out.extend(tests.subjects(hit.key))
        return list(dict.fromkeys(out))

    def rank_chunks(self, query: RetrievalQuery, limit: int = 50,
                    signals: Signals | None = None) -> list[RankedChunk]:
        """Chunks by fused rank: a chunk's own BM25 rank, whether it holds a matched definition, and the
        fused rank of its file."""
        signals = signals or self.signals(query)
        files = fuse(signals.rankings, self.weights)
        file_order = [f.key for f in files]
        candidates: dict[tuple[str, int], tuple[int, str]] = {}
        bm25: list[tuple[str, int]] = []
        for path, start, end, symbol in signals.chunks:
            candidates.setdefault((path, start), (end, symbol))
            bm25.append((path, start))
        symbol_hits: list[tuple[str, int]] = []
        for path in signals.rankings.get("symbols", []):
            for line in signals.symbol_lines.get(path, []):
                chunk = self._chunk_at(path, line)
                if chunk is not None:
                    candidates.setdefault((path, chunk[0]), (chunk[1], chunk[2]))
                    symbol_hits.append((path, chunk[0]))
        position = {path: i for i, path in enumerate(file_order)}
        by_file = sorted(candidates, key=lambda c: (position.get(c[0], len(position)), c[1]))
        fused: list[Fused[tuple[str, int]]] = fuse(
            {"bm25": bm25, "symbols": symbol_hits, "file": by_file},
            {"bm25": 1.0, "symbols": self.weights.get("symbols", 1.0), "file": 1.0}, limit=limit)
        return [RankedChunk(key[0], key[1], candidates[key][0], candidates[key][1], round(f.score, 6), f.ranks)
                for f in fused for key in (f.key,)]

    # -- signals ---------------------------------------------------------------------------------

    def _bm25(self, text: str) -> list[tuple[str, int, int, str]]:
        """Chunk hits as (path, start line, end line, symbol). Uses the raw Tantivy hits: the previews
        ``Workspace.search_text`` builds cost a decompression per hit and are not needed here."""
        out = []
        with self.ws.snapshot() as snap:
            for hit in self.ws.search_index.search_text(text, BM25_DEPTH, searcher=snap.searcher):
                path = snap.reader.path_of(hit.file_id)
                if path is not None:  # None only when promotions raced the snapshot
                    start, end, symbol, _language = hit.display
                    out.append((path, start, end, symbol))
        return out

    def _symbol_files(self, text: str) -> tuple[list[str], dict[str, list[int]]]:
        weights: dict[str, float] = {}
        lines: dict[str, list[int]] = {}
        for word in dict.fromkeys(_IDENT.findall(text)):
            name = re.split(r"\.|::", word)[-1]
            if len(name) < 3 or name.lower() in _STOP:
                continue
            shaped = "_" in name.strip("_") or any(c.isupper() for c in name[1:]) or any(c.isdigit() for c in name)
            definitions = self.ws.definitions(name)
            files = len({p for p, _ in definitions})
            # A plain word ("update", "decode") names a definition by accident more often than not;
            # it counts only when exactly one file defines it.
            if 0 < files <= (MAX_DEFINING_FILES if shaped else 1):
                share = (2.0 if shaped else 1.0) / files
                for path, symbol in definitions:
                    weights[path] = weights.get(path, 0.0) + share
                    lines.setdefault(path, []).append(symbol.span.start_line)
            elif shaped and not definitions:
                for rank, hit in enumerate(self.ws.search_symbols(name, 10), 1):
                    weights[hit.path] = weights.get(hit.path, 0.0) + 0.5 / rank
                    lines.setdefault(hit.path, []).append(hit.line)
        ordered = sorted(weights, key=lambda p: (-weights[p], p))
        return ordered, {p: sorted(set(v)) for p, v in lines.items()}

    def _user_files(self, text: str) -> list[str]:
        """Files using the identifiers the query names, rarer identifiers weighing more."""
        self.graph.sync()
        total = max(len(self.graph.store.paths()), 1)
        weights: dict[str, float] = {}
        for word in dict.fromkeys(_IDENT.findall(text)):
            name = re.split(r"\.|::", word)[-1]
            if len(name) < 3 or name.lower() in _STOP:
                continue
            users = [path for path, _count in self.graph.store.scan("uses", name)]
            if not users or len(users) > MAX_USING_FILES:
                continue
            idf = math.log(total / len(users))
            for path in users:
                weights[path] = weights.get(path, 0.0) + idf
        return sorted(weights, key=lambda p: (-weights[p], p))

    def _named_files(self, text: str) -> list[str]:
        """Files whose name (or folder) the request spells: ``Fix Router params`` names ``router.js``,
        ``flask.cli`` names ``cli.py``. Rare names weigh more; test files are not named this way."""
        from pathlib import PurePosixPath

        by_name: dict[str, list[str]] = {}
        for path in self.paths():
            p = PurePosixPath(path)
            by_name.setdefault(p.stem.lower(), []).append(path)
            if p.parent.name:
                by_name.setdefault(p.parent.name.lower(), []).append(path)
        words = {w.lower() for w in re.findall(r"[A-Za-z][A-Za-z0-9_]+", text)}
        for word in list(words):
            words.update(part.lower() for part in re.split(r"[._]", word) if len(part) > 2)
        weights: dict[str, float] = {}
        total = max(len(self.paths()), 1)
        for word in words:
            if len(word) < 3 or word in _STOP:
                continue
            files = by_name.get(word, [])
            if not files or len(files) > MAX_DEFINING_FILES:
                continue
            idf = math.log(1 + total / len(files))
            for path in files:
                # a file named exactly so beats one in a folder named so
                exact = PurePosixPath(path).stem.lower() == word
                weights[path] = weights.get(path, 0.0) + idf * (1.0 if exact else 0.3)
        return sorted(weights, key=lambda p: (-weights[p], p))

    def _recent(self, query: RetrievalQuery) -> list[str]:
        explicit = [self.ws.relative(p) for p in (query.current_file, *query.recent_files, *query.open_files) if p]
        if not query.use_mtime:
            return list(dict.fromkeys(explicit))
        cutoff = time.time() - RECENT_SECONDS
        touched = [(f.mtime_ns, f.path) for f in self.ws.files() if f.mtime_ns / 1e9 >= cutoff]
        if len(touched) > MAX_RECENT:
            touched = []  # a fresh checkout: every file is "recent", which says nothing
        touched.sort(reverse=True)
        return list(dict.fromkeys([*explicit, *(p for _t, p in touched)]))

    def _graph(self, query: RetrievalQuery, rankings: dict[str, list[str]]) -> list[str]:
        seeds: dict[str, float] = {}
        if query.current_file:
            seeds[self.ws.relative(query.current_file)] = 4.0
        for path in query.open_files:
            seeds[self.ws.relative(path)] = seeds.get(self.ws.relative(path), 0.0) + 1.0
        for signal in ("bm25", "symbols"):
            for rank, path in enumerate(rankings.get(signal, [])[:10], 1):
                seeds[path] = seeds.get(path, 0.0) + 1.0 / rank
        if not seeds:
            return []
        ranked = self.graph.file_graph().ranked(seeds, GRAPH_DEPTH)
        return [path for path, score in ranked if score > 0]

    def _chunk_at(self, path: str, line: int) -> tuple[int, int, str] | None:
        try:
            chunks = self.ws.chunks(path)
        except NotFoundError:  # removed since the hit: no chunk, not an error
            return None
        for chunk in chunks:
            if chunk.start_line <= line <= chunk.end_line:
                return chunk.start_line, chunk.end_line, chunk.symbol
        return None
