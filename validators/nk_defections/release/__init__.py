"""Releasing: the build (CSV, JSON, Parquet, SQLite, codebook, figure, README, zip), the
differences between two releases and the version bump they need, and the Datasette site."""
