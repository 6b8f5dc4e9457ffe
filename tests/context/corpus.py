"""A generated Python workspace big enough for million-token contexts, with real cross-module calls
and imports so that the code graph and the ranking have something to work on. Deterministic."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ("account", "balance", "cache", "record", "buffer", "parser", "token", "stream", "window", "ledger",
         "index", "vector", "matrix", "sensor", "packet", "socket", "thread", "signal", "module", "report",
         "invoice", "session", "profile", "schema", "cursor", "journal", "metric", "filter", "bucket", "shard")
VERBS = ("load", "save", "merge", "split", "check", "build", "parse", "render", "update", "compute", "scan",
         "flush", "encode", "decode", "verify", "resolve", "collect", "publish")


def generate(root: Path, modules: int = 360, functions: int = 40, seed: int = 7) -> list[str]:
    """Write ``modules`` packages' worth of code under ``root``; returns the relative paths written.

    360 modules of 40 functions are about 1.2 million o200k tokens (about 5 MB).
    """
    rng = random.Random(seed)
    names = [[f"{rng.choice(VERBS)}_{rng.choice(WORDS)}_{m}_{f}" for f in range(functions)] for m in range(modules)]
    written = []
    for m in range(modules):
        package = f"pkg{m // 30}"
        rel = f"{package}/mod_{m}.py"
        deps = sorted({rng.randrange(modules) for _ in range(3)} - {m})
        lines = [f'"""Module {m}: {" ".join(rng.sample(WORDS, 6))}."""', ""]
        for d in deps:
            lines.append(f"from pkg{d // 30}.mod_{d} import {names[d][0]}, {names[d][1]}")
        lines += ["", ""]
        for f, name in enumerate(names[m]):
            callee = rng.choice([names[d][rng.randrange(2)] for d in deps] or [names[m][0]])
            words = rng.sample(WORDS, 5)
            lines += [
                f"def {name}({words[0]}, {words[1]}=None, limit={rng.randrange(1, 500)}):",
                f'    """{rng.choice(VERBS).capitalize()} the {words[2]} of a {words[3]} into the {words[4]}."""',
                f"    total = {rng.randrange(1000)}",
                "    for item in range(limit):",
                f"        if item % {rng.randrange(2, 9)} == 0:",
                f"            total += len(str({words[0]})) * item",
                f"    {words[2]}_{words[3]} = {callee}({words[0]}, total)" if f % 3 == 0 else
                f"    {words[2]}_{words[3]} = total - {rng.randrange(100)}",
                f"    return {words[2]}_{words[3]}, {words[1]}",
                "",
                "",
            ]
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text("\n".join(lines), encoding="utf-8")
        written.append(rel)
    return written
