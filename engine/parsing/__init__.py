"""Parsing with tree-sitter into what the index stores: symbols, imports, references, chunks."""

from .extract import CALL_BIT, Extraction, RawSymbol, extract, parse, spec_for
from .notebook import NotebookSource, notebook_source

__all__ = ["CALL_BIT", "Extraction", "NotebookSource", "RawSymbol", "extract", "notebook_source", "parse", "spec_for"]
