"""Progress on long work (backfill, rebuild, case import): rich bars on stderr, shown
only while a person watches (stdout and stderr are terminals), so scripts, make and tests that
read a command's output see exactly its result lines."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def watched() -> bool:
    """Whether a person is at the terminal: both output streams are terminals."""
    return sys.stdout.isatty() and sys.stderr.isatty()


@contextmanager
def bar(description: str, *, unit: str, console: Console | None = None) -> Iterator[Callable[[int, int], None]]:
    """A progress bar for the duration of the block; yields the ``(done, total)`` callback that the
    core functions accept as ``progress``. The bar is drawn on ``console`` (default: stderr) and
    removed when the block ends."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
               TimeElapsedColumn())
    with Progress(*columns, console=console or Console(stderr=True), transient=True,
                  disable=not watched()) as shown:
        task = shown.add_task(description, total=None)

        def report(done: int, total: int) -> None:
            shown.update(task, completed=done, total=total)

        yield report

