"""Releasing: the build, the differences between releases, and the Datasette site.

The build writes CSV, JSON, Parquet, SQLite, a codebook, a figure, a README and a zip; the
differences between two releases say the version bump they need.
"""
