"""Retention and minimisation of what alerts leave behind (issue 29, item 4): copies of alerts in the outbox (they
hold partners' failing rows) are deleted after ``alerts.outbox_retention_days``, at each night's alerting and by the
retention run, except a copy awaiting resend; ``quarantine.row_problems`` keeps no date of birth (the partner's alert
re-reads its own rows from the landed file)."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import pytest

from flows.steps import Pipeline
from sandbox.mailcatcher import MailCatcher
from tests.helpers import write_extract


def age(path: Path, days: float) -> None:
    when = time.time() - days * 86400
    os.utime(path, (when, when))


def alert(p: Pipeline, tmp: Path, run: str, port: int) -> list[dict]:
    p.cfg = dataclasses.replace(p.cfg, smtp={"host": "127.0.0.1", "port": port})
    path = write_extract(tmp / f"{run}.csv", "police_outcomes", [{"outcome_id": run, "sex": "X"}])
    return p.alert(run, [p.load(p.land_file("police_outcomes", path))])


def test_alert_copies_are_deleted_after_their_retention_unless_awaiting_resend(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("time.sleep", lambda s: None)  # the retries' waits
    assert pipeline.cfg.outbox_retention_days == 30  # config/partnership.yml
    with MailCatcher(tmp_path / "mail") as catcher:
        (sent,) = alert(pipeline, tmp_path, "sent", catcher.port)
    (failed,) = alert(pipeline, tmp_path, "failed", 9)  # nobody listens: kept to resend
    sent_copy, failed_copy = Path(sent["copy"]), Path(failed["copy"])
    assert (sent["status"], failed["status"]) == ("sent", "failed")
    for copy in (sent_copy, failed_copy):
        age(copy, 31)
    recent = sent_copy.with_name("recent.eml")
    recent.write_bytes(sent_copy.read_bytes())
    age(recent, 29)

    assert [r["status"] for r in pipeline.alert("next-night", [])] == ["failed"]  # the resend fails again
    assert not sent_copy.exists() and not sent_copy.parent.joinpath(sent_copy.name).exists()
    assert failed_copy.exists()  # still to be delivered
    assert recent.exists()

    age(recent, 31)
    pipeline.apply_retention()
    assert not recent.exists() and not recent.parent.exists()  # the run's folder went with its last copy
    assert failed_copy.exists()
    with MailCatcher(tmp_path / "mail2") as catcher:
        pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": catcher.port})
        assert [r["status"] for r in pipeline.alert("night-after", [])] == ["sent"]
    assert not failed_copy.exists()  # delivered at last, and past its retention


def test_the_outbox_retention_is_configured(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from partnership.config import default_config_path

    text = default_config_path().read_text()
    assert "outbox_retention_days: 30" in text
    config = tmp_path / "partnership.yml"
    config.write_text(text.replace("outbox_retention_days: 30", "outbox_retention_days: 5"))
    monkeypatch.setenv("YOS_CONFIG", str(config))
    with Pipeline() as p:
        folder = p.paths.outbox / "20260101T000000Z"
        folder.mkdir(parents=True)
        old, young = folder / "old.eml", folder / "young.eml"
        for copy, days in ((old, 6), (young, 4)):
            copy.write_text("a partner's rows")
            age(copy, days)
        p.alert("a-night", [])
        assert (old.exists(), young.exists()) == (False, True)


def test_row_problems_keep_no_date_of_birth_but_the_alert_has_the_row(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [
        {"outcome_id": "A", "dob": "2008-02-30"},  # not a date
        {"outcome_id": "B", "dob": "1990-04-17"},  # an adult: the age rule, about dob and offence_date
        {"outcome_id": "C", "sex": "X", "dob": "2009-11-03"},  # another column's problem
        {"outcome_id": "D", "dob": ""},
    ]
    path = write_extract(tmp_path / "police_outcomes.csv", "police_outcomes", rows)
    with MailCatcher(tmp_path / "mail") as catcher:
        pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": catcher.port})
        result = pipeline.load(pipeline.land_file("police_outcomes", path))
        pipeline.alert("run", [result])
        (message,) = catcher.messages()
    stored = pipeline.con.execute(
        "select line, rule_id, column_name, value from quarantine.row_problems where load_id = ? order by line",
        [result.load_id],
    ).fetchall()
    assert {line for line, *_ in stored} == {2, 3, 4, 5}
    text = " ".join(str(v) for row in stored for v in row)
    for dob in ("2008-02-30", "1990-04-17", "2009-11-03"):
        assert dob not in text
    assert any(value and "(withheld)" in value for *_, value in stored)
    assert any(value == "X" for *_, column, value in stored if column == "sex")  # other values stay
    assert any(value and "(blank)" in value for *_, value in stored)  # a blank is still said
    attached = "".join(
        part.get_content() for part in message.iter_attachments() if part.get_filename().endswith(".csv")
    )
    assert "2008-02-30" in attached and "1990-04-17" in attached  # the partner gets its own rows back


def test_retention_removes_only_run_folders_it_emptied(pipeline: Pipeline) -> None:
    """A folder under the outbox that retention did not empty (just made, or holding new copies) stays: the demo's
    mail catcher once lost its folder to the night's pruning and every mail after it."""
    from warehouse.retention import prune_outbox

    outbox = pipeline.paths.outbox
    fresh, old_run = outbox / "just-made", outbox / "run-old"
    fresh.mkdir(parents=True)
    old_run.mkdir()
    copy = old_run / "police.eml"
    copy.write_text("x")
    month_ago = time.time() - 40 * 86400
    os.utime(copy, (month_ago, month_ago))
    assert prune_outbox(pipeline.con, outbox, 30) == [copy]
    assert fresh.is_dir() and not old_run.exists()
