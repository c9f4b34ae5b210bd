"""Whole-extract checks that need the feed's history: they warn (the rows still load) and are reported to the
partner with the rest. The ones that hold an extract back (encoding, header drift) live in staging. The history
comes as arguments: the warehouse reads it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass
class ExtractProblem:
    """A problem with a whole extract, not one row: a fatal one holds the extract back, a warning is reported."""

    rule_id: str
    message: str
    fix: str
    severity: str = "fatal"


HISTORY = 6  # extracts of the feed to compare with


def check(
    rows: int,
    period: tuple[dt.date | None, dt.date | None],
    kind: str,
    *,
    recent_counts: list[int],
    previous_end: dt.date | None,
) -> list[ExtractProblem]:
    """The warnings for an extract of ``rows`` rows declaring ``period``, given the feed's history: the rows of its
    last loaded extracts (``recent_counts``, at most :data:`HISTORY`) and the end of the period declared before
    this one starts (``previous_end``)."""
    problems = []
    if len(recent_counts) >= 3:
        median = sorted(recent_counts)[len(recent_counts) // 2]
        if median > 0 and (rows < median / 2 or rows > median * 2):
            problems.append(ExtractProblem(
                "extract.row_count",
                f"This extract has {rows} rows; the last {len(recent_counts)} extracts had a median of {median}.",
                "Check that the export covered the whole period and all records; if the change is real, no action "
                "is needed.",
                severity="warning",
            ))  # fmt: skip
    start, _ = period
    if kind == "delta" and start is not None and previous_end is not None:
        if start > previous_end + dt.timedelta(days=1):
            problems.append(ExtractProblem(
                "extract.period_gap",
                f"This extract starts on {start:%d %B %Y} but the previous one ended on {previous_end:%d %B %Y}: "
                "the days between are not covered.",
                f"Send an extract for {previous_end + dt.timedelta(days=1):%d %B %Y} to "
                f"{start - dt.timedelta(days=1):%d %B %Y}, or a nil return if nothing happened.",
                severity="warning",
            ))  # fmt: skip
    return problems
