"""The events yos emits to Prefect, declared once: one dataclass per event, its payload fields documented here.
Emitters and ``prefect.yaml`` triggers use these names. The resource of every extract event is
``yos.feed.<partner>.<feed>``. Events go to the configured Prefect API; with none configured they are not sent
(``yos load`` on its own has nobody to tell).

Two labels on the resource let a trigger choose among events: ``yos.partnership``, the partnership's id in a
regional hub (``YOS_HUB_MEMBER``, set in each member's runs and intake watcher; absent outside a hub), so each
member's ``load-landed`` answers only its own partnership's extracts; and, on ``yos.extract.landed``,
``yos.landed-from``: ``intake`` (dropped in the intake folder), ``partner`` (pulled from its endpoint by a run that
loads it itself) or ``file`` (``yos load``)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import ClassVar


@dataclass(frozen=True)
class ExtractLanded:
    """An extract was stored in the landing zone. Payload: extract_id, partner, feed, sha256, bytes, source."""

    name: ClassVar[str] = "yos.extract.landed"
    extract_id: str
    partner: str
    feed: str
    sha256: str
    bytes: int
    source: str


@dataclass(frozen=True)
class ExtractValidated:
    """An extract was validated and loaded, or held back. Payload: extract_id, partner, feed, status,
    rows_received, rows_loaded, rows_quarantined."""

    name: ClassVar[str] = "yos.extract.validated"
    extract_id: str
    partner: str
    feed: str
    status: str
    rows_received: int
    rows_loaded: int
    rows_quarantined: int


@dataclass(frozen=True)
class WarehousePublished:
    """The analysts' warehouse was replaced. Payload: path, loads (the number of loads it includes)."""

    name: ClassVar[str] = "yos.warehouse.published"
    path: str
    loads: int


def emit(event: ExtractLanded | ExtractValidated | WarehousePublished) -> bool:
    """Send ``event`` to the Prefect API if one is configured or a flow is running; returns whether it was sent."""
    from prefect.context import FlowRunContext
    from prefect.events import emit_event

    if not os.environ.get("PREFECT_API_URL") and FlowRunContext.get() is None:
        return False
    payload = asdict(event)
    if "feed" in payload:
        resource = {"prefect.resource.id": f"yos.feed.{payload['partner']}.{payload['feed']}"}
    else:
        resource = {"prefect.resource.id": "yos.warehouse"}
    if member := os.environ.get("YOS_HUB_MEMBER"):
        resource["yos.partnership"] = member
    if isinstance(event, ExtractLanded):
        resource["yos.landed-from"] = landed_from(event.source)
    return emit_event(event=event.name, resource=resource, payload=payload) is not None


def landed_from(source: str) -> str:
    """How an extract arrived, from its landing source: ``intake``, ``file`` or ``partner``."""
    kind = source.split(":", 1)[0]
    return kind if kind in ("intake", "file") else "partner"


def flush() -> None:
    """Wait for queued events to be sent (short-lived processes exit otherwise before they go)."""
    from prefect.events.worker import EventsWorker

    EventsWorker.drain_all(timeout=10)
