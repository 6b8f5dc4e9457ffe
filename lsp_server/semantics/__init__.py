"""The semantic seam: backends behind one protocol, one combinator, one policy table."""

from .ask import Asker, Outcome
from .index import IndexSemantics
from .jedi import JediSemantics
from .policy import POLICIES, Policy
from .protocol import BackendUnavailable, Exact, Query, Semantics

__all__ = ["POLICIES", "Asker", "BackendUnavailable", "Exact", "IndexSemantics", "JediSemantics", "Outcome",
           "Policy", "Query", "Semantics"]
