"""Checking: the rules (registered with their codes), the explanations of JSON Schema errors,
the release-file check, and the orchestration that reads, checks and returns a Report."""
