"""The expected-extract calendar over a simulated month with bank holidays and a nil return: one reminder per missed
due time, an escalation on the second miss in a row, quiet once the extract arrives."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from flows.steps import Pipeline
from notify.calendar import LONDON, DueRule, due_days, rule_for
from sandbox.mailcatcher import MailCatcher
from tests.helpers import write_extract


def test_due_days_move_past_weekends_and_bank_holidays() -> None:
    monday = DueRule("weekly", dt.time(12), weekday=0)
    # 4 and 25 May 2026 are bank holidays (early May, spring): those Mondays' extracts are due on the Tuesday
    assert due_days(monday, dt.date(2026, 5, 1), dt.date(2026, 5, 31)) == [
        dt.date(2026, 5, 5),
        dt.date(2026, 5, 11),
        dt.date(2026, 5, 18),
        dt.date(2026, 5, 26),
    ]
    fifth = DueRule("monthly", dt.time(17), working_day=5)
    assert due_days(fifth, dt.date(2026, 5, 1), dt.date(2026, 5, 31)) == [dt.date(2026, 5, 8)]  # not the 7th
    nightly = DueRule("nightly", dt.time(7))
    assert len(due_days(nightly, dt.date(2026, 5, 1), dt.date(2026, 5, 31))) == 21 - 2 + 0  # 21 weekdays less 2


def test_reference_feeds_have_no_calendar() -> None:
    from partnership.config import load_config

    cal = load_config().calendar
    assert rule_for("population_10_17", cal) is None
    assert rule_for("police_outcomes", cal).cadence == "weekly"


def at(day: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 5, day, hour, minute, tzinfo=LONDON)


def test_a_simulated_month(pipeline: Pipeline, tmp_path: Path) -> None:
    cal = {
        "starts": "2026-05-01",
        "due": {"weekly": {"weekday": "monday", "time": "12:00"}},
        "feeds": {f: None for f in pipeline.cfg.partners["police"].feeds if f != "police_outcomes"}
        | {f: None for p in pipeline.cfg.partners.values() if p.id != "police" for f in p.feeds},
    }
    pipeline.cfg = dataclasses.replace(pipeline.cfg, calendar=cal)

    def arrive(name: str, when: dt.datetime, rows: list[dict]) -> None:
        e = pipeline.land_file("police_outcomes", write_extract(tmp_path / name, "police_outcomes", rows))
        pipeline.con.execute("update landing.extracts set received_at = ? where extract_id = ?", [when, e.extract_id])

    with MailCatcher(tmp_path / "mail") as mail:
        pipeline.cfg = dataclasses.replace(pipeline.cfg, smtp={"host": "127.0.0.1", "port": mail.port})

        def check(when: dt.datetime) -> list[tuple[str, str, str]]:
            return [(s["kind"], s["due_at"][:10], s["recipient"]) for s in pipeline.check_calendar(when)]

        arrive("a.csv", at(3, 20), [{"outcome_id": "A"}])  # Sunday, for the extract due Tuesday 5th
        assert check(at(5, 13)) == []
        arrive("nil.csv", at(11, 9), [])  # a nil return: the header alone, on time
        assert check(at(11, 13)) == []
        assert check(at(18, 13)) == [("reminder", "2026-05-18", "data-lead@police.example")]
        assert check(at(19, 9)) == []  # never a repeat
        assert check(at(26, 13)) == [  # the 25th is a bank holiday: due on the 26th, the second miss in a row
            ("reminder", "2026-05-26", "data-lead@police.example"),
            ("escalation", "2026-05-26", "yos-data-lead@derby.example"),
        ]
        assert check(at(26, 18)) == []
        arrive("late.csv", at(27, 10), [{"outcome_id": "B"}])
        assert check(dt.datetime(2026, 6, 1, 13, tzinfo=LONDON)) == []  # arrived: quiet again
        subjects = [m["Subject"] for m in mail.messages()]
    assert len(subjects) == 3
    assert sum("Escalation" in s for s in subjects) == 1
