"""Reporting: findings written as text, JSON or GitHub annotations."""
