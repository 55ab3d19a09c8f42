"""Progress bars on the console (rich), shared by the command line, the report and the sweep.

:class:`ProgressBars` is a no-op when disabled, so library code can report progress
without knowing whether anyone watches.
"""

from __future__ import annotations

from typing import Any


class Bar:
    """One bar of :class:`ProgressBars` (or a stand-in that does nothing)."""

    def __init__(self, progress: Any = None, task_id: Any = None) -> None:
        self._progress = progress
        self._task = task_id

    def advance(self, steps: int = 1) -> None:
        """Move the bar on by ``steps``."""
        if self._progress is not None:
            self._progress.advance(self._task, steps)

    def update(self, *, completed: int | None = None, status: str | None = None) -> None:
        """Set how much is done and the text shown after the bar."""
        if self._progress is None:
            return
        fields: dict[str, Any] = {}
        if completed is not None:
            fields["completed"] = completed
        if status is not None:
            fields["status"] = status
        self._progress.update(self._task, **fields)

    def __call__(self, *_: Any) -> None:
        """Advance by one (so a bar can be passed as a ``progress`` callback)."""
        self.advance()


class ProgressBars:
    """rich progress bars on standard error, or nothing when disabled.

    Parameters
    ----------
    enabled
        Draw bars (off: every bar is a no-op).
    console
        A :class:`rich.console.Console` (default: one on standard error).
    transient
        Remove the bars when the block ends.
    eta
        Show the estimated time remaining.
    """

    def __init__(self, enabled: bool = True, console: Any = None, *, transient: bool = False,
                 eta: bool = True) -> None:
        self.enabled = enabled
        self.console = console
        self.transient = transient
        self.eta = eta
        self._progress: Any = None

    def __enter__(self) -> ProgressBars:
        if self.enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            columns = [TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                       TimeElapsedColumn()]
            if self.eta:
                columns.append(TimeRemainingColumn())
            columns.append(TextColumn("{task.fields[status]}", markup=False))
            self._progress = Progress(*columns, console=self.console or Console(stderr=True),
                                      transient=self.transient)
            self._progress.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)
            self._progress = None

    def add(self, description: str, total: int) -> Bar:
        """A new bar of ``total`` steps (a no-op bar when disabled)."""
        if self._progress is None:
            return Bar()
        return Bar(self._progress, self._progress.add_task(description, total=max(total, 1),
                                                           status=""))
