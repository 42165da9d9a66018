"""A step's progress: a Prefect progress artifact, and a bar on the terminal that Prefect's log lines
print above."""
from __future__ import annotations

import logging
from typing import cast
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from rich.console import Console
from rich.progress import MofNCompleteColumn
from rich.progress import Progress as Bar
from rich.theme import Theme


def _log_console() -> Console:
    """The rich Console Prefect's console log handler prints through (a new one on stderr if
    Prefect logs elsewhere): a bar drawn on it keeps the log lines above itself."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            return handler.console
    return Console(stderr=True)


class Progress:
    """A Prefect progress artifact, and a bar on the terminal when there is one. A context
    manager: the bar is taken down however the step ends."""

    def __init__(self, total: int, description: str) -> None:
        self.total, self.done = max(total, 1), 0
        self.artifact_id = cast(UUID, create_progress_artifact(0.0, description=description))  # sync call
        self._bar = None
        console = _log_console()
        if console.is_terminal:
            self._bar = Bar(*Bar.get_default_columns(), MofNCompleteColumn(), console=console, transient=False)
            self._task = self._bar.add_task(description, total=self.total)

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.console.push_theme(Theme())  # rich's bar styles: Prefect's console has only its own
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar.console.pop_theme()

    def advance(self, n: int) -> None:
        self.done += n
        update_progress_artifact(self.artifact_id, progress=min(100.0, 100.0 * self.done / self.total))
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done)
