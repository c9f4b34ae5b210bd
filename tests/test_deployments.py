"""prefect.yaml declares what the product promises, and every entrypoint is a real flow."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import yaml
from prefect import Flow

ROOT = Path(__file__).parents[1]


def deployments() -> dict[str, dict]:
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    return {d["name"]: d for d in doc["deployments"]}


def test_every_entrypoint_is_a_flow() -> None:
    for name, d in deployments().items():
        path, fn = d["entrypoint"].split(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, fn), Flow), name


def test_nightly_runs_at_two_in_the_morning_london_time() -> None:
    (schedule,) = deployments()["nightly"]["schedules"]
    assert (schedule["cron"], schedule["timezone"]) == ("0 2 * * *", "Europe/London")


def test_a_landed_extract_triggers_its_own_load() -> None:
    from flows.events import ExtractLanded

    (trigger,) = deployments()["load-landed"]["triggers"]
    assert trigger["expect"] == [ExtractLanded.name]
    # from the intake folder only: a nightly loads what it pulls, and `yos load` its own file
    assert trigger["match"] == {"prefect.resource.id": "yos.feed.*", "yos.landed-from": "intake"}
    assert trigger["parameters"] == {"feed": "{{ event.payload.feed }}"}


def test_the_expected_extract_check_and_the_backfill_are_deployed() -> None:
    d = deployments()
    assert d["expected-extracts"]["schedules"][0]["cron"] == "15 * * * *"
    assert "schedules" not in d["backfill"] and "triggers" not in d["backfill"]  # run by hand


def test_retention_runs_weekly() -> None:
    (schedule,) = deployments()["retention"]["schedules"]
    assert schedule["cron"].endswith("* * 0") and schedule["timezone"] == "Europe/London"


def test_the_landing_events_labels_start_only_the_partnerships_own_load_landed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hub member's load-landed trigger matches only its own partnership's extracts from its intake folder; the
    single-partnership trigger of prefect.yaml matches every extract landed from an intake folder, in a hub or not."""
    from prefect.server.events.schemas.events import Resource, ResourceSpecification

    from flows import events
    from hub.deploy import landed_trigger

    sent: list[dict] = []
    monkeypatch.setattr("prefect.events.emit_event", lambda **kw: sent.append(kw["resource"]) or object())
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")

    def landed(member: str | None, source: str) -> Resource:
        if member:
            monkeypatch.setenv("YOS_HUB_MEMBER", member)
        else:
            monkeypatch.delenv("YOS_HUB_MEMBER", raising=False)
        assert events.emit(events.ExtractLanded("x", "police", "police_outcomes", "0" * 64, 1, source))
        return Resource.model_validate(sent[-1])

    b_intake = landed("b", "intake:police_outcomes.csv")
    assert dict(b_intake) == {"prefect.resource.id": "yos.feed.police.police_outcomes", "yos.partnership": "b",
                              "yos.landed-from": "intake"}  # fmt: skip
    b_pulled = landed("b", "https://partners.example/police/police_outcomes.csv")
    b_file = landed("b", "file:police_outcomes.csv")
    a_intake = landed("a", "intake:police_outcomes.csv")
    alone = landed(None, "intake:police_outcomes.csv")
    assert "yos.partnership" not in dict(alone)
    b_only = ResourceSpecification.model_validate(landed_trigger("b"))
    assert [b_only.matches(r) for r in (b_intake, b_pulled, b_file, a_intake, alone)] == [True, False, False, False,
                                                                                          False]  # fmt: skip
    (single,) = deployments()["load-landed"]["triggers"]
    every_intake = ResourceSpecification.model_validate(single["match"])
    assert [every_intake.matches(r) for r in (b_intake, b_pulled, b_file, a_intake, alone)] == [True, False, False,
                                                                                               True, True]  # fmt: skip
