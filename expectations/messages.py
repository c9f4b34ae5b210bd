"""What the pipeline echoes back of what a partner sent (a column name in a header problem, a value in a message,
a cell of an alert's attachment) is cut to a readable length, saying how long it was: a 64 KB column name once
filled a mail, its message and the audit trail twice over."""

from __future__ import annotations

import re

ECHO_TOKEN = 120  # one unbroken run of characters (a column name, a value)
ECHO_TEXT = 2_000  # a whole message or fix
ECHO_CELL = 1_000  # a cell of the attached CSV; the line number finds the row in the partner's own file


def cut(text: str, limit: int) -> str:
    """``text``, or its first ``limit`` characters and how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters, cut)"


_LONG_RUN = re.compile(rf"[^\s…]{{{ECHO_TOKEN + 1},}}")  # "…" ends a run: a cut run is not cut again


def readable(text: str | None) -> str | None:
    """A message as an alert shows it: each overlong unbroken run cut (a header or value echoed in it), then the
    whole cut to a readable length."""
    if text is None:
        return None

    def one(m: re.Match[str]) -> str:
        run = m.group().rstrip(".,;:")  # the sentence's own stop is not part of the value
        return cut(run, ECHO_TOKEN) + m.group()[len(run) :]

    return cut(_LONG_RUN.sub(one, text), ECHO_TEXT)
