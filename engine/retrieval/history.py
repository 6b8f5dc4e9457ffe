"""Retrieval signals from the history reachable from HEAD.

- ``history``: BM25 over past commit messages; each matching commit points at the files it touched,
  weighted by the commit's BM25 score, by its age (newer commits weigh more: the code they touched is
  more likely still there and still changing) and by how many files it touched (a commit touching two
  files says more about each than one touching forty).
- ``cochange``: files that changed together with the strongest candidates lend each other score
  (normalised by how often the candidate changed at all, so a file every commit touches lends little).

Both are built once per HEAD (``HistoryIndex.for_history``) and are pure Python over at most
``MAX_WALK`` commits: a few milliseconds per query.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..vcs import Commit, History

HALF_LIFE = 1000.0  # commits from HEAD at which a commit's weight halves (tuned: bench, older commits)
TOP_COMMITS = 40  # matching commits that vote for files
MAX_COCHANGE_FILES = 20  # bigger commits are not "changed together" in any useful sense
K1 = 1.2
B = 0.75
_WORD = re.compile(r"[A-Za-z][a-z0-9]+|[A-Z]+(?![a-z])|[0-9]+")
_STOP = frozenset("""a an and are as at be been but by can could do does for from has have how i if in into is it
its make may me more most my new no not of on or our should so some than that the their them then there these
this those to up use used using was we were what when where which while who why will with would you your
fix fixes fixed fixing add added adds adding update updates updated remove removed removes change changes
changed support also allow allows now instead when don doesn isn can't won t s""".split())
_SIGNED_OFF = re.compile(r"^(signed-off-by|co-authored-by|reviewed-by|acked-by|change-id|cc):.*$",
                         re.IGNORECASE | re.MULTILINE)


def words(text: str) -> list[str]:
    """Lower-case word pieces: ``parseHTTPResponse`` -> parse, http, response; stop words out."""
    out = []
    for raw in re.findall(r"[A-Za-z0-9_]+", text):
        for piece in _WORD.findall(raw):
            low = piece.lower()
            if len(low) > 1 and low not in _STOP:
                out.append(low)
    return out


@dataclass(frozen=True, slots=True)
class _Doc:
    files: tuple[str, ...]
    weight: float  # age weight
    length: int


class HistoryIndex:
    def __init__(self, commits: Sequence[Commit], half_life: float = HALF_LIFE) -> None:
        self.head_position = 0
        self._docs: list[_Doc] = []
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._changes: Counter[str] = Counter()
        self._together: dict[str, Counter[str]] = {}
        for position, commit in enumerate(commits):
            if not commit.files or len(commit.parents) > 1:  # merges repeat their branch's commits
                continue
            message = _SIGNED_OFF.sub("", commit.message)
            terms = Counter(words(message))
            doc = len(self._docs)
            self._docs.append(_Doc(commit.files, 0.5 ** (position / half_life), sum(terms.values())))
            for term, tf in terms.items():
                self._postings.setdefault(term, []).append((doc, tf))
            self._changes.update(commit.files)
            if len(commit.files) <= MAX_COCHANGE_FILES:
                for f in commit.files:
                    together = self._together.setdefault(f, Counter())
                    together.update(g for g in commit.files if g != f)
        self._avg = (sum(d.length for d in self._docs) / len(self._docs)) if self._docs else 1.0

    def __len__(self) -> int:
        return len(self._docs)

    def commits_for(self, text: str, limit: int = TOP_COMMITS) -> list[tuple[int, float]]:
        """(doc, BM25 score x age) of the commits whose messages best match ``text``."""
        n = len(self._docs)
        scores: dict[int, float] = {}
        for term in set(words(text)):
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = math.log(1 + (n - len(postings) + 0.5) / (len(postings) + 0.5))
            for doc, tf in postings:
                length = self._docs[doc].length
                scores[doc] = scores.get(doc, 0.0) + idf * tf * (K1 + 1) / (
                    tf + K1 * (1 - B + B * length / self._avg))
        ranked = sorted(((d, s * self._docs[d].weight) for d, s in scores.items()), key=lambda x: -x[1])
        return ranked[:limit]

    def files_for(self, text: str, allowed: set[str] | None = None, limit: int = 200) -> list[str]:
        """Files the best-matching past commits touched, best first."""
        votes: dict[str, float] = {}
        for doc, score in self.commits_for(text):
            files = [f for f in self._docs[doc].files if allowed is None or f in allowed]
            if not files:
                continue
            share = score / math.sqrt(len(files))
            for f in files:
                votes[f] = votes.get(f, 0.0) + share
        return sorted(votes, key=lambda f: (-votes[f], f))[:limit]

    def cochanged(self, seeds: Iterable[str], allowed: set[str] | None = None, limit: int = 100) -> list[str]:
        """Files that changed together with ``seeds`` (best seed first), strongest first."""
        votes: dict[str, float] = {}
        seeds = list(seeds)
        for rank, seed in enumerate(seeds, 1):
            total = self._changes.get(seed, 0)
            if not total:
                continue
            for other, count in self._together.get(seed, Counter()).items():
                if other in seeds or (allowed is not None and other not in allowed):
                    continue
                votes[other] = votes.get(other, 0.0) + (count / (total + 1.0)) / rank
        return sorted(votes, key=lambda f: (-votes[f], f))[:limit]


_BUILT: dict[tuple[str | None, int, float], HistoryIndex] = {}
_LOCK = threading.Lock()


def for_history(found: History, half_life: float = HALF_LIFE) -> HistoryIndex:
    """The index of ``found``, built once per HEAD."""
    key = (found.head, len(found.commits), half_life)
    with _LOCK:
        built = _BUILT.get(key)
    if built is None:
        built = HistoryIndex(found.commits, half_life)
        with _LOCK:
            if len(_BUILT) > 8:
                _BUILT.clear()
            _BUILT[key] = built
    return built
