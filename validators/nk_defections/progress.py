"""Progress of long validations: the library names its steps, a listener (the CLI's bar) shows them.

Library code calls :func:`step` and never prints; with no listener installed (the default, and
whenever output is not a terminal) a step costs one lookup.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Any, Protocol


class Listener(Protocol):
    """Whatever wants to hear about steps."""

    def __call__(self, description: str, *, total: int | None = None) -> None: ...


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


class Bar:
    """A rich progress bar on a terminal that appears only once a run has lasted *delay* seconds.

    Short runs show nothing; the bar is transient, so what stays on the terminal is the report.
    """

    def __init__(
        self, file: IO[str], *, delay: float = 0.5, force_terminal: bool | None = None
    ) -> None:
        self.file, self.delay, self.force_terminal = file, delay, force_terminal
        self.started = time.monotonic()
        self.total: int | None = None
        self.done = 0
        self._progress: Any = None
        self._task: Any = None

    def __call__(self, description: str, *, total: int | None = None) -> None:
        if total is not None:
            self.total = total
        if self._progress is None:
            if time.monotonic() - self.started < self.delay:
                self.done += 1
                return
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            console = Console(file=self.file, force_terminal=self.force_terminal)
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(description, total=self.total, completed=self.done)
        self._progress.update(
            self._task, description=description, total=self.total, completed=self.done
        )
        self.done += 1

    def close(self) -> None:
        """Remove the bar (if it ever appeared)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
