"""Every feed's good file passes its contract; every injected defect is caught by the rule named for it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expectations.contract import all_contracts, get_contract
from expectations.docs import render

FEEDS = sorted(all_contracts())
PARTNER_FEEDS = {
    "police_outcomes",
    "court_disposals",
    "cic_header",
    "cic_episodes",
    "cic_oc2",
    "cic_police_incidents",
    "custody_transfers",
    "yos_interventions",
    "yos_assessments",
    "yos_victims",
    "board_attendance",
}


def test_every_feed_in_the_spec_has_a_contract() -> None:
    assert PARTNER_FEEDS | {"population_10_17", "published_comparators"} == set(FEEDS)


def test_every_feed_is_configured_for_a_partner() -> None:
    from partnership.config import load_config

    cfg = load_config()
    assert sorted(f for p in cfg.partners.values() for f in p.feeds) == FEEDS


def test_good_files_load_with_nothing_quarantined(pipeline, partnership: Path) -> None:
    for feed in FEEDS:
        c = get_contract(feed)
        result = pipeline.load(pipeline.land_file(feed, partnership / c.partner / f"{feed}.csv"))
        assert result.status == "loaded", (feed, result.summary)
        assert result.rows_quarantined == 0, (
            feed,
            pipeline.con.execute(
                "select rule_id, line, value from quarantine.row_problems where load_id = ? limit 5",
                [result.load_id],
            ).fetchall(),
        )
        assert result.rows_received == result.rows_loaded > 0


def test_every_defect_is_caught_by_the_rule_named_for_it(pipeline, defective: Path) -> None:
    manifest = json.loads((defective / "manifest.json").read_text())
    results = {}
    for feed in FEEDS:
        c = get_contract(feed)
        results[feed] = pipeline.load(pipeline.land_file(feed, defective / c.partner / f"{feed}.csv"))
    assert manifest["defects"], "the generator injected nothing"
    for d in manifest["defects"]:
        r = results[d["feed"]]
        if d["rule_id"].startswith(("file.", "header.")):
            assert r.status == "held_back", d
            assert d["rule_id"] in [p.rule_id for p in r.problems], d
            assert r.rows_loaded == 0
            continue
        lines = {
            line
            for (line,) in pipeline.con.execute(
                "select line from quarantine.row_problems where load_id = ? and rule_id = ?",
                [r.load_id, d["rule_id"]],
            ).fetchall()
        }
        assert set(d["lines"]) <= lines, (d, sorted(lines))
        assert r.rows_received == r.rows_loaded + r.rows_quarantined


@pytest.mark.parametrize("feed", FEEDS)
def test_partner_docs_are_generated_and_current(feed: str) -> None:
    doc = Path(__file__).parents[2] / "docs" / "contracts" / f"{feed}.md"
    assert doc.read_text() == render(get_contract(feed)), "run `make docs` and commit docs/contracts"


def test_sex_codes_are_versioned_by_collection_year() -> None:
    c = get_contract("cic_header")
    assert c.codes_for(c.columns["SEX"], 2023) == ["1", "2"]
    assert c.codes_for(c.columns["SEX"], 2024) == ["M", "F", "U"]
    place = get_contract("cic_episodes").columns["PLACE"]
    assert "Z1" in get_contract("cic_episodes").codes_for(place, 2024)
    assert "Z1" not in get_contract("cic_episodes").codes_for(place, 2025)
    assert "K3" in get_contract("cic_episodes").codes_for(place, 2025)
