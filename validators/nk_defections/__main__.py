"""``python -m nk_defections``."""

from .cli import main

main()
