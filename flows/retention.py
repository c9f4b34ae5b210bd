"""The weekly retention run: delete what is past each feed's retention period, record it, republish."""

from __future__ import annotations

from prefect import flow

from flows.steps import Pipeline


@flow(name="retention")
def retention(dry_run: bool = False) -> list[dict]:
    with Pipeline() as p:
        return [a.__dict__ | {"cutoff": a.cutoff.isoformat()} for a in p.apply_retention(dry_run=dry_run)]
