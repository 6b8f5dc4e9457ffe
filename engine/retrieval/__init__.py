"""Hybrid retrieval: BM25 chunks, symbol definitions and uses, code-graph rank and recency, fused by
reciprocal rank."""

from .fusion import Fused, fuse
from .retriever import DEFAULT_WEIGHTS, RankedChunk, RankedFile, RetrievalQuery, Retriever, Signals

__all__ = ["DEFAULT_WEIGHTS", "Fused", "RankedChunk", "RankedFile", "RetrievalQuery", "Retriever", "Signals",
           "fuse"]
