"""Checking: the rules, the explanations of schema errors, and the orchestration.

The rules are registered with their codes; the release-file check compares a release with its
descriptor; the orchestration reads, checks and returns a Report.
"""
