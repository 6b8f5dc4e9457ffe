"""The one table: for each feature, which Semantics method answers it, how long the backend gets, and
what the index may do meanwhile.

Correctness comes first. A backend's answer, when it can come, is the answer: the index answers only
when the language has no backend, the backend failed or is still starting, or the backend is later than
the feature's ``limit``. The limits are generous where a wrong answer costs the user (a jump to the
wrong definition, a rename that misses a site) and short only for completion, whose index answer is
marked incomplete (the client asks again on the next keystroke, and the backend's late answer serves
it). ``initializationOptions.budgets`` (milliseconds per feature) overrides a limit.

ruff's server declares per request, in one dispatch table, whether it runs on the main loop or in the
background: this is that table for Nexus's semantic requests (everything here is background work; the
event loop only waits).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    method: str  # the Semantics method answering the feature
    limit: float  # seconds the backend gets before the index answers
    index: bool = True  # whether the index may answer at all (a type or a signature it cannot know)
    race: bool = True  # start the index answer alongside the backend, so falling back costs nothing more
    patience: float = 0.0  # when the index has nothing, wait this much longer for the backend
    empty_is_no_answer: bool = True  # an empty backend answer lets the index try
    exact_index_wins: bool = False  # an index answer settled by the file's scopes (a local) need not wait
    budget_key: str = ""  # the ``budgets`` option read for this feature, when not its own name


POLICIES: dict[str, Policy] = {
    # The first completions after opening used to be empty for 1.7 s: the index knows no `os.pa`, and
    # jedi was busy starting. An empty index answer now waits for the backend (up to `patience`).
    "completion": Policy("completion", limit=0.05, patience=2.5),
    "resolve": Policy("resolve", limit=2.0, index=False),
    # A name-based answer after 50 ms was wrong one time in seven on freshly opened files: the backend
    # gets a second. A parameter or a local is settled by the file's scopes exactly as jedi would.
    "definition": Policy("definition", limit=1.0, exact_index_wins=True),
    "declaration": Policy("declaration", limit=1.0, exact_index_wins=True),
    "typeDefinition": Policy("type_definition", limit=1.0, index=False),
    "hover": Policy("hover", limit=1.0),
    "signatureHelp": Policy("signature_help", limit=0.5, index=False),
    # A project-wide search: jedi parses every file that mentions the name.
    "references": Policy("references", limit=3.0),
    "highlight": Policy("highlight", limit=0.3),
    # Rename is every reference: a name-based edit that misses a site (or adds one) costs more than waiting.
    "rename": Policy("rename", limit=3.0),
    # jedi saying "not renameable" (a builtin, a name from outside the project) is an answer.
    "prepareRename": Policy("prepare_rename", limit=1.0, empty_is_no_answer=False, budget_key="rename"),
}
