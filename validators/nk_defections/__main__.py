"""``python -m nk_defections``."""

from nk_defections.cli import run

run()
