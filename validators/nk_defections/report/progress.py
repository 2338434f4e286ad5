"""A progress bar on a terminal that listens to the library's steps (:mod:`nk_defections.progress`)."""

from __future__ import annotations

import time
from typing import IO, Any

from nk_defections.findings.printable import printable


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
        """Show a step: *description*, and the number of steps where *total* gives it."""
        description = printable(description)  # it may name a contributed file
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
