"""The package model, which every stage above reads the package through.

The descriptor and the relations between its tables, dates, ids,
countries, versions, the nested/flat forms of records, the frames rows are held in, and the
JSON Schemas generated from the Table Schemas. Every stage above reads the package through it.
"""
