"""Unchanged rows: the next night checks and pseudonymises only what the partner changed, and ends exactly where
checking every row again ends: the same rows loaded and quarantined, the same problems on the same lines, the same
history."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from expectations.contract import Rule, get_contract
from sandbox.generate import DEFECTS, generate
from tests.helpers import load_rows, write_extract
from warehouse import load as load_path
from warehouse import pseudonymise, unchanged_rows
from warehouse.db import connect_loader


def _feeds(root: Path) -> list[Path]:
    """The generated extracts, Episodes first (the other children's social care feeds take its collection year)."""
    return sorted(root.glob("*/*.csv"), key=lambda p: (p.stem != "cic_episodes", p.stem))


def _next_night(first: Path, to: Path, seed: int) -> None:
    """The same extracts a night later: every 20th row gone, every 15th changed (one value taken from another row),
    a row sent twice, and the rows in another order. A line that is malformed stays as it was sent."""
    rng = random.Random(seed)
    for path in _feeds(first):
        out = to / path.relative_to(first)
        out.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(path, newline="") as f:
                header, *rows = list(csv.reader(f))
        except (UnicodeDecodeError, csv.Error, ValueError):  # a file too broken to read is sent again as it was
            out.write_bytes(path.read_bytes())
            continue
        key = set(get_contract(path.stem).key)
        free = [i for i, c in enumerate(header) if c not in key] or list(range(len(header)))
        kept = [list(r) for i, r in enumerate(rows) if i % 20 != 7]
        for i, row in enumerate(kept):
            other = rng.choice(rows)
            if i % 15 == 3 and len(row) == len(header) == len(other):
                column = rng.choice(free)
                row[column] = other[column]
        if kept:
            kept.append(list(kept[len(kept) // 2]))
        rng.shuffle(kept)
        with open(out, "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(kept)


def _night(pipeline, root: Path) -> dict[str, object]:  # noqa: ANN001
    return {p.stem: pipeline.load(pipeline.land_file(p.stem, p)) for p in _feeds(root)}


def _what_was_found(pipeline, results: dict) -> dict[str, tuple]:  # noqa: ANN001
    """Per feed: the counts, every problem on its line, GX's verdict per rule, and the feed's history."""
    con = pipeline.con
    out = {}
    for feed, r in results.items():
        problems = con.execute(
            "select line, rule_id, rule_kind, severity, column_name, value, message, fix from quarantine.row_problems "
            "where load_id = ? order by all",
            [r.load_id],
        ).fetchall()
        verdicts = con.execute(
            "select rule_id, severity, gx_success, failing_rows from audit.validation_results where load_id = ? "
            "order by all",
            [r.load_id],
        ).fetchall()
        exists = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'history' and table_name = ?", [feed]
        ).fetchone()[0]
        history = con.execute(f"select * from history.{feed} order by all").fetchall() if exists else None
        counts = (r.status, r.rows_received, r.rows_loaded, r.rows_quarantined, r.rows_with_warnings,
                  r.versions_added, r.versions_replaced)  # fmt: skip
        out[feed] = (counts, problems, verdicts, history)
    return out


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many identifiers the loader pseudonymises (the keyed hash is counted as it is computed)."""
    calls = [0]
    install = pseudonymise.install

    def counting_install(con, key: str) -> None:  # noqa: ANN001
        install(con, key)
        real = pseudonymise.pseudonym

        def keyed_hash(message: str) -> str:
            calls[0] += 1
            namespace, value = message.split(":", 1)
            return real(key, namespace, value)

        pseudonymise.register(con, keyed_hash)

    monkeypatch.setattr(load_path, "install_pseudonym", counting_install)
    return calls


def test_the_next_night_ends_as_checking_every_row_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hashed: list[int]
) -> None:
    from flows.steps import Pipeline

    first, second = tmp_path / "first", tmp_path / "second"
    generate(first, seed=11, children=300, defects=list(DEFECTS))
    _next_night(first, second, seed=5)
    checked_on: list[tuple[str, tuple[str, ...]]] = []
    gx = load_path.gx_verdicts

    def recording_gx(con, contract, batches, **kw):  # noqa: ANN001, ANN003, ANN202
        checked_on.extend((table, tuple(r.id for r in rules)) for table, rules in batches)
        return gx(con, contract, batches, **kw)

    monkeypatch.setattr(load_path, "gx_verdicts", recording_gx)
    found, pseudonymised = {}, {}
    for way in ("remembering", "forgetting"):
        monkeypatch.setenv("YOS_DATA_DIR", str(tmp_path / way))
        with Pipeline() as p:
            _night(p, first)
            if way == "forgetting":
                for feed in {f.stem for f in _feeds(first)}:
                    unchanged_rows.forget(p.con, feed)
            hashed[0], checked_on[:] = 0, []
            found[way] = _what_was_found(p, _night(p, second))
            pseudonymised[way] = hashed[0]
            if way == "remembering":
                carried = [(t, ids) for t, ids in checked_on if ".changed_" in t]
                remembered = p.con.execute("select count(*) from landing.row_digests").fetchone()[0]

    assert found["remembering"].keys() == found["forgetting"].keys()
    for feed, every_row in found["forgetting"].items():
        assert found["remembering"][feed] == every_row, feed
    quarantined = sum(counts[3] for counts, *_ in found["forgetting"].values())
    assert quarantined > 20  # the defects, and what the changes broke, are there to be found again
    # the rules that read only the row ran on the changed rows of every feed; the key's uniqueness on every row
    assert len(carried) >= 10
    assert all(not any(i.endswith("key.unique") for i in ids) for _, ids in carried)
    assert remembered > 1000
    # an unchanged row's pseudonyms are looked up: a small fraction of the identifiers are hashed again
    assert 0 < pseudonymised["remembering"] < pseudonymised["forgetting"] / 4


def test_a_row_sent_again_unchanged_gets_its_problems_again_on_its_new_line(pipeline, tmp_path: Path) -> None:
    rows = [{"outcome_id": "A"}, {"outcome_id": "B", "sex": "X"}, {"outcome_id": "C", "offence_code": "bad"}]
    load_rows(pipeline, tmp_path, "police_outcomes", rows, "one.csv")
    again = load_rows(pipeline, tmp_path, "police_outcomes", [{"outcome_id": "D"}, *reversed(rows)], "two.csv")
    problems = pipeline.con.execute(
        "select line, rule_id, value from quarantine.row_problems where load_id = ? order by line", [again.load_id]
    ).fetchall()
    assert problems == [(3, "police_outcomes.offence_code.format", "bad"), (4, "police_outcomes.sex.codes", "X")]
    verdicts = dict(
        pipeline.con.execute(
            "select rule_id, failing_rows from audit.validation_results where load_id = ? and failing_rows > 0",
            [again.load_id],
        ).fetchall()
    )
    assert verdicts == {"police_outcomes.offence_code.format": 1, "police_outcomes.sex.codes": 1}
    # the format error quarantines its row again; the sex code is a warning, and its row loads with it
    assert (again.rows_received, again.rows_loaded, again.rows_quarantined, again.rows_with_warnings) == (4, 3, 1, 1)


def test_what_is_remembered_is_copied_until_what_made_the_rows_changes(pipeline, tmp_path: Path) -> None:
    con = pipeline.con
    load_rows(pipeline, tmp_path, "police_outcomes", [{"outcome_id": "A"}, {"outcome_id": "B"}], "one.csv")
    assert con.execute("select count(*) from landing.row_digests where feed = 'police_outcomes'").fetchone()[0] == 2
    # a problem remembered for every row (as if the rule had found it last night) is copied, not found again
    con.execute(
        """insert into landing.row_digest_problems select feed, digest, 'police_outcomes.sex.codes', 'codes',
           'warning', 'sex', 'remembered', 'm', 'f' from landing.row_digests"""
    )
    two = load_rows(pipeline, tmp_path, "police_outcomes", [{"outcome_id": "B"}, {"outcome_id": "A"}], "two.csv")
    copied = "select line, value from quarantine.row_problems where load_id = ? order by line"
    assert con.execute(copied, [two.load_id]).fetchall() == [(2, "remembered"), (3, "remembered")]
    # made by another contract or loader code, nothing remembered is trusted: every row is checked again
    con.execute("update landing.row_digest_feeds set made_by = 'another contract'")
    rows = [{"outcome_id": "A"}, {"outcome_id": "B"}, {"outcome_id": "C"}]
    three = load_rows(pipeline, tmp_path, "police_outcomes", rows, "three.csv")
    assert con.execute(copied, [three.load_id]).fetchall() == []
    assert con.execute("select count(*) from landing.row_digest_problems").fetchone()[0] == 0
    assert con.execute("select count(*) from landing.row_digests").fetchone()[0] == 3


def test_what_a_rule_reads_decides_whether_it_is_remembered() -> None:
    contract = get_contract("police_outcomes")
    rules = {r.kind: r for r in contract.rules(dt.date(2026, 4, 20))}
    assert unchanged_rows.reads(rules["codes"]) == ()
    assert unchanged_rows.reads(rules["cross"]) == ()
    assert unchanged_rows.reads(rules["unique"]) == ("outcome_id__raw",)

    def rule(sql: str) -> Rule:
        return Rule("f", "r", "ssda903", ("CHILD",), "error", sql, "m", "f")

    episodes = 'TRUE QUALIFY lag("DEC") OVER (PARTITION BY "CHILD__raw" ORDER BY "DECOM", _line) > "DECOM"'
    assert unchanged_rows.reads(rule(episodes)) == ("CHILD__raw",)
    assert unchanged_rows.reads(rule(episodes + ' OR count(*) OVER (PARTITION BY "CHILD__raw") > 9')) == ("CHILD__raw",)
    # two groupings, a window over the whole extract, or another table: read every row, every time
    assert unchanged_rows.reads(rule(episodes + ' OR count(*) OVER (PARTITION BY "UPN__raw") > 1')) is None
    assert unchanged_rows.reads(rule("TRUE QUALIFY count(*) OVER () > 1")) is None
    named = 'TRUE WINDOW w AS (PARTITION BY "CHILD__raw" ORDER BY _line) QUALIFY row_number() OVER w > 1'
    assert unchanged_rows.reads(rule(named)) is None
    # comparing two of the row's values is not reading a table
    assert unchanged_rows.reads(rule('"DEC" IS DISTINCT FROM "DECOM" AND "A" IS NOT DISTINCT FROM "B"')) == ()
    assert unchanged_rows.reads(rule('"CHILD" IN (SELECT "CHILD" FROM scratch.main.header_1)')) is None
    # a date not in the future is checked against the day received: the same rule another day (the days are
    # compared when it is planned), but not another column's
    later = {r.id: r for r in contract.rules(dt.date(2026, 4, 21))}
    for rule in contract.rules(dt.date(2026, 4, 20)):
        assert unchanged_rows.fingerprint(later[rule.id]) == unchanged_rows.fingerprint(rule)
    assert rules["not_future"].fails_when != later[rules["not_future"].id].fails_when
    dates = [r for r in later.values() if r.kind == "not_future"]
    assert len({unchanged_rows.fingerprint(r) for r in dates}) == len(dates) == 2


def test_a_date_not_in_the_future_is_checked_again_only_where_it_failed_or_changed(
    pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A date that was not after the day an extract was received is not after any later day. Received on a later
    day, the rule runs on the changed rows and the rows it failed last time, and a date whose day has come loads;
    received on an earlier day (a late file), on every row."""
    con = pipeline.con
    ran_on: list[int] = []  # the rows each load's not_future rules ran on
    plan = unchanged_rows.Unchanged.plan

    def spy(self, rules):  # noqa: ANN001, ANN202
        tables = plan(self, rules)
        for table, batch in tables:
            if any(r.kind == "not_future" for r in batch):
                ran_on.append(con.execute(f"select count(*) from {table}").fetchone()[0])
        return tables

    monkeypatch.setattr(unchanged_rows.Unchanged, "plan", spy)
    day = dt.date(2026, 4, 20)
    rows = [{"outcome_id": f"O{i}"} for i in range(20)]
    rows[3]["outcome_date"] = (day + dt.timedelta(days=1)).isoformat()  # tomorrow's, on the first day
    rows[7]["outcome_date"] = (day + dt.timedelta(days=9)).isoformat()

    def night(on: dt.date, extra: str) -> tuple[int, int, list]:
        path = write_extract(tmp_path / f"{on}-{extra}.csv", "police_outcomes", [*rows, {"outcome_id": extra}])
        extract = pipeline.land_file("police_outcomes", path)
        received = dt.datetime(on.year, on.month, on.day, 2, tzinfo=dt.UTC)
        con.execute("update landing.extracts set received_at = ? where extract_id = ?", [received, extract.extract_id])
        r = pipeline.load(dataclasses.replace(extract, received_at=received))
        found = con.execute(
            "select line, rule_id from quarantine.row_problems where load_id = ? and rule_id like '%not_future' "
            "order by line",
            [r.load_id],
        ).fetchall()
        return r.rows_loaded, r.rows_quarantined, found

    future = [(5, "police_outcomes.outcome_date.not_future"), (9, "police_outcomes.outcome_date.not_future")]
    assert night(day, "A") == (19, 2, future)
    assert ran_on == [21]  # every row: nothing remembered
    # the next day: row 3's date has come; only the new row and the two that failed are checked again
    assert night(day + dt.timedelta(days=1), "B") == (20, 1, future[1:])
    assert ran_on[1] == 3
    # the same day again (row A is back): the rows not sent last time, and nothing else
    assert night(day + dt.timedelta(days=1), "A") == (20, 1, future[1:])
    assert ran_on[2] == 1
    # a late file, received on the first day: every row, and tomorrow's date is in the future again
    assert night(day, "C") == (19, 2, future)
    assert ran_on[3] == 21
    # ten days on, both days have come: the new row and the two that failed on the first day
    assert night(day + dt.timedelta(days=10), "D") == (21, 0, [])
    assert ran_on[4] == 3


def test_a_group_rule_runs_on_the_groups_that_changed(pipeline, tmp_path: Path) -> None:
    """The key's uniqueness reads the rows sharing a key, in file order: its answers for a key whose rows are the
    same, in the same order, are copied; a key with a row added, changed or reordered is checked again whole."""
    con = pipeline.con
    a1, a2 = {"outcome_id": "A", "gravity_score": "1"}, {"outcome_id": "A", "gravity_score": "3"}
    b1, b2 = {"outcome_id": "B", "gravity_score": "1"}, {"outcome_id": "B", "gravity_score": "3"}
    c, d = {"outcome_id": "C"}, {"outcome_id": "D"}
    load_rows(pipeline, tmp_path, "police_outcomes", [a1, a2, b1, b2, c], "one.csv")
    con.execute("update landing.row_digest_problems set value = 'remembered'")
    # A: the same rows in the same order (other rows between); B: reordered; D: new, C: gone
    two = load_rows(pipeline, tmp_path, "police_outcomes", [b2, a1, d, b1, a2], "two.csv")
    found = con.execute(
        "select line, value from quarantine.row_problems where load_id = ? and rule_id = 'police_outcomes.key.unique' "
        "order by line",
        [two.load_id],
    ).fetchall()
    assert found == [(5, "B"), (6, "remembered")]
    assert (two.rows_received, two.rows_loaded, two.rows_quarantined) == (5, 3, 2)


def test_a_key_sent_once_is_checked_again_when_it_had_several_rows_last_time(pipeline, tmp_path: Path) -> None:
    """A group of one row is its row: unchanged when its row was sent last time and its group was one row then. A key
    that had several rows last time and has one now is checked again: what its row's digest remembers (the repeat's
    problem) is not its answer now."""
    con = pipeline.con
    a1, a2 = {"outcome_id": "A", "gravity_score": "1"}, {"outcome_id": "A", "gravity_score": "3"}
    b = {"outcome_id": "B"}

    def repeats(loaded) -> list[tuple]:  # noqa: ANN001
        return con.execute(
            "select line from quarantine.row_problems where load_id = ? and rule_id = 'police_outcomes.key.unique' "
            "order by line",
            [loaded.load_id],
        ).fetchall()

    one = load_rows(pipeline, tmp_path, "police_outcomes", [a1, a1, a2, b], "one.csv")  # A: a1 twice, then a2
    assert repeats(one) == [(3,), (4,)]
    # only A's group is remembered, without a fingerprint (the same row twice cannot be told apart by digest)
    assert con.execute("select count(*), count(fingerprint) from landing.row_digest_groups").fetchone() == (1, 0)
    two = load_rows(pipeline, tmp_path, "police_outcomes", [a2, b], "two.csv")  # A: one row now, held back last time
    assert repeats(two) == []
    assert (two.rows_loaded, two.rows_quarantined, two.versions_replaced) == (2, 0, 1)
    three = load_rows(pipeline, tmp_path, "police_outcomes", [b, a2, a1], "three.csv")  # A: several again
    assert repeats(three) == [(4,)]
    assert con.execute("select count(*), count(fingerprint) from landing.row_digest_groups").fetchone() == (1, 1)


def test_a_group_of_one_changed_row_is_checked_again(pipeline, tmp_path: Path) -> None:
    """A child with one episode is a group of one row: when that row changes, the rules reading the child's episodes
    run on it again (SSDA903 rule 357: a child's first episode must start a period of care)."""
    episode = {"DECOM": "15/05/2024", "RNE": "S", "LS": "C2", "CIN": "N1", "PLACE": "U1", "PLACE_PROVIDER": "PR1",
               "DEC": "", "REC": "", "REASON_PLACE_CHANGE": "", "HOME_POST": "DE1 2AB", "PL_POST": "DE22 1AB",
               "URN": ""}  # fmt: skip
    year = (dt.date(2024, 4, 1), dt.date(2025, 3, 31))
    found = []
    for night, rne in (("one.csv", "S"), ("two.csv", "P")):
        rows = [{**episode, "CHILD": "K1", "RNE": rne}, {**episode, "CHILD": "K2"}]
        path = write_extract(tmp_path / night, "cic_episodes", rows)
        r = pipeline.load(pipeline.land_file("cic_episodes", path, period=year))
        found.append(
            pipeline.con.execute(
                "select line from quarantine.row_problems where load_id = ? and rule_id = '903-357'", [r.load_id]
            ).fetchall()
        )
    assert found == [[], [(2,)]]


def test_a_row_sent_twice_is_remembered_loaded_once_and_held_back_once(pipeline, tmp_path: Path) -> None:
    """The repeat of a row is held back by the key's uniqueness: remembered without a key, it is never looked up, and
    the copy loaded keeps its version night after night."""
    con = pipeline.con
    a, b = {"outcome_id": "A"}, {"outcome_id": "B"}
    one = load_rows(pipeline, tmp_path, "police_outcomes", [a, a, b], "one.csv")
    assert (one.rows_loaded, one.rows_quarantined, one.versions_added) == (2, 1, 2)
    remembered = "select count(*), count(_key), count(distinct digest) from landing.row_digests"
    assert con.execute(remembered).fetchone() == (3, 2, 2)
    for night, rows in (("two.csv", [b, a, a, {"outcome_id": "C"}]), ("three.csv", [a, b, a, {"outcome_id": "C"}])):
        again = load_rows(pipeline, tmp_path, "police_outcomes", rows, night)
        assert (again.rows_loaded, again.rows_quarantined, again.versions_added, again.versions_replaced) == (
            3, 1, 1 if night == "two.csv" else 0, 0)  # fmt: skip
        repeat = con.execute(
            "select line from quarantine.row_problems where load_id = ? and rule_id = 'police_outcomes.key.unique'",
            [again.load_id],
        ).fetchall()
        assert repeat == [(4,)]  # the second A, wherever the first is
        assert con.execute(remembered).fetchone() == (3, 3, 3)  # the keyless repeat forgotten: A is known
    assert con.execute("select count(*) from history.police_outcomes").fetchone()[0] == 3


def _nights_both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nights: list) -> dict[str, list]:  # noqa: ANN001
    """Each night (rows and the period it declares, or "retention") run twice, remembering and forgetting: per
    night, the load's counts and the feed's history after it."""
    from flows.steps import Pipeline

    found: dict[str, list] = {}
    for way in ("remembering", "forgetting"):
        monkeypatch.setenv("YOS_DATA_DIR", str(tmp_path / way))
        found[way] = []
        with Pipeline() as p:
            for i, night in enumerate(nights):
                if night == "retention":
                    p.apply_retention()
                    continue
                rows, period = night
                if way == "forgetting":
                    unchanged_rows.forget(p.con, "police_outcomes")
                # a row of its own each night: the same file twice would be the same extract, loaded once
                night_rows = [*rows, {"outcome_id": f"NIGHT{i}"}]
                path = write_extract(tmp_path / way / f"night-{i}.csv", "police_outcomes", night_rows)
                r = p.load(p.land_file("police_outcomes", path, period=period))
                history = p.con.execute(
                    "select outcome_id, _as_of, _loaded_by, _line, _replaced_by from history.police_outcomes "
                    "order by all"
                ).fetchall()
                found[way].append(((r.status, r.rows_loaded, r.versions_added, r.versions_replaced), history))
    return found


def test_a_row_looked_up_is_loaded_as_checking_it_would_after_a_late_extract(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row looked up is taken as its key's current version without reading history: not after an extract for a
    later period (its rows are stale against that one), nor when the last load found it stale."""
    rows = [{"outcome_id": "A"}, {"outcome_id": "B"}]
    june, may, may20, june15 = (dt.date(2026, 6, 30), dt.date(2026, 5, 31), dt.date(2026, 5, 20),
                                dt.date(2026, 6, 15))  # fmt: skip
    nights = [(rows, (None, june)), (rows, (None, may)), (rows, (None, may20)), (rows, (None, june15)),
              (rows, (None, dt.date(2026, 7, 31)))]  # fmt: skip
    found = _nights_both_ways(tmp_path, monkeypatch, nights)
    assert found["remembering"] == found["forgetting"]
    # the late nights' rows are kept for lineage, never current
    stale = [v for v in found["forgetting"][3][1] if v[2] == v[4] and v[0] in ("A", "B")]
    assert len(stale) == 6


def test_a_row_retention_deleted_comes_back_when_sent_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Retention deletes history rows by their own date, current versions too: a row remembered as current is then
    gone, and sent again it is loaded again, as checking it would."""
    old = dt.date.today().replace(year=dt.date.today().year - 8).isoformat()
    rows = [{"outcome_id": "OLD", "dob": "2004-01-01", "offence_date": old, "outcome_date": old},
            {"outcome_id": "NEW"}]  # fmt: skip
    found = _nights_both_ways(tmp_path, monkeypatch, [(rows, (None, None)), "retention", (rows, (None, None))])
    assert found["remembering"] == found["forgetting"]
    assert sum(v[0] == "OLD" for v in found["remembering"][1][1]) == 1  # deleted, and back


def test_a_row_holding_the_separator_is_never_remembered(pipeline, tmp_path: Path) -> None:
    rows = [{"outcome_id": "A"}, {"outcome_id": "B", "offence_code": "AB\x1fC"}]
    load_rows(pipeline, tmp_path, "police_outcomes", rows, "one.csv")
    assert pipeline.con.execute("select count(*) from landing.row_digests").fetchone()[0] == 1
    again = load_rows(pipeline, tmp_path, "police_outcomes", list(reversed(rows)), "two.csv")
    problems = pipeline.con.execute(
        "select line, rule_id from quarantine.row_problems where load_id = ?", [again.load_id]
    ).fetchall()
    assert problems == [(2, "police_outcomes.offence_code.format")]


def test_a_contract_edited_without_a_new_version_is_not_what_made_the_rows(tmp_path: Path) -> None:
    """A contract's date format or identifiers changed in its file, its version left alone: the rows it makes
    differ, so what was remembered under the old file is forgotten."""
    contract = get_contract("police_outcomes")
    edited = tmp_path / "police_outcomes.yml"
    edited.write_text(contract.path.read_text().replace("date_format:", "date_format: '%d/%m/%Y'\nold_format:", 1))
    assert unchanged_rows.made_by(contract) == unchanged_rows.made_by(dataclasses.replace(contract))
    assert unchanged_rows.made_by(dataclasses.replace(contract, path=edited)) != unchanged_rows.made_by(contract)


def test_a_row_sent_again_under_another_time_zone_is_the_same_version(pipeline, tmp_path: Path) -> None:  # noqa: ANN001
    """A timestamp's text and date follow the session's time zone: the loader fixes it, so a server whose zone
    changes between nights does not store the row sent again as a new version (and a hash looked up is the one
    that would be computed). The next night runs in a process of its own, as it does in service."""
    row = {"charge_datetime": "2025-03-02T03:30:00+00:00"}
    load_rows(pipeline, tmp_path, "custody_transfers", [row], "one.csv")
    two = write_extract(tmp_path / "two.csv", "custody_transfers", [row, {"detention_id": "DT2"}])
    pipeline.con.close()
    night = f"""
from pathlib import Path
from flows.steps import Pipeline
from warehouse import unchanged_rows
with Pipeline() as p:
    unchanged_rows.forget(p.con, "custody_transfers")  # its hash computed again, not looked up
    r = p.load(p.land_file("custody_transfers", Path({str(two)!r})))
    print(r.rows_loaded, r.versions_added)
"""
    done = subprocess.run([sys.executable, "-c", night], env={**os.environ, "TZ": "America/New_York"},
                          capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    pipeline.con = connect_loader(pipeline.paths.loader_db)
    assert done.returncode == 0, done.stderr[-2000:]
    history = pipeline.con.execute("select count(*) from history.custody_transfers").fetchone()[0]
    assert (done.stdout.split()[-2:], history) == (["2", "1"], 2)


def test_a_load_that_cannot_start_leaves_nothing_in_scratch(pipeline, tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """The digests of every staged row are made before the SSDA903 context; a failure there drops them too."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the context could not be read")

    monkeypatch.setattr(load_path.ssda903_context, "prepare", broken)
    with pytest.raises(RuntimeError, match="context"):
        load_rows(pipeline, tmp_path, "cic_episodes", [{}])
    left = pipeline.con.execute("select table_name from duckdb_tables() where database_name = 'scratch'").fetchall()
    assert left == []
