"""The LMDB store: what is indexed, file contents (zstd), symbols, imports, references, chunks."""

from .lmdb_store import SCHEMA_VERSION, Reader, SchemaMismatch, Staged, Store, WriteBatch
from .records import FileState, FileVersion

__all__ = ["SCHEMA_VERSION", "FileState", "FileVersion", "Reader", "SchemaMismatch", "Staged", "Store", "WriteBatch"]
