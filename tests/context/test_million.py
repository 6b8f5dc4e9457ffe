"""End to end at full size: a real 1,000,000-token context built from an indexed workspace, stored,
streamed with bounded memory, merged; and a 1M-token upload refused one token over its limit."""

from __future__ import annotations

import hashlib
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from nexus.engine import Workspace
from nexus.engine.context import (
    MAX_BUDGET,
    ContextRequest,
    ContextSettings,
    ContextStore,
    ContextTooLarge,
    build_context,
    counter_for,
)
from nexus.engine.graph import GraphStore

from .corpus import generate

STREAM_BOUND = 1024 * 1024  # bytes of Python memory streaming may hold at its peak (a block, a chunk)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("big")
    generate(root)
    ws = Workspace.open(root)
    ws.index()
    yield ws
    for key in [k for k in GraphStore._open if k.startswith(str(ws.index_dir))]:
        GraphStore._open[key].close()
    ws.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContextStore]:
    found = ContextStore.open(tmp_path_factory.mktemp("contexts"), ContextSettings())
    yield found
    found.close()


@pytest.mark.timeout(300)
async def test_million_token_context_streams_in_bounded_memory(big: Workspace, store: ContextStore) -> None:
    source = (big.root / "pkg3/mod_100.py").read_text().split("\n")
    call_line = next(i for i, text in enumerate(source) if text.endswith(", total)"))  # calls another module
    request = ContextRequest(query="merge the ledger balance", path="pkg3/mod_100.py", line=call_line,
                             budget=MAX_BUDGET)
    context = build_context(big, request)
    assert context.exact
    assert 0.95 * MAX_BUDGET <= context.token_count <= MAX_BUDGET
    text = context.text()
    assert counter_for().count(text) <= MAX_BUDGET  # the exact count of the real text, not the sum
    kinds = {p.kind for p in context.pieces}
    assert {"cursor", "definition", "chunk", "file"} <= kinds
    digest = hashlib.sha256(text.encode()).hexdigest()
    size = len(text.encode())
    del text

    info = store.put(context)
    del context
    assert info.token_count >= 0.95 * MAX_BUDGET and info.sha256 == digest
    assert info.compressed_size < info.size / 3  # zstd on code

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        sha = hashlib.sha256()
        received = chunks = 0
        async for chunk in store.stream(info.context_id):
            sha.update(chunk)
            received += len(chunk)
            chunks += 1
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert received == size and sha.hexdigest() == digest
    assert chunks == -(-size // (64 * 1024))
    assert size > 3 * STREAM_BOUND and peak < STREAM_BOUND, (size, peak)


@pytest.mark.timeout(300)
def test_merge_two_half_million_contexts(big: Workspace, store: ContextStore) -> None:
    first = store.put(build_context(big, ContextRequest(query="ledger balance", budget=500_000)))
    second = store.put(build_context(big, ContextRequest(query="sensor packet window", budget=500_000)))
    assert first.token_count > 450_000 and second.token_count > 450_000
    merged = store.merge([first.context_id, second.context_id], MAX_BUDGET)
    assert merged.token_count <= MAX_BUDGET
    pieces = store.pieces(merged.context_id)
    assert len({p.hash for p in pieces}) == len(pieces)
    # Both contexts draw on the same files, so dedup shows: fewer tokens than the two together.
    assert merged.token_count < first.token_count + second.token_count
    assert counter_for().count(store.text(merged.context_id)) <= MAX_BUDGET


def test_million_token_upload_limit(store: ContextStore, tmp_path: Path) -> None:
    line = "the quick brown fox jumps over the lazy dog 0123\n"
    counter = counter_for()
    per_line = counter.count(line)
    lines = MAX_BUDGET // per_line
    info = store.create_from_content((line * 1000).encode() for _ in range(lines // 1000))
    assert info.token_count == (lines // 1000) * 1000 * per_line <= MAX_BUDGET
    with pytest.raises(ContextTooLarge, match="1,000,000 tokens"):
        store.create_from_content((line * 1000).encode() for _ in range(lines // 1000 + 2))
