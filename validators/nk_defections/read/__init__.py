"""Reading: CSV with exact physical lines, strict JSON with pointers, contributions in all
their forms, packages, release folders and zips (bundles), and the typed loader. Reading reports
what is wrong with a file as it reads it, and checks no rule."""
