"""Progress on long work, for a person watching: the step (landing, staging, validating, loading, publishing), how
far it has gone of how much, and how fast.

The stages say what they are doing through :func:`step`; nothing is shown unless a command asks for it with
:func:`shown` (``yos load``, ``yos rekey``, ``yos backfill``, ``yos run nightly``). On a terminal that is a live
progress bar (rich); when the output is not a terminal, one plain line per finished step. Prefect's logs are not
touched. A step never names a child or a value: only counts.

    with progress.step("staging", total=None, unit="rows") as s:
        ...
        s.advance(rows)
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO, Protocol


class Display(Protocol):
    def open(self) -> None: ...
    def close(self) -> None: ...
    def begin(self, label: str, total: int | None, unit: str) -> None: ...
    def advance(self, done: int) -> None: ...
    def end(self, done: int, seconds: float) -> None: ...


class Step:
    """One step under way: ``advance`` it by what was done."""

    def __init__(self, display: Display | None, label: str, total: int | None, unit: str) -> None:
        self.display, self.label, self.total, self.unit = display, label, total, unit
        self.done = 0
        self.started = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.display:
            self.display.advance(self.done)

    def set_total(self, total: int) -> None:
        self.total = total
        if self.display:
            self.display.begin(self.label, total, self.unit)
            self.display.advance(self.done)


_display: ContextVar[Display | None] = ContextVar("yos_progress", default=None)


@contextmanager
def step(label: str, total: int | None = None, unit: str = "rows") -> Iterator[Step]:
    """A step of long work, e.g. ``step("validating police/police_outcomes", total=40, unit="rules")``."""
    display = _display.get()
    s = Step(display, label, total, unit)
    if display:
        display.begin(label, total, unit)
    try:
        yield s
    finally:
        if display:
            display.end(s.done, time.monotonic() - s.started)


def rate(done: int, seconds: float, unit: str) -> str:
    return f"{done / seconds:,.0f} {unit}/s" if seconds > 0 and done else ""


class Lines:
    """When the output is not a terminal: one line per finished step, e.g. ``staging police/police_outcomes:
    1,200,000 rows in 4.1 s (292,683 rows/s)``."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.label, self.unit, self.total = "", "", None

    def begin(self, label: str, total: int | None, unit: str) -> None:
        self.label, self.total, self.unit = label, total, unit

    def advance(self, done: int) -> None:
        pass

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def end(self, done: int, seconds: float) -> None:
        of = f" of {self.total:,}" if self.total is not None else ""
        speed = rate(done, seconds, self.unit)
        self.out.write(f"{self.label}: {done:,}{of} {self.unit} in {seconds:.1f} s{f' ({speed})' if speed else ''}\n")
        self.out.flush()


class Bar:
    """On a terminal: one live line per step (rich), each left on screen, complete, when its step ends."""

    def __init__(self, out: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = Console(file=out)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[unit]}"),
                   TextColumn("{task.fields[speed]}"), TimeElapsedColumn())  # fmt: skip
        self.new_progress = lambda: Progress(*columns, console=console)
        self.progress = self.new_progress()
        self.stopped = False
        self.task: int | None = None
        self.started = time.monotonic()
        self.unit = ""

    def open(self) -> None:
        if self.stopped:  # opened again after a pause: the steps before stay on screen as they were left
            self.progress, self.task = self.new_progress(), None
        self.progress.start()

    def close(self) -> None:
        self.progress.stop()
        self.stopped = True

    def begin(self, label: str, total: int | None, unit: str) -> None:
        if self.task is not None and self.progress.tasks[self.task].description == label:
            self.progress.update(self.task, total=total)  # the same step, its total now known
            return
        self.task = self.progress.add_task(label, total=total, unit=unit, speed="")
        self.started, self.unit = time.monotonic(), unit

    def advance(self, done: int) -> None:
        if self.task is not None:
            speed = rate(done, time.monotonic() - self.started, self.unit)
            self.progress.update(self.task, completed=done, speed=speed)

    def end(self, done: int, seconds: float) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=done, speed=rate(done, seconds, self.unit))


@contextmanager
def paused() -> Iterator[None]:
    """Stop drawing inside, and start again after: another process (the publisher's) shows its own steps on the
    same output meanwhile."""
    display = _display.get()
    if display is None:
        yield
        return
    display.close()
    try:
        yield
    finally:
        display.open()


def showing() -> bool:
    """Whether the work under way is being shown (inside :func:`shown`)."""
    return _display.get() is not None


@contextmanager
def shown(out: IO[str] | None = None) -> Iterator[None]:
    """Show the steps of the work inside: as live bars on a terminal, as plain lines otherwise."""
    out = out or sys.stderr
    display = Bar(out) if out.isatty() else Lines(out)
    token = _display.set(display)
    display.open()
    try:
        yield
    finally:
        display.close()
        _display.reset(token)
