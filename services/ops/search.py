"""``search``: ranked text, symbol or file search over the workspace index, the same ranking on every face.

- ``text``: BM25 over definition-level chunks (names and paths boosted);
- ``symbols``: fuzzy symbol names (prefixes, camelCase/snake_case parts, abbreviations, typos);
- ``files``: files by fused rank (BM25 chunks, symbol matches, uses, code graph, recency; see
  ``nexus.engine.retrieval``), fused with a fuzzy match of the query against the path, so both "the file
  that handles retries" and "retry_pol" find ``net/retry_policy.py``.

Lines and columns are 1-based.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from ..call import Call
from ..codec import WIRE, Bool, Int, Name, Text
from ..identity import Role
from ..operation import operation
from ._index import grammars, indexed_workspace

if TYPE_CHECKING:
    from nexus.engine import Workspace

RRF_K = 60
"""Reciprocal-rank fusion constant, the retriever's own (``nexus.engine.retrieval.fusion``)."""


@dataclasses.dataclass(frozen=True, slots=True)
class SearchParams:
    __pydantic_config__ = WIRE
    query: Annotated[Text, Field(min_length=1, max_length=1000)]
    mode: Literal["text", "symbols", "files"] = "text"
    limit: Annotated[Int, Field(ge=1, le=1000)] = 20
    languages: Annotated[tuple[Name, ...], Field(max_length=10)] = ()
    kinds: Annotated[tuple[Name, ...], Field(max_length=10)] = ()  # symbols only: class, function, ...
    rerank: Bool = False  # files only: the top 20 reordered by the model (one call; needs a provider)


@dataclasses.dataclass(frozen=True, slots=True)
class TextMatch:
    __pydantic_config__ = WIRE
    path: str
    line: int
    end_line: int
    symbol: str
    language: str
    score: float
    preview: str


@dataclasses.dataclass(frozen=True, slots=True)
class SymbolMatch:
    __pydantic_config__ = WIRE
    path: str
    line: int
    column: int
    name: str
    kind: str
    container: str
    signature: str
    language: str
    score: float


@dataclasses.dataclass(frozen=True, slots=True)
class FileMatch:
    __pydantic_config__ = WIRE
    path: str
    line: int  # where the best evidence is (1 when only the path matched)
    score: float
    language: str
    symbol: str
    signals: dict[str, int]  # signal -> the file's rank in it (bm25, symbols, uses, graph, recency, path)


@dataclasses.dataclass(frozen=True, slots=True)
class SearchResult:
    __pydantic_config__ = WIRE
    hits: tuple[TextMatch | SymbolMatch | FileMatch, ...]
    reranked_by: str | None = None  # "provider/model" when ``rerank`` reordered the files


@operation("search", params=SearchParams, result=SearchResult, role=Role.VIEWER, rate="query",
           message="search:query")
async def search(call: Call, p: SearchParams) -> SearchResult:
    """Ranked text, symbol or file search; the same ranking on every face."""
    languages = tuple(p.languages)
    grammars(languages)  # a bad language name is a bad request, in every mode
    ws = await indexed_workspace(call)
    hits = await asyncio.to_thread(_search, ws, p, languages)
    if p.rerank and p.mode == "files" and hits:
        return await _reranked(call, ws, p.query, [h for h in hits if isinstance(h, FileMatch)])
    return SearchResult(tuple(hits))


async def _reranked(call: Call, ws: Workspace, query: str, hits: list[FileMatch]) -> SearchResult:
    """The files reordered by the model, each labelled with its ``rerank`` rank."""
    from nexus.engine.providers import ProviderError
    from nexus.engine.retrieval.rerank import rerank

    from ._ai import provider_error, report_usage

    router = call.backends.require_providers("Rerank")
    try:
        found = await rerank(router, ws, query, [(h.path, h.line - 1) for h in hits])
    except ProviderError as exc:
        raise provider_error(exc) from exc
    report_usage(call, found.usage)
    by_path = {h.path: h for h in hits}
    out = [dataclasses.replace(by_path[path], signals={**by_path[path].signals, "rerank": n})
           if found.reranked_by else by_path[path] for n, path in enumerate(found.paths, 1)]
    return SearchResult(tuple(out), found.reranked_by)


def _search(ws: Workspace, p: SearchParams, languages: tuple[str, ...]) -> list[TextMatch | SymbolMatch | FileMatch]:
    if p.mode == "symbols":
        return [SymbolMatch(h.path, h.line + 1, h.col + 1, h.name, h.kind, h.container, h.signature, h.language,
                            h.score) for h in ws.search_symbols(p.query, p.limit, languages, tuple(p.kinds))]
    if p.mode == "text":
        return [TextMatch(h.path, h.line + 1, h.end_line + 1, h.symbol, h.language, h.score, h.preview)
                for h in ws.search_text(p.query, p.limit, languages)]
    return list(rank_files(ws, p.query, p.limit, languages))


def rank_files(ws: Workspace, query: str, limit: int, languages: tuple[str, ...] = ()) -> list[FileMatch]:
    """Files for ``query``: the retriever's fused rank, fused again (reciprocal rank) with a fuzzy match on
    the path; a file ranked by the graph or recency alone is no evidence that it matches the query."""
    from nexus.engine.retrieval import RetrievalQuery, Retriever
    from nexus.engine.search.names import fuzzy_score

    if not query.strip():
        return []
    wanted = grammars(languages)
    infos = {info.path: info for info in ws.files() if not wanted or info.language in wanted}
    found: dict[str, tuple[int, dict[str, int], dict[str, int]]] = {}  # path -> line, signals, fusion ranks
    ranked = [hit for hit in Retriever(ws).rank_files(RetrievalQuery(query), limit * 5)
              if {"bm25", "symbols", "uses"} & hit.ranks.keys() and hit.path in infos]
    for rank, hit in enumerate(ranked, 1):
        found[hit.path] = (hit.line + 1, dict(hit.ranks), {"retrieval": rank})
    by_path = sorted(((score, path) for path in infos if (score := fuzzy_score(query, path)) > 0.0),
                     key=lambda item: (-item[0], item[1]))[:limit * 5]
    for rank, (_, path) in enumerate(by_path, 1):
        line, signals, fusion = found.get(path, (1, {}, {}))
        found[path] = (line, {**signals, "path": rank}, {**fusion, "path": rank})
    matches = [FileMatch(path, line, round(sum(1.0 / (RRF_K + r) for r in fusion.values()), 6),
                         infos[path].language, "", signals) for path, (line, signals, fusion) in found.items()]
    matches.sort(key=lambda m: (-m.score, m.path))
    return matches[:limit]
