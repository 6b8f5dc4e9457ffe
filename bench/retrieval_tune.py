"""Choose the retriever's fusion weights on the tuning split of a ``retrieval_bench.py --dump`` file.

    python bench/retrieval_tune.py /tmp/run.json

Re-fuses every query's recorded signal rankings (reciprocal rank, as the retriever does) for a grid of
weights and test demotions, and prints the best settings on the ``tune`` split with their ``eval``
figures beside them (never chosen on). Approximate in one way: the co-change seeds and the test
subjects were computed with the default weights of the run.
"""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

from nexus.engine.retrieval.fusion import fuse
from nexus.engine.retrieval.tests import about_tests

sys.path.insert(0, str(Path(__file__).parent))
from retrieval_bench import metrics


def rows(dump: dict[str, object], split: str) -> list[dict[str, object]]:
    out = []
    for repo in dump.values():
        for row in repo.get(split, {}).get("all together (default)", []):  # type: ignore[attr-defined]
            out.append(row)
    return out


def rank(row: dict[str, object], weights: dict[str, float], demotion: float) -> list[str]:
    signals = dict(row["signals"])  # type: ignore[call-overload]
    tests = set(signals.pop("_tests", []))
    if about_tests(str(row["message"])):
        signals.pop("tests", None)
        demotion = 1.0
    fused = fuse(signals, weights)
    scores = {f.key: f.score * (demotion if f.key in tests else 1.0) for f in fused}
    return sorted(scores, key=lambda k: (-scores[k], k))[:10]


def evaluate(data: list[dict[str, object]], weights: dict[str, float], demotion: float) -> dict[str, float]:
    return metrics([rank(r, weights, demotion) for r in data], [set(r["truth"]) for r in data])  # type: ignore[call-overload]


def main() -> int:
    dump = json.loads(Path(sys.argv[1]).read_text())
    tune, held = rows(dump, "tune"), rows(dump, "eval")
    grid = {"symbols": [0.3], "uses": [0.3, 0.6], "graph": [0.1], "history": [1.0, 1.5, 2.0, 3.0],
            "cochange": [0.0, 0.1], "tests": [0.3, 0.6], "path": [0.0, 0.3, 0.6], "demotion": [0.3, 0.5]}
    results = []
    for values in itertools.product(*grid.values()):
        setting = dict(zip(grid, values, strict=True))
        demotion = setting.pop("demotion")
        weights = {"bm25": 1.0, "recency": 0.5, **setting}
        m = evaluate(tune, weights, demotion)
        results.append((m["R@10"] + m["MRR"], setting, demotion, m))
    results.sort(key=lambda r: -r[0])
    for _score, setting, demotion, m in results[:8]:
        e = evaluate(held, {"bm25": 1.0, "recency": 0.5, **setting}, demotion)
        print(f"{setting} demotion={demotion}: tune R@10 {m['R@10']:.3f} MRR {m['MRR']:.3f} | "
              f"eval R@10 {e['R@10']:.3f} MRR {e['MRR']:.3f} all@10 {e['all@10']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
