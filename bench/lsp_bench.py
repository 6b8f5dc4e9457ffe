"""Language server latency over stdio on the CPython standard library, Nexus next to
jedi-language-server (the reference), same requests in the same run.

Timers cover one request end to end: the client sends it over stdio and waits for the response
(JSON encoding, the pipe, the server's work, decoding). Measured:

- completion at N positions, half after `.` and half two characters into a member name. The rest of
  the word is deleted first (a didChange, untimed), as while typing, so that the name expected there
  is not simply in the text; "offered" counts the answers that contain it. The text is restored after.
- definition at N positions (on the object of `obj.attr`); "same as reference" counts the answers
  that include the reference server's first location (same file and line).
- workspace/symbol for N names of functions and classes.
- from spawning the server to its first completion answer (imports, initialize, opening the file).

Each file is opened (didOpen) just before its first request, as an editor does.

    python bench/lsp_bench.py [--positions 200] [--index warm|cold] [--workspace DIR] [--skip-reference]

Both servers share jedi's and parso's caches (under the work folder): with ``--workspace``, a second
run finds them warm for both; in a fresh folder the first server (Nexus) fills them.
``--index warm`` (the default) builds the index with ``nexus index`` before the servers start, so the
timers measure the server, not the indexer; ``--index cold`` lets the server build it during the run
(both cores are shared with the indexer then). ``--workspace DIR`` keeps the copy of the standard
library (and its index) in DIR between runs. Needs the `bench` extra (jedi-language-server).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.client import LanguageClient

NEXUS = [sys.executable, "-m", "nexus.cli", "lsp"]
JEDI_LS = [sys.executable, "-c", "from jedi_language_server.cli import cli; cli()"]
_WORD = re.compile(r"[A-Za-z_0-9]*")


@dataclass(frozen=True, slots=True)
class Spot:
    path: Path
    row: int
    col: int  # the cursor (ASCII lines only, so bytes = UTF-16 units)
    expected: str = ""  # the whole identifier completion should offer here


@dataclass
class Run:
    label: str
    first_answer: float = 0.0
    samples: dict[str, list[float]] = field(default_factory=dict)
    empty: dict[str, int] = field(default_factory=dict)
    offered: int = 0
    errors: list[str] = field(default_factory=list)
    definitions: list[list[tuple[str, int]]] = field(default_factory=list)


def workload(root: Path, count: int, seed: int = 7) -> tuple[list[Spot], list[Spot], list[str]]:
    rng = random.Random(seed)
    files = sorted(p for p in root.glob("*.py") if p.stat().st_size < 200_000)
    dots, mids, defs = [], [], []
    names: list[str] = []
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        for row, line in enumerate(lines):
            if line.lstrip().startswith("#") or not line.isascii():
                continue
            for match in re.finditer(r"\b([A-Za-z_]\w{2,})\.([A-Za-z_]\w+)", line):
                dots.append(Spot(path, row, match.end(1) + 1, match.group(2)))
                mids.append(Spot(path, row, match.start(2) + 2, match.group(2)))
                defs.append(Spot(path, row, match.start(1) + 1))
            for match in re.finditer(r"^(?:def|class) ([A-Za-z_]\w+)", line):
                names.append(match.group(1))
    for items in (dots, mids, defs, names):
        rng.shuffle(items)
    return dots[: count // 2] + mids[: count - count // 2], defs[:count], names[:count]


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
    return {"p50": statistics.median(ordered) * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000}


async def run_server(command: list[str], root: Path, completion: list[Spot], definition: list[Spot],
                     names: list[str], label: str, env: dict[str, str], stderr_log: Path | None = None) -> Run:
    run = Run(label)
    client = LanguageClient("bench", "1")
    client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)(lambda params: None)
    started = time.perf_counter()
    await client.start_io(*command, env=env)
    # pygls pipes the server's stderr and never reads it: drain it, or a chatty server blocks on a full pipe.
    drain = asyncio.create_task(_drain(client._server.stderr, stderr_log))  # type: ignore[attr-defined]
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)]))
    client.initialized(types.InitializedParams())
    texts: dict[Path, str] = {}
    versions: dict[Path, int] = {}

    def ensure_open(path: Path) -> str:
        if path not in texts:
            texts[path] = path.read_text(encoding="utf-8", errors="replace")
            versions[path] = 1
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
                path.as_uri(), "python", 1, texts[path])))
        return path.as_uri()

    def edit(path: Path, row: int, start: int, end: int, text: str) -> None:
        versions[path] += 1
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(versions[path], path.as_uri()),
            [types.TextDocumentContentChangePartial(
                types.Range(types.Position(row, start), types.Position(row, end)), text)]))

    async def complete(spot: Spot) -> list[str]:
        uri = ensure_open(spot.path)
        line = texts[spot.path].split("\n")[spot.row]
        rest = _WORD.match(line, spot.col)
        end = rest.end() if rest else spot.col
        if end > spot.col:
            edit(spot.path, spot.row, spot.col, end, "")
        t = time.perf_counter()
        try:
            result = await client.text_document_completion_async(types.CompletionParams(
                types.TextDocumentIdentifier(uri), types.Position(spot.row, spot.col)))
        except JsonRpcException as exc:  # counted, and shown: a server's failure is part of the result
            run.errors.append(f"completion {spot}: {exc}")
            result = None
        run.samples.setdefault("completion", []).append(time.perf_counter() - t)
        if end > spot.col:
            edit(spot.path, spot.row, spot.col, spot.col, line[spot.col:end])
        items = result.items if isinstance(result, types.CompletionList) else result or []
        return [item.label for item in items]

    labels = await complete(completion[0])
    run.first_answer = time.perf_counter() - started
    run.samples["completion"] = []
    for spot in completion:
        labels = await complete(spot)
        run.empty["completion"] = run.empty.get("completion", 0) + (not labels)
        run.offered += spot.expected in labels
    for spot in definition:
        uri = ensure_open(spot.path)
        t = time.perf_counter()
        try:
            found = await client.text_document_definition_async(types.DefinitionParams(
                types.TextDocumentIdentifier(uri), types.Position(spot.row, spot.col)))
        except JsonRpcException as exc:
            run.errors.append(f"definition {spot}: {exc}")
            found = None
        run.samples.setdefault("definition", []).append(time.perf_counter() - t)
        locations = found if isinstance(found, list) else [found] if found else []
        run.empty["definition"] = run.empty.get("definition", 0) + (not locations)
        run.definitions.append([_where(loc) for loc in locations])
    for name in names:
        t = time.perf_counter()
        try:
            await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=name))
        except JsonRpcException as exc:
            run.errors.append(f"workspace/symbol {name}: {exc}")
        run.samples.setdefault("workspace/symbol", []).append(time.perf_counter() - t)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    drain.cancel()
    return run


async def _drain(stream: asyncio.StreamReader, path: Path | None) -> None:
    sink = path.open("ab") if path is not None else None
    try:
        while chunk := await stream.read(65536):
            if sink is not None:
                sink.write(chunk)
    finally:
        if sink is not None:
            sink.close()


def _where(loc: types.Location | types.LocationLink) -> tuple[str, int]:
    if isinstance(loc, types.LocationLink):
        return loc.target_uri, loc.target_selection_range.start.line
    return loc.uri, loc.range.start.line


def agreement(run: Run, reference: Run) -> tuple[int, int]:
    """(answers including the reference's first location, positions where the reference had one)."""
    same = total = 0
    for mine, theirs in zip(run.definitions, reference.definitions, strict=True):
        if theirs:
            total += 1
            same += theirs[0] in mine
    return same, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--positions", type=int, default=200)
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--index", choices=("warm", "cold"), default="warm")
    parser.add_argument("--workspace", type=Path, help="keep the copy (and its index) in this folder")
    parser.add_argument("--skip-reference", action="store_true")
    parser.add_argument("--server-log", type=Path, help="write the Nexus server's log (-v) to this file")
    args = parser.parse_args()
    nexus = NEXUS + (["--log-file", str(args.server_log), "-v"] if args.server_log else [])
    work = args.workspace or Path(tempfile.mkdtemp(prefix="nexus-bench-"))
    root = work / "stdlib"
    if not root.exists():
        # A copy, so nothing is written into the interpreter and the paths are the workspace's.
        shutil.copytree(args.stdlib, root, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "test",
                                                                          "tests"))
    cache = work / "cache"
    # jedi's and parso's caches too (XDG_CACHE_HOME): shared by both servers, kept with --workspace, and
    # private to the run (parso writes its pickles in place; another process's jedi may be writing them).
    env = {**os.environ, "NEXUS_CACHE_DIR": str(cache), "XDG_CACHE_HOME": str(work / "xdg-cache")}
    if args.index == "cold":
        shutil.rmtree(cache, ignore_errors=True)
    else:
        subprocess.run([sys.executable, "-m", "nexus.cli", "index", str(root)], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    completion, definition, names = workload(root, args.positions)
    print(f"{len(completion)} completion, {len(definition)} definition, {len(names)} symbol queries on {root}; "
          f"index {args.index}; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
    runs = [asyncio.run(run_server(nexus, root, completion, definition, names, "nexus", env, args.server_log))]
    if not args.skip_reference:
        runs.append(asyncio.run(run_server(JEDI_LS, root, completion, definition, names, "jedi-language-server",
                                           env)))
    print("| measure | " + " | ".join(r.label for r in runs) + " |")
    print("|---|" + "---|" * len(runs))
    print("| spawn to first completion (s) | " + " | ".join(f"{r.first_answer:.2f}" for r in runs) + " |")
    for kind in ("completion", "definition", "workspace/symbol"):
        cells = []
        for r in runs:
            s = stats(r.samples[kind])
            cells.append(f"{s['p50']:.1f} / {s['p95']:.1f} / {s['p99']:.1f}")
        print(f"| {kind} ms p50 / p95 / p99 | " + " | ".join(cells) + " |")
    print("| completion: expected name offered | " + " | ".join(f"{r.offered}/{len(completion)}" for r in runs)
          + " |")
    print("| definition: empty answers | " + " | ".join(str(r.empty.get("definition", 0)) for r in runs) + " |")
    print("| error responses | " + " | ".join(str(len(r.errors)) for r in runs) + " |")
    for r in runs:
        for error in r.errors[:5]:
            print(f"  {r.label}: {error}", file=sys.stderr)
    if len(runs) > 1:
        same, total = agreement(runs[0], runs[1])
        print(f"| definition: includes the reference's location | {same}/{total} | - |")
    if not args.workspace:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
