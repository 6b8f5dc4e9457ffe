"""The context store on real LMDB: create, read, page, stream, merge, delete, expire, bad input."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import lmdb
import pytest

from nexus.engine import Workspace
from nexus.engine.context import (
    BudgetError,
    ContextCorrupt,
    ContextError,
    ContextNotFound,
    ContextRequest,
    ContextSettings,
    ContextStore,
    ContextTooLarge,
    build_context,
    counter_for,
)
from nexus.engine.context.records import block_key


@pytest.fixture
def store(tmp_path: Path) -> ContextStore:
    found = ContextStore.open(tmp_path / "contexts", ContextSettings(block_size=4096, chunk_size=1000))
    yield found
    found.close()


def block_keys(store: ContextStore) -> list[bytes]:
    with store.env.begin(db=store.db["blocks"]) as txn:
        return [bytes(k) for k in txn.cursor().iternext(keys=True, values=False)]


async def collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


async def test_built_context_round_trip(indexed: Workspace, store: ContextStore) -> None:
    context = build_context(indexed, ContextRequest(query="start the server", path="app/server.py", line=9,
                                                    budget=3000))
    info = store.put(context)
    assert info.to_json()["contextId"] == info.context_id and info.context_id.startswith("ctx-")
    assert info.to_json()["compressed"] is True and info.token_count == context.token_count
    assert info.pieces == len(context.pieces) and info.size == len(context.text().encode())
    assert store.get(info.context_id) == info and store.text(info.context_id) == context.text()
    pieces = store.pieces(info.context_id)
    assert [(p.path, p.start_line, p.kind, p.tokens) for p in pieces] == \
        [(p.path, p.start_line, p.kind, p.tokens) for p in context.pieces]
    # Every piece's bytes are where the list says.
    for stored, original in zip(pieces, context.pieces, strict=True):
        assert store.read(info.context_id, stored.offset, stored.length).decode() == original.render()

    chunks = await collect(store.stream(info.context_id))
    assert b"".join(chunks).decode() == context.text()
    assert {len(c) for c in chunks[:-1]} == {1000} and 0 < len(chunks[-1]) <= 1000
    # A consumer that stops early: the stream closes cleanly, the prefetch is cancelled.
    stream = store.stream(info.context_id, 100)
    first = await anext(stream)
    await stream.aclose()
    assert first == context.text().encode()[:100]
    texts = [t async for t in store.stream_text(info.context_id, 7)]
    assert "".join(texts) == context.text()

    page = store.page(info.context_id, 1, 2)
    assert page["page"] == 1 and page["pieceCount"] == len(pieces)
    assert [p["text"] for p in page["pieces"]] == [p.render() for p in context.pieces[2:4]]
    with pytest.raises(ContextError, match="page"):
        store.page(info.context_id, -1)


async def test_upload_limits_and_bad_content(store: ContextStore) -> None:
    text = "".join(f"line {i}: the quick brown fox\n" for i in range(20_000))
    info = store.create_from_content(text, max_tokens=200_000)
    assert info.type == "document" and info.source == "user-upload"
    assert info.token_count == counter_for().count(text)  # cut at line ends: the parts add up exactly
    assert store.text(info.context_id) == text
    assert info.compressed_size < info.size / 4
    assert all(p.kind == "upload" for p in store.pieces(info.context_id))

    before = block_keys(store)
    with pytest.raises(ContextTooLarge, match="more than 1,000 tokens"):
        store.create_from_content(text, max_tokens=1000)
    with pytest.raises(ContextError, match="not valid UTF-8"):
        store.create_from_content([b"fine\n" * 2000, b"\xff\xfe broken"])
    with pytest.raises(ContextError, match="inside a UTF-8 character"):
        store.create_from_content([b"caf\xc3"])
    with pytest.raises(BudgetError):
        store.create_from_content("x", max_tokens=2_000_000)
    assert block_keys(store) == before  # nothing stored by the failures
    assert [i.context_id for i in store.contexts()] == [info.context_id]

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(text), 10_000):
            yield text[i:i + 10_000].encode()

    uploaded = await store.acreate_from_content(chunks(), max_tokens=200_000)
    assert store.text(uploaded.context_id) == text
    with pytest.raises(ContextTooLarge):
        await store.acreate_from_content(chunks(), max_tokens=500)
    assert len(block_keys(store)) == 2 * info.blocks


def test_merge_dedups_and_recuts(indexed: Workspace, store: ContextStore) -> None:
    a = store.put(build_context(indexed, ContextRequest(query="settings", budget=2000, use_mtime=False)))
    b = store.put(build_context(indexed, ContextRequest(query="settings", budget=2000, use_mtime=False)))
    c = store.put(build_context(indexed, ContextRequest(query="fetchUser", budget=2000, use_mtime=False)))
    same = store.merge([a.context_id, b.context_id], 10_000)
    assert store.text(same.context_id) == store.text(a.context_id) and same.token_count == a.token_count
    merged = store.merge([a.context_id, c.context_id], 10_000)
    hashes = [p.hash for p in store.pieces(merged.context_id)]
    assert len(hashes) == len(set(hashes))
    assert set(hashes) == {p.hash for p in store.pieces(a.context_id)} | {p.hash for p in store.pieces(c.context_id)}
    cut = store.merge([a.context_id, c.context_id], a.token_count)
    assert cut.token_count <= a.token_count
    assert sum(p.tokens for p in store.pieces(cut.context_id)) == cut.token_count
    with pytest.raises(ContextError, match="at least two"):
        store.merge([a.context_id], 100)
    with pytest.raises(BudgetError):
        store.merge([a.context_id, c.context_id], 0)
    with pytest.raises(ContextNotFound):
        store.merge([a.context_id, "ctx-00000000-0000-0000-0000-000000000000"], 100)


def test_delete_expire_and_unknown_ids(tmp_path: Path) -> None:
    store = ContextStore.open(tmp_path / "short", ContextSettings(ttl=60, block_size=1024))
    try:
        keep = store.create_from_content("keep me\n" * 500)
        old = store.create_from_content("old\n" * 500)
        assert old.expires_at is not None and old.expires_at > time.time()
        store.delete(keep.context_id)
        with pytest.raises(ContextNotFound, match="no context"):
            store.get(keep.context_id)
        with pytest.raises(ContextNotFound):
            store.delete(keep.context_id)
        for bad in ("ctx-123", "../../etc/passwd", "", "CTX-" + keep.context_id[4:]):
            with pytest.raises(ContextNotFound, match="not a context id"):
                store.get(bad)
        assert store.expire(time.time() + 61) == 1
        with pytest.raises(ContextNotFound):
            store.get(old.context_id)
        assert block_keys(store) == []
    finally:
        store.close()


async def test_corruption_is_reported_and_nothing_is_deleted(store: ContextStore) -> None:
    info = store.create_from_content("some text\n" * 3000)
    with store.env.begin(write=True, db=store.db["blocks"]) as txn:
        frame = bytearray(txn.get(block_key(info.context_id, 1)))
        frame[len(frame) // 2] ^= 0xFF
        txn.put(block_key(info.context_id, 1), bytes(frame))
    with pytest.raises(ContextCorrupt, match="block 1 is damaged"):
        store.text(info.context_id)
    with pytest.raises(ContextCorrupt, match="block 1"):
        await collect(store.stream(info.context_id))
    with store.env.begin(write=True, db=store.db["blocks"]) as txn:
        txn.delete(block_key(info.context_id, 2))
    with pytest.raises(ContextCorrupt, match="missing block 2"):
        store.read(info.context_id, info.block_size * 2, 10)
    assert store.get(info.context_id).context_id == info.context_id  # still there, for inspection
    with store.env.begin(write=True, db=store.db["meta"]) as txn:
        txn.put(info.context_id.encode(), b"\xc1 not msgpack")
    with pytest.raises(ContextCorrupt, match="damaged record"):
        store.get(info.context_id)


def test_orphan_blocks_of_a_crashed_upload_are_swept(store: ContextStore) -> None:
    orphan = "ctx-11111111-2222-3333-4444-555555555555"
    with store.env.begin(write=True, db=store.db["blocks"]) as txn:
        txn.put(block_key(orphan, 0), b"junk")
    now = time.time()
    store.expire(now)
    assert block_keys(store) == [block_key(orphan, 0)]  # first sighting: maybe an upload in flight
    store.expire(now + 3601)
    assert block_keys(store) == []


def test_an_unopenable_store_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(ContextError, match="cannot open the context store"):
        ContextStore.open(blocker / "contexts")
    assert lmdb.version()  # the real LMDB is what is under test
