"""prefect.yaml declares what the product promises, and every entrypoint is a real flow."""

from __future__ import annotations

import importlib
from pathlib import Path

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
    assert trigger["match"] == {"prefect.resource.id": "yos.feed.*"}
    assert trigger["parameters"] == {"feed": "{{ event.payload.feed }}"}


def test_the_expected_extract_check_and_the_backfill_are_deployed() -> None:
    d = deployments()
    assert d["expected-extracts"]["schedules"][0]["cron"] == "15 * * * *"
    assert "schedules" not in d["backfill"] and "triggers" not in d["backfill"]  # run by hand


def test_retention_runs_weekly() -> None:
    (schedule,) = deployments()["retention"]["schedules"]
    assert schedule["cron"].endswith("* * 0") and schedule["timezone"] == "Europe/London"
