"""The Tantivy side of the index: one Tantivy index per workspace holding three kinds of documents.

- file documents: path words, language, and the distinct identifiers the file mentions (which files
  reference `foo`? is one term lookup),
- chunk documents: BM25 over chunk bodies, with the path and the names defined in the chunk boosted,
- symbol documents: the name's parts, prefixes and abbreviations (see ``names``) for fuzzy symbol search.

Every document carries the LMDB ``file_id`` of the file version it came from. File ids are never
reused, and LMDB keeps a replaced version's data until Tantivy has committed its replacement, so a
hit resolves in an LMDB snapshot taken with the searcher (``engine.snapshot``). Queries take that
searcher; without one they use the current searcher (fine for a writer's own checks).

Documents are built as JSON text (in the worker processes, by :func:`documents_json`), so the writer
process only hands strings to Tantivy.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from base64 import b64encode
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tantivy
from msgpack import packb, unpackb

from ..errors import IndexError_, IndexLockedError
from ..parsing.chunks import RawChunk
from ..parsing.extract import RawSymbol
from .names import MAX_PREFIX, query_terms, split_parts, symbol_terms

log = logging.getLogger(__name__)

FILE, CHUNK, SYMBOL = 0, 1, 2
PREFIX_TOKENIZER = "nexus_prefix"
WRITER_HEAP = 128_000_000
SMALL_WRITER_HEAP = 20_000_000


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("t", indexed=True)
    sb.add_unsigned_field("file_id", stored=True, indexed=True, fast=True)
    sb.add_text_field("lang", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("path", tokenizer_name="default", index_option="freq")
    # chunk documents
    sb.add_text_field("body", tokenizer_name="default", index_option="freq")
    sb.add_text_field("symbols", tokenizer_name="default", index_option="freq")
    sb.add_unsigned_field("chunk", stored=True)
    # symbol documents
    sb.add_text_field("sym_exact", tokenizer_name="raw", index_option="basic")
    # Values: the lowercased name, its parts, "^" + initials; Tantivy cuts each into its prefixes.
    sb.add_text_field("sym_prefix", tokenizer_name=PREFIX_TOKENIZER, index_option="basic")
    sb.add_text_field("sym_abbr", tokenizer_name="whitespace", index_option="basic")
    sb.add_text_field("kind", tokenizer_name="raw", index_option="basic")
    sb.add_unsigned_field("sym", stored=True)
    # What a hit displays, msgpack'd, so a query needs no LMDB read beyond the liveness check.
    sb.add_bytes_field("d", stored=True)
    # file documents: distinct identifiers, case kept
    sb.add_text_field("refs", tokenizer_name="whitespace", index_option="basic")
    return sb.build()


SCHEMA = build_schema()


def documents_json(file_id: int, path: str, language: str, source: bytes, symbols: Sequence[RawSymbol],
                   chunks: Sequence[RawChunk], ref_names: Iterable[str]) -> list[str]:
    """All Tantivy documents of one file version, as JSON strings for ``IndexWriter.add_json``."""
    dumps = json.dumps
    # Paths may hold undecodable bytes (surrogate escapes), which JSON for Tantivy cannot carry.
    safe = path.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    path_words = safe.replace("/", " ").replace("_", " ").replace(".", " ")
    docs = [dumps({"t": FILE, "file_id": file_id, "lang": language, "path": path_words,
                   "refs": " ".join(ref_names)})]
    by_chunk: list[list[str]] = [[] for _ in chunks]
    starts = [c[2] for c in chunks]
    for index, symbol in enumerate(symbols):
        name = symbol[0]
        prefixes, abbreviations = symbol_terms(name)
        display = b64encode(packb([name, symbol[1], symbol[2], symbol[7], symbol[8], symbol[13], language]))
        docs.append(dumps({"t": SYMBOL, "file_id": file_id, "sym": index, "lang": language,
                           "kind": symbol[1], "sym_exact": name.lower(), "sym_prefix": prefixes,
                           "sym_abbr": abbreviations, "d": display.decode()}))
        slot = bisect_right(starts, symbol[11]) - 1
        if slot >= 0:
            by_chunk[slot].append(name)
            by_chunk[slot].extend(p for p in prefixes[1:] if p[0] != "^")
    for index, chunk in enumerate(chunks):
        body = source[chunk[2]:chunk[3]].decode("utf-8", "replace")
        display = b64encode(packb([chunk[0], chunk[1], chunk[5], language]))
        docs.append(dumps({"t": CHUNK, "file_id": file_id, "chunk": index, "lang": language,
                           "path": path_words, "body": body, "symbols": " ".join(by_chunk[index]),
                           "d": display.decode()}))
    return docs


def bulk_writer_threads(cores: int | None = None) -> int:
    """Tantivy indexing threads for a bulk run. They share the cores with the parsing workers (one per
    core), and their work is a small share of a file's (about a sixth of the parse on the stdlib): one
    thread up to four cores, a quarter of the cores above."""
    cores = cores or os.cpu_count() or 1
    return max(1, cores // 4)


@dataclass(frozen=True, slots=True)
class RawHit:
    file_id: int
    item: int  # chunk or symbol index within the file version
    score: float
    display: list[Any]  # symbols: name, kind, container, line, col, signature, language
    #                     chunks: start line, end line, symbol, language


class SearchIndex:
    """A workspace's Tantivy index. Readers share one instance; the writer is opened on demand."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        try:
            self.index = tantivy.Index(SCHEMA, path=str(path), reuse=True)
            self.index.register_tokenizer(PREFIX_TOKENIZER, tantivy.TextAnalyzerBuilder(
                tantivy.Tokenizer.ngram(1, MAX_PREFIX, True)).filter(tantivy.Filter.lowercase()).build())
        except (OSError, ValueError) as exc:
            raise IndexError_(f"cannot open the search index at {path}: {exc}") from exc
        self.path = path
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.Lock()

    # -- writing ---------------------------------------------------------------------------------

    def writer(self, bulk: bool = False) -> tantivy.IndexWriter:
        """The open writer, or a new one: large and multi-threaded for bulk indexing, small for edits."""
        if self._writer is None:
            try:
                self._writer = (self.index.writer(WRITER_HEAP, bulk_writer_threads()) if bulk
                                else self.index.writer(SMALL_WRITER_HEAP, 1))
            except ValueError as exc:
                if "LockBusy" in str(exc) or "lock" in str(exc).lower():
                    raise IndexLockedError(None, str(self.path)) from exc
                raise
        return self._writer

    def add(self, docs: Iterable[str]) -> None:
        add_json = self.writer().add_json
        for doc in docs:
            add_json(doc)

    def delete_file(self, file_id: int) -> None:
        # delete_documents_by_term silently matches nothing on an unsigned field; a term query works.
        self.writer().delete_documents_by_query(tantivy.Query.term_query(SCHEMA, "file_id", file_id))

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.commit()
            self.index.reload()

    def close_writer(self) -> None:
        """Release Tantivy's writer lock (after waiting for background merges)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.wait_merging_threads()

    def clear(self) -> None:
        self.writer().delete_all_documents()

    # -- reading ---------------------------------------------------------------------------------

    def searcher(self) -> tantivy.Searcher:
        return self.index.searcher()

    def reload(self) -> None:
        self.index.reload()

    def live_file_ids(self, searcher: tantivy.Searcher | None = None) -> set[int]:
        """Every file id with documents in the committed index (for consistency checks)."""
        searcher = searcher if searcher is not None else self.searcher()
        query = tantivy.Query.term_query(SCHEMA, "t", FILE)
        total: int = searcher.search(query, 1, count=True).count  # type: ignore[attr-defined]
        if not total:
            return set()
        hits = searcher.search(query, total).hits
        return {searcher.doc(address)["file_id"][0] for _, address in hits}

    def search_symbols(self, text: str, limit: int, languages: Sequence[str] = (),
                       kinds: Sequence[str] = (), searcher: tantivy.Searcher | None = None) -> list[RawHit]:
        whole, parts = query_terms(text)
        term = tantivy.Query.term_query
        boost = tantivy.Query.boost_query
        should: list[tuple[tantivy.Occur, tantivy.Query]] = [
            (tantivy.Occur.Should, boost(term(SCHEMA, "sym_exact", whole), 20.0)),
            (tantivy.Occur.Should, boost(term(SCHEMA, "sym_prefix", whole), 6.0)),
            (tantivy.Occur.Should, boost(term(SCHEMA, "sym_prefix", "^" + whole), 2.0)),
        ]
        if len(whole) >= 4:
            distance = 2 if len(whole) >= 8 else 1
            should.append((tantivy.Occur.Should, boost(
                tantivy.Query.fuzzy_term_query(SCHEMA, "sym_exact", whole, distance), 2.0)))
        for part in dict.fromkeys(parts):
            should.append((tantivy.Occur.Should, boost(term(SCHEMA, "sym_prefix", part), 3.0)))
            if len(part) >= 2:
                pairs = [(tantivy.Occur.Must, term(SCHEMA, "sym_abbr", f"{part[0]}:{c}"))
                         for c in dict.fromkeys(part[1:12])]
                should.append((tantivy.Occur.Should, tantivy.Query.boolean_query(pairs)))
        query = self._filtered(SYMBOL, tantivy.Query.boolean_query(should), languages, kinds)
        return self._hits(query, limit, "sym", searcher)

    def search_text(self, text: str, limit: int, languages: Sequence[str] = (),
                    searcher: tantivy.Searcher | None = None) -> list[RawHit]:
        words = set(text.split())
        # camelCase words are single tokens in the body; their parts help natural-language queries.
        extra = [part for word in words for part in split_parts(word) if part not in words]
        parsed, _errors = self.index.parse_query_lenient(
            " ".join([_escape(text), *extra]), ["body", "symbols", "path"],
            field_boosts={"symbols": 3.0, "path": 2.0})
        query = self._filtered(CHUNK, parsed, languages, ())
        return self._hits(query, limit, "chunk", searcher)

    def symbols_named(self, name: str, limit: int = 1000,
                      searcher: tantivy.Searcher | None = None) -> list[RawHit]:
        """Symbol documents whose name is ``name`` (case-insensitively; callers check the case)."""
        query = self._filtered(SYMBOL, tantivy.Query.term_query(SCHEMA, "sym_exact", name.lower()), (), ())
        return self._hits(query, limit, "sym", searcher)

    def files_referencing(self, name: str, limit: int = 10_000,
                          searcher: tantivy.Searcher | None = None) -> list[int]:
        query = tantivy.Query.boolean_query([
            (tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "t", FILE)),
            (tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "refs", name)),
        ])
        searcher = searcher if searcher is not None else self.searcher()
        return [searcher.doc(address)["file_id"][0] for _, address in searcher.search(query, limit).hits]

    def _hits(self, query: tantivy.Query, limit: int, item_field: str,
              searcher: tantivy.Searcher | None) -> list[RawHit]:
        searcher = searcher if searcher is not None else self.searcher()
        out = []
        for score, address in searcher.search(query, limit).hits:
            doc = searcher.doc(address)
            out.append(RawHit(doc["file_id"][0], doc[item_field][0], score, unpackb(doc["d"][0])))
        return out

    @staticmethod
    def _filtered(doc_type: int, query: tantivy.Query, languages: Sequence[str],
                  kinds: Sequence[str]) -> tantivy.Query:
        clauses = [(tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, "t", doc_type)),
                   (tantivy.Occur.Must, query)]
        if languages:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(SCHEMA, "lang", list(languages))))
        if kinds:
            clauses.append((tantivy.Occur.Must, tantivy.Query.term_set_query(SCHEMA, "kind", list(kinds))))
        return tantivy.Query.boolean_query(clauses)


_SPECIAL = str.maketrans({c: " " for c in '+-&|!(){}[]^"~*?:\\/<>=\'`'})


def _escape(text: str) -> str:
    """User text as plain words: the query language's operators would otherwise bite (`foo AND`)."""
    words = text.translate(_SPECIAL).split()
    return " ".join(w for w in words if w not in ("AND", "OR", "NOT", "IN", "TO"))
