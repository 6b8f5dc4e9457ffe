"""Reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009).

Each signal ranks candidates its own way (BM25 scores, fuzzy symbol scores, PageRank mass, edit time)
and their scales have nothing in common, so only ranks are fused: ``score(d) = sum_s w_s / (k + r_s(d))``
with ``r`` starting at 1. Ties in the fused score fall back to the key, so fusion is deterministic.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)

RRF_K = 60


@dataclass(frozen=True, slots=True)
class Fused(Generic[K]):
    key: K
    score: float
    ranks: dict[str, int]  # signal -> 1-based rank of this key in that signal


def fuse(rankings: Mapping[str, Sequence[K]], weights: Mapping[str, float] | None = None, k: int = RRF_K,
         limit: int | None = None) -> list[Fused[K]]:
    """Fuse ranked lists (best first; duplicates after the first occurrence are ignored).

    ``weights`` defaults to 1.0 per signal; a signal weighted 0 still reports its ranks but adds nothing.
    """
    scores: dict[K, float] = {}
    ranks: dict[K, dict[str, int]] = {}
    for signal, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(signal, 1.0)
        seen: set[K] = set()
        for key in ranking:
            if key in seen:
                continue
            seen.add(key)
            scores[key] = scores.get(key, 0.0) + weight / (k + len(seen))
            ranks.setdefault(key, {})[signal] = len(seen)
    ordered = sorted(scores, key=lambda key: (-scores[key], str(key)))
    if limit is not None:
        ordered = ordered[:limit]
    return [Fused(key, scores[key], ranks[key]) for key in ordered]
