"""Language server latency over stdio on the CPython standard library, Nexus next to
jedi-language-server (the reference), same requests in the same run.

Timers cover one request end to end: the client sends it over stdio and waits for the response
(JSON encoding, the pipe, the server's work, decoding). Measured: completion at N positions (half
after `.`, half mid-identifier), definition at N positions, workspace/symbol for N names, and the time
from sending `initialize` to the first answer (a workspace/symbol for Nexus, a completion for both).

    python bench/lsp_bench.py [--positions 200] [--stdlib PATH] [--skip-reference]

Needs the `bench` extra (jedi-language-server) for the reference column.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

NEXUS = [sys.executable, "-m", "nexus.cli", "lsp"]
JEDI_LS = [sys.executable, "-c", "from jedi_language_server.cli import cli; cli()"]


def positions(root: Path, count: int, seed: int = 7) -> tuple[list, list, list]:  # type: ignore[type-arg]
    rng = random.Random(seed)
    files = sorted(p for p in root.glob("*.py") if p.stat().st_size < 200_000)
    dots, mids, defs = [], [], []
    names: list[str] = []
    for path in files:
        lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
        for row, line in enumerate(lines):
            if line.lstrip().startswith("#"):
                continue
            for match in re.finditer(r"\b([A-Za-z_]\w{2,})\.([A-Za-z_]\w+)", line):
                dots.append((path, row, match.end(1) + 1))
                mids.append((path, row, match.start(2) + 2))
                defs.append((path, row, match.start(1) + 1))
            for match in re.finditer(r"^(?:def|class) ([A-Za-z_]\w+)", line):
                names.append(match.group(1))
    rng.shuffle(dots)
    rng.shuffle(mids)
    rng.shuffle(defs)
    completion = dots[: count // 2] + mids[: count - count // 2]
    rng.shuffle(names)
    return completion, defs[:count], names[:count]


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100) if len(ordered) > 1 else ordered * 99
    return {"p50": statistics.median(ordered) * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000}


async def run_server(command: list[str], root: Path, completion, definition, names, label: str,
                     env: dict[str, str]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    client = LanguageClient("bench", "1")
    await client.start_io(*command, env=env)
    started = time.perf_counter()
    await client.initialize_async(types.InitializeParams(
        capabilities=types.ClientCapabilities(), root_uri=root.as_uri(),
        workspace_folders=[types.WorkspaceFolder(root.as_uri(), root.name)]))
    client.initialized(types.InitializedParams())
    first_path, first_row, first_col = completion[0]
    open_docs: set[Path] = set()

    def ensure_open(path: Path) -> str:
        uri = path.as_uri()
        if path not in open_docs:
            client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
                uri, "python", 1, path.read_text(encoding="utf-8", errors="replace"))))
            open_docs.add(path)
        return uri

    uri = ensure_open(first_path)
    await client.text_document_completion_async(types.CompletionParams(
        types.TextDocumentIdentifier(uri), types.Position(first_row, first_col)))
    first_answer = time.perf_counter() - started
    out: dict[str, object] = {"first answer (s)": round(first_answer, 3)}
    for kind, items in (("completion", completion), ("definition", definition)):
        samples = []
        empty = 0
        for path, row, col in items:
            uri = ensure_open(path)
            ident = types.TextDocumentIdentifier(uri)
            t = time.perf_counter()
            if kind == "completion":
                result = await client.text_document_completion_async(types.CompletionParams(
                    ident, types.Position(row, col)))
                n = len(result.items) if isinstance(result, types.CompletionList) else len(result or [])
            else:
                result = await client.text_document_definition_async(types.DefinitionParams(
                    ident, types.Position(row, col)))
                n = len(result or [])
            samples.append(time.perf_counter() - t)
            empty += n == 0
        out[kind] = {**stats(samples), "empty": empty}
        print(f"  {label} {kind}: {out[kind]}", file=sys.stderr)
    samples = []
    for name in names:
        t = time.perf_counter()
        await client.workspace_symbol_async(types.WorkspaceSymbolParams(query=name))
        samples.append(time.perf_counter() - t)
    out["workspace/symbol"] = stats(samples)
    print(f"  {label} workspace/symbol: {out['workspace/symbol']}; first answer {out['first answer (s)']} s",
          file=sys.stderr)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--positions", type=int, default=200)
    parser.add_argument("--stdlib", type=Path, default=Path(sysconfig.get_paths()["stdlib"]))
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="nexus-bench-"))
    root = work / "stdlib"
    # A copy, so the index (and jedi caches) start cold and nothing is written into the interpreter.
    shutil.copytree(args.stdlib, root, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "test", "tests"))
    env = {**os.environ, "NEXUS_CACHE_DIR": str(work / "cache")}
    completion, definition, names = positions(root, args.positions)
    print(f"{len(completion)} completion, {len(definition)} definition, {len(names)} symbol queries on {root}",
          file=sys.stderr)
    results = {"nexus": asyncio.run(run_server(NEXUS, root, completion, definition, names, "nexus", env))}
    if not args.skip_reference:
        results["jedi-language-server"] = asyncio.run(
            run_server(JEDI_LS, root, completion, definition, names, "jedi-ls", env))
    print("| measure | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for key in ("first answer (s)", "completion", "definition", "workspace/symbol"):
        cells = []
        for found in results.values():
            value = found[key]
            cells.append(str(value) if not isinstance(value, dict) else
                         " / ".join(f"{value[p]:.1f}" for p in ("p50", "p95", "p99"))
                         + (f" ({value['empty']} empty)" if "empty" in value else ""))
        print(f"| {key} {'(ms p50 / p95 / p99)' if key != 'first answer (s)' else ''} | " + " | ".join(cells) + " |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
