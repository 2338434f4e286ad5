"""``python -m nk_defections``."""

from .cli import run

run()
