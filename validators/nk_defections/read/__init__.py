"""Reading: files into frames, saying what is wrong with a file as it reads it.

CSV with exact physical lines, strict JSON with pointers, contributions in all their forms,
packages, release folders and zips (bundles), and the typed loader. Reading checks no rule.
"""
