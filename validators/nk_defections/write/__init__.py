"""Writing: the canonical form of the tables (fmt), the crash-safe journal, the all-or-nothing
merge of a contribution (add), and fresh ids (new-id)."""
