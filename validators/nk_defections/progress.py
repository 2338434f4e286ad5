"""Progress of long validations: the library names its steps, a listener shows them.

The listener is, on a terminal, the bar of :mod:`nk_defections.report.progress`.

Library code calls :func:`step` and never prints; with no listener installed (the default, and
whenever output is not a terminal) a step costs one lookup.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class Listener(Protocol):
    """Whatever wants to hear about steps."""

    def __call__(self, description: str, *, total: int | None = None) -> None:
        """Hear that a step begins (*total*: how many steps the run has, on the first)."""


_LISTENER: ContextVar[Listener | None] = ContextVar("nk_defections_progress", default=None)


def step(description: str, *, total: int | None = None) -> None:
    """Say that a step begins; *total* (on the first step) is how many steps the run has.

    Examples
    --------
    >>> step("reading people.csv")  # no listener: nothing happens
    """
    listener = _LISTENER.get()
    if listener is not None:
        listener(description, total=total)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the steps of the code run inside to *listener*."""
    token = _LISTENER.set(listener)
    try:
        yield
    finally:
        _LISTENER.reset(token)
