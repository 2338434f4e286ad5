"""Writing: the canonical form of the tables, the journal, the merge, fresh ids.

The canonical form is what ``fmt`` writes; the crash-safe journal makes the all-or-nothing merge
of a contribution (``add``); ``new-id`` mints ids.
"""
