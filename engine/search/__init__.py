"""Search: the Tantivy side of the index, and the name matching behind fuzzy symbol search."""
