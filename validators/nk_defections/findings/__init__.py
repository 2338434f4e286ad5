"""The ground floor: a finding (Issue), its severity, the Report, and the registry of codes.

Every stage stands on it: reading already finds faults (a file that is not UTF-8, a JSON key
given twice), so findings are below everything else.
"""
