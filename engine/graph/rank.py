"""Personalised PageRank over the file dependency graph.

An edge a -> b means "a uses names defined in b (or imports b)", so rank flows towards the files that
define what others rely on, and personalisation pulls it towards the files a request is about (the
current file, open files, files defining identifiers the request mentions). The matrix is built once
per graph generation and kept; one ranking is a few sparse products with numpy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .store import GraphStore

ALPHA = 0.85
ITERATIONS = 40
TOLERANCE = 1e-6  # L1 change per step; rank order settles well before this


@dataclass(frozen=True, slots=True)
class FileGraph:
    paths: list[str]
    index: dict[str, int]
    src: np.ndarray  # int32
    dst: np.ndarray  # int32
    weight: np.ndarray  # float64, normalised so each source's out-weights sum to 1
    dangling: np.ndarray  # bool: nodes without out-edges
    out: list[list[int]]
    into: list[list[int]]

    @classmethod
    def load(cls, store: GraphStore) -> FileGraph:
        return store.cached("file_graph", lambda: cls.build(store.paths(), store.edges()))  # type: ignore[no-any-return]

    @classmethod
    def build(cls, paths: list[str], edges: Mapping[str, list[tuple[str, float]]]) -> FileGraph:
        paths = sorted(paths)
        index = {p: i for i, p in enumerate(paths)}
        src: list[int] = []
        dst: list[int] = []
        weight: list[float] = []
        out: list[list[int]] = [[] for _ in paths]
        into: list[list[int]] = [[] for _ in paths]
        for path, targets in edges.items():
            s = index.get(path)
            if s is None:
                continue
            for target, w in targets:
                d = index.get(target)
                if d is None or d == s or w <= 0:
                    continue
                src.append(s)
                dst.append(d)
                weight.append(w)
                out[s].append(d)
                into[d].append(s)
        n = len(paths)
        src_a = np.asarray(src, dtype=np.int32)
        dst_a = np.asarray(dst, dtype=np.int32)
        w_a = np.asarray(weight, dtype=np.float64)
        totals = np.bincount(src_a, weights=w_a, minlength=n) if n else np.zeros(0)
        if len(w_a):
            w_a = w_a / totals[src_a]
        return cls(paths, index, src_a, dst_a, w_a, totals == 0, out, into)

    def pagerank(self, personalization: Mapping[str, float] | None = None) -> np.ndarray:
        """Rank of every file (summing to 1), personalised towards ``personalization`` (path -> weight;
        unknown paths ignored; empty or None: uniform, which is plain PageRank)."""
        n = len(self.paths)
        if n == 0:
            return np.zeros(0)
        p = np.zeros(n)
        for path, value in (personalization or {}).items():
            i = self.index.get(path)
            if i is not None and value > 0:
                p[i] += value
        total = p.sum()
        p = p / total if total > 0 else np.full(n, 1.0 / n)
        x = p.copy()
        for _ in range(ITERATIONS):
            flow = np.bincount(self.dst, weights=self.weight * x[self.src], minlength=n)
            following = ALPHA * (flow + x[self.dangling].sum() * p) + (1 - ALPHA) * p
            if np.abs(following - x).sum() < TOLERANCE:
                x = following
                break
            x = following
        return x

    def ranked(self, personalization: Mapping[str, float] | None = None, limit: int | None = None
               ) -> list[tuple[str, float]]:
        """Files by descending rank (ties by path, so the order is deterministic)."""
        scores = self.pagerank(personalization)
        order = sorted(range(len(self.paths)), key=lambda i: (-scores[i], self.paths[i]))
        if limit is not None:
            order = order[:limit]
        return [(self.paths[i], float(scores[i])) for i in order]

    def neighbours(self, path: str, hops: int = 1) -> dict[str, int]:
        """Files within ``hops`` edges of ``path`` in either direction, with their distance."""
        start = self.index.get(path)
        if start is None:
            return {}
        seen = {start: 0}
        frontier = [start]
        for depth in range(1, hops + 1):
            following = []
            for node in frontier:
                for other in (*self.out[node], *self.into[node]):
                    if other not in seen:
                        seen[other] = depth
                        following.append(other)
            frontier = following
        return {self.paths[i]: d for i, d in seen.items() if i != start}
