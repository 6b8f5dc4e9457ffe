"""Identifier parts, the index terms that make symbol search forgiving, and the final fuzzy ranking.

Symbol search must find ``get_config`` from ``gCo`` (part prefixes), ``get_cfg`` (an abbreviation: each
part a subsequence anchored at the part's first letter) and ``get_confg`` (a typo). Tantivy generates
candidates from three term families computed here at index time; :func:`fuzzy_score` then ranks the few
candidates the way an editor's fuzzy finder would.
"""

from __future__ import annotations

import re

_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
MAX_PREFIX = 24
MAX_PART_PREFIX = 12


def split_parts(name: str) -> list[str]:
    """``getHTTPResponse_v2`` -> ['get', 'http', 'response', 'v', '2'] (lowercased)."""
    return [p.lower() for p in _PARTS.findall(name)]


def symbol_terms(name: str) -> tuple[list[str], str]:
    """(values for the prefix field, space-joined abbreviation terms) of a symbol document.

    The prefix field's values are the lowercased name, its parts and "^" + the parts' initials;
    Tantivy's prefix n-gram tokenizer expands each into its prefixes.
    """
    parts = split_parts(name)
    values = [name.lower(), *parts]
    if len(parts) > 1:
        values.append("^" + "".join(p[0] for p in parts))
    abbreviations = {f"{part[0]}:{c}" for part in parts for c in part[1:MAX_PART_PREFIX]}
    return values, " ".join(abbreviations)


def query_terms(query: str) -> tuple[str, list[str]]:
    """(lowercased whole query, its parts) for building a symbol query."""
    return query.lower(), split_parts(query) or [query.lower()]


def fuzzy_score(query: str, name: str) -> float:
    """Score how well ``query`` matches ``name`` as an editor's fuzzy finder would; 0 means no match.

    Exact beats prefix beats part-prefix beats subsequence; characters that land on the start of a
    part (after `_`, at a capital) earn a bonus, gaps cost a little, case-sensitive hits a little more.
    """
    if not query:
        return 0.0
    if query == name:
        return 100.0
    lower_q, lower_n = query.lower(), name.lower()
    if lower_q == lower_n:
        return 95.0
    if lower_n.startswith(lower_q):
        return 80.0 + 10.0 * len(lower_q) / len(lower_n)
    starts = _part_starts(name)
    score = 0.0
    position = 0
    previous = -2
    for char in lower_q:
        if char in "_-. ":
            continue
        found = lower_n.find(char, position)
        if found == -1:
            return _typo_score(lower_q, lower_n)
        # Prefer the next part start holding this character over an earlier mid-word hit.
        for start in starts:
            if start >= position and lower_n[start] == char:
                if start == found or start - found < 12:
                    found = start
                break
        if found in starts:
            score += 8.0
        elif found == previous + 1:
            score += 5.0
        else:
            score += 1.0 - min(found - position, 10) * 0.05
        position = found + 1
        previous = found
    coverage = len(lower_q) / len(lower_n)
    return min(score + 10.0 * coverage, 79.0)


def _part_starts(name: str) -> list[int]:
    return [m.start() for m in _PARTS.finditer(name)]


def _typo_score(query: str, name: str) -> float:
    """Small edit distance (a typo) still scores, below any subsequence match."""
    distance = _bounded_levenshtein(query, name, 2)
    return 0.0 if distance > 2 else 20.0 - 5.0 * distance


def _bounded_levenshtein(a: str, b: str, bound: int) -> int:
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        best = current[0]
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            best = min(best, current[j])
        if best > bound:
            return bound + 1
        previous = current
    return previous[-1]
