"""A snapshot cut short is not the truth (issue 29, item 6). A snapshot that would withdraw more than a configured
share of its feed's current rows (a fifth by default: ``snapshots.max_withdrawn_share``) is held back whole, and the
partner and the YOS data lead are told, unless the partner declared it a deliberate reset. And the last good
snapshot sent again, byte for byte, after a different one, loads again: it is the state now, not a duplicate."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from flows.steps import Pipeline
from sandbox.mailcatcher import MailCatcher
from tests.helpers import write_extract

FEED = "yos_interventions"
ROWS = [{"intervention_id": f"IV{i}", "yos_child_id": f"YJ{i:06d}"} for i in range(100)]


@pytest.fixture
def mail(tmp_path: Path, pipeline: Pipeline):  # noqa: ANN201
    with MailCatcher(tmp_path / "mail") as catcher:
        pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": catcher.port})
        yield catcher


def current(p: Pipeline) -> int:
    return p.con.execute(f"select count(*) from history.{FEED} where _replaced_by is null").fetchone()[0]


def send(p: Pipeline, tmp: Path, name: str, rows: list[dict]):  # noqa: ANN201
    return p.load(p.land_file(FEED, write_extract(tmp / name, FEED, rows)))


@pytest.mark.parametrize("cut", ["header only", "half", "three quarters"])
def test_a_snapshot_cut_short_is_held_back_and_the_partner_and_data_lead_told(
    cut: str, pipeline: Pipeline, tmp_path: Path, mail: MailCatcher
) -> None:
    kept = {"header only": 0, "half": 50, "three quarters": 75}[cut]
    assert send(pipeline, tmp_path, "full.csv", ROWS).status == "loaded"
    short = send(pipeline, tmp_path, "short.csv", ROWS[:kept])
    assert short.status == "held_back"
    assert [p.rule_id for p in short.problems] == ["extract.snapshot_withdraws"]
    assert f"withdraw {100 - kept} of the 100 rows" in short.problems[0].message
    assert current(pipeline) == 100  # the previous good data stays
    pipeline.alert("run-short", [short])
    told = {m["To"]: m.get_body(("plain",)).get_content() for m in mail.messages()}
    assert "data-lead@yos.example" in told and "X-Extract-Kind: reset" in told["data-lead@yos.example"]
    assert "extract.snapshot_withdraws" in told[pipeline.cfg.yos_data_lead.email]
    lead = told[pipeline.cfg.yos_data_lead.email]  # escalated at once, and said so: not "for 3 or more extracts"
    assert "held back and need you now" in lead and "or more extracts" not in lead


def test_a_snapshot_withdrawing_less_than_the_share_loads(pipeline: Pipeline, tmp_path: Path) -> None:
    send(pipeline, tmp_path, "full.csv", ROWS)
    assert send(pipeline, tmp_path, "most.csv", ROWS[:80]).status == "loaded"  # a fifth withdrawn: allowed
    assert current(pipeline) == 80


def test_a_small_feed_may_lose_a_few_rows_but_not_all(pipeline: Pipeline, tmp_path: Path) -> None:
    two = [{"intervention_id": "IVA"}, {"intervention_id": "IVB"}]
    send(pipeline, tmp_path, "two.csv", two)
    assert send(pipeline, tmp_path, "one.csv", two[:1]).status == "loaded"  # half of it, but one row
    assert send(pipeline, tmp_path, "none.csv", []).status == "held_back"  # only its header
    assert current(pipeline) == 1


def test_the_share_is_configured(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from partnership.config import default_config_path

    text = default_config_path().read_text()
    assert "max_withdrawn_share: 0.2" in text
    config = tmp_path / "partnership.yml"
    config.write_text(text.replace("max_withdrawn_share: 0.2", "max_withdrawn_share: 0.5"))
    monkeypatch.setenv("YOS_CONFIG", str(config))
    with Pipeline() as p:
        assert p.cfg.snapshot_max_withdrawn_share == 0.5
        send(p, tmp_path, "full.csv", ROWS)
        assert send(p, tmp_path, "forty.csv", ROWS[:40]).status == "held_back"
        assert send(p, tmp_path, "half.csv", ROWS[:50]).status == "loaded"


@pytest.mark.parametrize("how", ["intake file name", "X-Extract-Kind header"])
def test_a_declared_reset_withdraws_what_it_no_longer_holds(how: str, pipeline: Pipeline, tmp_path: Path) -> None:
    from warehouse.landing import land

    send(pipeline, tmp_path, "full.csv", ROWS)
    path = write_extract(tmp_path / f"{FEED}__reset.csv", FEED, ROWS[:10])
    if how == "intake file name":
        extract = pipeline.land_file(FEED, path)
    else:  # as partners/http.py lands a response carrying the header
        extract = land(pipeline.con, pipeline.paths.data, feed=FEED, partner="yos", chunks=[path.read_bytes()],
                       source="https://yos.example/yos_interventions.csv", kind="reset")  # fmt: skip
    assert extract.declared_kind == "reset"
    assert pipeline.load(extract).status == "loaded"
    assert current(pipeline) == 10


def test_the_last_good_snapshot_sent_again_loads_again(pipeline: Pipeline, tmp_path: Path) -> None:
    good = write_extract(tmp_path / "good.csv", FEED, ROWS)
    first = pipeline.load(pipeline.land_file(FEED, good))
    again = pipeline.land_file(FEED, good)  # the current state sent again: nothing to do
    assert not again.is_new and pipeline.pending() == []
    assert pipeline.load(again).status == "already_loaded"
    reset = pipeline.load(pipeline.land_file(FEED, write_extract(tmp_path / f"{FEED}__reset.csv", FEED, ROWS[:3])))
    assert reset.status == "loaded" and current(pipeline) == 3
    resent = pipeline.land_file(FEED, good)  # byte for byte the first file, which is no longer the feed's state
    assert resent.is_new and resent.extract_id == first.extract.extract_id
    assert [e.extract_id for e in pipeline.pending()] == [resent.extract_id]
    loaded = pipeline.load(pipeline.pending()[0])
    assert (loaded.status, loaded.load_id > reset.load_id) == ("loaded", True)
    assert current(pipeline) == 100
    assert pipeline.pending() == []
    assert pipeline.load(pipeline.land_file(FEED, good)).status == "already_loaded"  # current again
