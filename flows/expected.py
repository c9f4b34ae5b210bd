"""The expected-extract check: remind partners whose extracts are late, once per due time, and escalate a second
miss to the YOS data lead. Logic in :mod:`notify.calendar`."""

from __future__ import annotations

from prefect import flow

from flows.steps import Pipeline


@flow(name="expected-extracts")
def expected_extracts() -> list[dict]:
    with Pipeline() as p:
        return p.check_calendar()
