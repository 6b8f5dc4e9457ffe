"""Readers see the last committed index: during a re-index, and right after a writer is killed.

A re-index stages new file versions in LMDB long before Tantivy commits them (at the end of the run,
or every ``COMMIT_EVERY`` seconds). Readers in other processes must keep finding every symbol that was
committed before, and `status` must say what is pending. Real LMDB + Tantivy on disk, a generated
corpus large enough that a re-index takes a second or more, real `nexus index` subprocesses.
"""

from __future__ import annotations

import json
import random
import signal
import struct
import subprocess
import sys
import time
from pathlib import Path

import msgpack
import psutil
import pytest

from nexus.engine import Workspace
from nexus.engine.graph.queries import CodeGraph
from nexus.engine.worker import Limits, Outcome, build_version, content_hash

FILES = 320
HELPERS = 24  # filler functions per file, so that parsing and indexing cost something


def base_names(count: int = FILES) -> list[str]:
    return [name for i in range(count) for name in (f"base_fn_{i}", f"BaseThing{i}")]


def write_corpus(root: Path, stamps: tuple[str, ...] = ()) -> None:
    """``FILES`` modules, each defining two unique names and calling the next module's function; each
    stamp changes every file and adds a function to each (later versions keep the earlier ones)."""
    for i in range(FILES):
        helpers = "\n".join(
            f"def helper_{i}_{k}(value, other=None):\n"
            f"    \"\"\"Helper {k} of module {i}{''.join(stamps)}.\"\"\"\n"
            f"    total = value * {k} + len(str(other))\n"
            f"    for step in range({k}):\n        total += step\n    return total\n"
            for k in range(HELPERS))
        extra = "".join(f"\ndef stamped_{stamp}_{i}():\n    return {i}\n" for stamp in stamps)
        (root / f"mod_{i}.py").write_text(
            f"from mod_{(i + 1) % FILES} import base_fn_{(i + 1) % FILES}\n\n\n"
            f"def base_fn_{i}(x):\n    return base_fn_{(i + 1) % FILES}(x) if x else {i}\n\n\n"
            f"class BaseThing{i}:\n    def run(self):\n        return base_fn_{i}(1)\n\n\n"
            f"{helpers}{extra}")


def index_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "nexus.cli", "index", str(root), "--json"]


# A second process reading the index the way `nexus search` or the language server would: every
# symbol through fuzzy symbol search and exact definitions, some through references and text search,
# and `status`, until told to stop. Mode "reopen" opens the workspace afresh for every pass (a CLI
# call); "long" keeps one open (a language server).
READER = r"""
import json, sys, time
from pathlib import Path
from nexus.engine import Workspace

root, names_file, mode, stop, out = sys.argv[1:6]
names = json.loads(Path(names_file).read_text())
misses, samples, passes = [], [], 0
ws = Workspace.open(root)
Path(out + ".ready").write_text("")
while True:
    last = Path(stop).exists()  # one full pass after the writer is done, then stop
    if mode == "reopen":
        ws.close()
        ws = Workspace.open(root)
    for index, name in enumerate(names):
        if index % 40 == 0:
            state = ws.status()
            samples.append({"pending": state.pending, "writer": state.writer,
                            "complete": state.last_commit_complete, "interrupted": state.interrupted})
        if not any(h.name == name for h in ws.search_symbols(name, 5)):
            misses.append(["symbols", name, passes])
        if index % 7 == 0 and not ws.definitions(name):
            misses.append(["definitions", name, passes])
        if index % 23 == 0 and name.startswith("base_fn_"):
            if len({p for p, _r in ws.references(name)}) < 2:
                misses.append(["references", name, passes])
            if not any(h.path == "mod_" + name[8:] + ".py" for h in ws.search_text(name, 10)):
                misses.append(["text", name, passes])
    passes += 1
    if last:
        break
ws.close()
Path(out).write_text(json.dumps({"misses": misses[:50], "miss_count": len(misses), "passes": passes,
                                 "samples": samples}))
"""


def start_reader(tmp: Path, root: Path, names: list[str], mode: str) -> tuple[subprocess.Popen[bytes], Path]:
    names_file = tmp / "names.json"
    names_file.write_text(json.dumps(names))
    out = tmp / f"reader-{mode}.json"
    process = subprocess.Popen([sys.executable, "-c", READER, str(root), str(names_file), mode,
                                str(tmp / "stop"), str(out)])
    deadline = time.monotonic() + 60
    while not Path(str(out) + ".ready").exists():
        assert process.poll() is None, "the reader died while starting"
        assert time.monotonic() < deadline, "the reader did not start"
        time.sleep(0.05)
    return process, out


def test_concurrent_readers_see_every_committed_symbol_during_a_reindex(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    write_corpus(root)
    subprocess.run(index_command(root), check=True, capture_output=True, timeout=300)
    names = base_names()
    readers = [start_reader(tmp_path, root, names, mode) for mode in ("long", "reopen")]
    writer_pids: list[int] = []
    try:
        for round_number in range(2):  # every file changes in each round, so every version is replaced
            write_corpus(root, tuple(f"r{r}" for r in range(round_number + 1)))
            with subprocess.Popen(index_command(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE) as writer:
                writer_pids.append(writer.pid)
                # A one-shot `nexus search`, the way a user would run it while the index is updated.
                while writer.poll() is None:
                    found = subprocess.run([sys.executable, "-m", "nexus.cli", "search", "--symbols", "--json",
                                            "--root", str(root), "--limit", "3", "base_fn_7"],
                                           capture_output=True, text=True, timeout=120)
                    assert found.returncode == 0, found.stderr
                    assert "base_fn_7" in [h["name"] for h in json.loads(found.stdout)]
                out, err = writer.communicate(timeout=300)
                assert writer.returncode == 0, err
                summary = json.loads(out)
                assert summary["parsed"] == FILES
    finally:
        (tmp_path / "stop").write_text("")
        for process, _out in readers:
            process.wait(timeout=300)
    for process, out_file in readers:
        assert process.returncode == 0
        result = json.loads(out_file.read_text())
        assert result["miss_count"] == 0, result["misses"]
        assert result["passes"] >= 2
        samples = result["samples"]
        # (c) status is honest while the writer runs: staged work shows as pending, with the writer
        # named, never as complete or as an interrupted run.
        busy = [s for s in samples if s["pending"]]
        assert busy, "the reader never saw a version pending commit: the corpus indexes too fast"
        for sample in busy:
            assert sample["writer"] in writer_pids and not sample["complete"] and not sample["interrupted"]
        assert all(s["pending"] == 0 for s in samples if s["complete"])
    with Workspace.open(root) as ws:
        state = ws.status()
        assert state.pending == 0 and state.last_commit_complete and state.writer is None
        assert not state.interrupted
        live, searchable = ws.consistency()
        assert live == searchable and len(live) == FILES
        assert [h.name for h in ws.search_symbols("stamped_r1_5", 1)] == ["stamped_r1_5"]
        assert [h.name for h in ws.search_symbols("stamped_r0_5", 1)] == ["stamped_r0_5"]


def check_after_kill(root: Path, committed: list[str]) -> int:
    """Searches right after a kill (no repair in between); returns how many files were pending."""
    with Workspace.open(root) as ws:
        missing = [name for name in committed if not any(h.name == name for h in ws.search_symbols(name, 5))]
        assert missing == [], f"{len(missing)} committed symbols not found after a kill, e.g. {missing[:5]}"
        undefined = [name for name in committed[::11] if not ws.definitions(name)]
        assert undefined == []
        # Every path LMDB shows readers has its committed version, or its staged one, in Tantivy.
        searchable = ws.search_index.live_file_ids()
        with ws.store.read() as reader:
            staged = reader.staged()
            for info in reader.files():
                entry = staged.get(info.path)
                versions = {info.file_id} | ({entry.version.file_id} if entry and entry.version else set())
                assert versions & searchable, f"{info.path} has no searchable version"
        state = ws.status()
        assert state.writer is None
        assert state.pending == len(staged)
        if state.pending:
            assert state.interrupted and not state.last_commit_complete
        return state.pending


@pytest.mark.timeout(360)  # six index runs and their kills: minutes on a loaded 2-core machine
def test_sigkill_during_reindex_then_immediate_searches_find_every_committed_symbol(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    write_corpus(root)
    started = time.perf_counter()
    subprocess.run(index_command(root), check=True, capture_output=True, timeout=300)
    full_run = time.perf_counter() - started
    committed = base_names()
    rng = random.Random(20261206)
    kills = with_pending = 0
    for round_number in range(6):
        stamp = f"k{round_number}"
        write_corpus(root, tuple(f"k{r}" for r in range(round_number + 1)))
        with subprocess.Popen(index_command(root), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as process:
            time.sleep(rng.uniform(0.3, 1.0) * full_run)  # the random kill point
            helpers = psutil.Process(process.pid).children(recursive=True) if process.poll() is None else []
            finished = process.poll() == 0
            if not finished:
                process.send_signal(signal.SIGKILL)
                kills += 1
            process.wait(timeout=60)
            psutil.wait_procs(helpers, timeout=20)
        pending = check_after_kill(root, committed)
        with_pending += bool(pending)
        if finished:
            committed += [f"stamped_{stamp}_{i}" for i in range(0, FILES, 16)]
        else:
            # The next writer replays exactly what was pending (no re-parse) and then completes.
            repaired = subprocess.run(index_command(root), capture_output=True, text=True, timeout=300)
            assert repaired.returncode == 0, repaired.stderr
            assert json.loads(repaired.stdout)["repaired"] == pending
            committed += [f"stamped_{stamp}_{i}" for i in range(0, FILES, 16)]
            with Workspace.open(root) as ws:
                state = ws.status()
                assert state.pending == 0 and state.last_commit_complete and not state.interrupted
    assert kills >= 3, "the index runs finished before they could be killed"
    assert with_pending >= 1, "no kill landed between staging and the Tantivy commit"
    with Workspace.open(root) as ws:
        live, searchable = ws.consistency()
        assert live == searchable


# -- the two crash windows, reached exactly ----------------------------------------------------------

OLD = "def old_name():\n    return 1\n"
NEW = "def old_name():\n    return 2\n\n\ndef new_name():\n    return helper()\n\n\ndef helper():\n    return 3\n"


def stage_then_die(ws: Workspace, rel: str, text: str, *, tantivy_commit: bool) -> None:
    """What a writer killed before its promotion leaves: a staged version, its documents added (and
    committed to Tantivy or not), the replaced version's documents deleted; no promotion."""
    (ws.root / rel).write_text(text)  # the edit the killed writer was indexing
    data, mtime_ns = text.encode(), (ws.root / rel).stat().st_mtime_ns
    with ws.store.write() as batch:
        version = build_version(rel, batch.next_id, "python", data, content_hash(data), mtime_ns,
                                Limits(2_000_000, 1000))
        assert not isinstance(version, Outcome)
        replaced = batch.put_file(version)
    for file_id in replaced:
        ws.search_index.delete_file(file_id)
    ws.search_index.add(version.docs)
    if tantivy_commit:
        ws.search_index.commit()
    ws.search_index.close_writer()  # uncommitted Tantivy operations die with the writer


def test_killed_before_the_tantivy_commit_readers_keep_the_committed_version(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(OLD)
    with Workspace.open(tmp_path) as ws:
        ws.index()
        stage_then_die(ws, "a.py", NEW, tantivy_commit=False)
    with Workspace.open(tmp_path) as ws:  # a reader opened after the crash, before any repair
        assert [h.name for h in ws.search_symbols("old_name", 1)] == ["old_name"]
        assert [d[0] for d in ws.definitions("old_name")] == ["a.py"]
        assert ws.search_symbols("new_name", 5) == []
        assert ws.text("a.py") == OLD and [s.name for s in ws.symbols("a.py")] == ["old_name"]
        state = ws.status()
        assert (state.pending, state.writer, state.interrupted, state.last_commit_complete) == (1, None, True, False)
        # `nexus status`, as a user sees it (and the LSP's nexus/status, which embeds the same JSON).
        shown = subprocess.run([sys.executable, "-m", "nexus.cli", "status", "--root", str(tmp_path)],
                               capture_output=True, text=True, timeout=60)
        assert "cut short: 1 file(s) not committed" in " ".join(shown.stdout.split()), shown.stdout
        shown = subprocess.run([sys.executable, "-m", "nexus.cli", "status", "--root", str(tmp_path), "--json"],
                               capture_output=True, text=True, timeout=60)
        reported = json.loads(shown.stdout)
        assert [reported[k] for k in ("pending", "writer", "interrupted", "lastCommitComplete")] == [1, None, True, False]
        assert ws.index().repaired == 1  # the staged version is committed from LMDB, not re-parsed
        assert [h.name for h in ws.search_symbols("new_name", 1)] == ["new_name"]
        assert ws.text("a.py") == NEW
        state = ws.status()
        assert (state.pending, state.interrupted, state.last_commit_complete) == (0, False, True)
        live, searchable = ws.consistency()
        assert live == searchable and len(live) == 1


def test_killed_between_the_tantivy_commit_and_the_promotion_readers_find_the_file(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(OLD)
    with Workspace.open(tmp_path) as ws:
        ws.index()
        graph = CodeGraph(ws)
        graph.sync()
        stage_then_die(ws, "a.py", NEW, tantivy_commit=True)
        # Tantivy now holds only the staged version's documents: they resolve to its data, still kept.
        assert [h.name for h in ws.search_symbols("old_name", 1)] == ["old_name"]
        assert [h.name for h in ws.search_symbols("new_name", 1)] == ["new_name"]
        assert [p for p, _r in ws.references("helper")] == ["a.py", "a.py"]
        assert ws.search_text("helper", 5)[0].path == "a.py"
        assert ws.file_info("a.py") is not None and ws.text("a.py") == OLD  # promoted only by the next writer
        graph.sync()  # the graph follows what readers see as committed: still the old version
        assert ws.status().interrupted
        ws.index()
        assert graph.store.is_current(ws), "the index run brings the graph along with its promotion"
        assert [e.caller for e in graph.callers("helper")] == ["new_name"]
        assert ws.text("a.py") == NEW and ws.status().pending == 0


# -- a long-lived reader and a writer in another process ---------------------------------------------

UPDATE = """
import sys
from nexus.engine import Workspace
with Workspace.open(sys.argv[1]) as ws:
    ws.update_file(sys.argv[2], sys.argv[3])
"""


def test_a_long_lived_reader_follows_each_commit_of_another_process(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(OLD)
    with Workspace.open(tmp_path) as ws:
        ws.index()
        for round_number in range(5):
            # The reader's searcher is warm; the other process replaces the version it has open, whose
            # data the promotion drops: the next query must use a searcher that has the new version.
            assert [h.name for h in ws.search_symbols("old_name", 1)] == ["old_name"]
            text = NEW + f"\n\ndef round_{round_number}():\n    pass\n"
            subprocess.run([sys.executable, "-c", UPDATE, str(tmp_path), "a.py", text], check=True, timeout=60)
            assert [h.name for h in ws.search_symbols("old_name", 1)] == ["old_name"]
            assert [h.name for h in ws.search_symbols(f"round_{round_number}", 1)] == [f"round_{round_number}"]
            assert ws.definitions(f"round_{round_number}")[0][0] == "a.py"
            assert ws.status().pending == 0


# -- the store written by schema v1 ------------------------------------------------------------------

def test_a_v1_store_with_nothing_pending_is_adopted_and_one_with_pending_work_rebuilt(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(OLD)
    for pending, adopted in ((False, True), (True, False)):
        with Workspace.open(tmp_path) as ws:
            ws.index()
            env = ws.store.env
            with env.begin(write=True) as txn:
                txn.put(b"schema", msgpack.packb(1), db=ws.store.db["meta"])
                v1_pending = env.open_db(b"pending", txn=txn)
                if pending:
                    txn.put(struct.pack(">I", 99), b"", db=v1_pending)
        with Workspace.open(tmp_path) as ws:
            assert (ws.rebuilt_reason == "") is adopted
            assert ws.status().schema_version == 2
            assert (ws.file_info("a.py") is not None) is adopted
            assert [h.name for h in ws.search_symbols("old_name", 1)] == (["old_name"] if adopted else [])
