"""Pseudonymisation and minimisation: no raw identifier, name, date of birth or full postcode reaches a warehouse."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from expectations.contract import all_contracts, get_contract
from sandbox.generate import SYNTHETIC_NAMES
from tests.conftest import TEST_KEY
from warehouse.pseudonymise import install, pseudonym


def test_sql_pseudonym_equals_the_python_hmac() -> None:
    con = duckdb.connect()
    install(con, TEST_KEY)
    got = con.execute("select pseudonym('pnc', ' 20/1234567a ')").fetchone()[0]
    assert got == pseudonym(TEST_KEY, "pnc", "20/1234567A")
    assert got != pseudonym("another key", "pnc", "20/1234567A")
    assert got != pseudonym(TEST_KEY, "la_child", "20/1234567A")


def test_the_pseudonym_can_be_installed_again_after_a_load_under_another_key(pipeline, tmp_path: Path) -> None:
    """A load installs it; installing it again on the same connection (a rekey's new key, the bench's
    --pseudonym-cost) takes the new key. Replacing the function under one name failed after a load."""
    from tests.helpers import write_extract

    path = write_extract(tmp_path / "a.csv", "police_outcomes", [{"outcome_id": f"O{i}"} for i in range(5)])
    assert pipeline.load(pipeline.land_file("police_outcomes", path)).rows_loaded == 5
    for key in ("another key", TEST_KEY):
        install(pipeline.con, key)
        got = pipeline.con.execute("select pseudonym('pnc', '20/1234567A')").fetchone()[0]
        assert got == pseudonym(key, "pnc", "20/1234567A")


def test_the_same_child_links_across_agencies(pipeline, partnership: Path) -> None:
    for feed in ("police_outcomes", "court_disposals"):
        c = get_contract(feed)
        pipeline.load(pipeline.land_file(feed, partnership / c.partner / f"{feed}.csv"))
    linked = pipeline.con.execute(
        "select count(distinct c.pnc_id) from history.court_disposals c join history.police_outcomes p using (pnc_id)"
    ).fetchone()[0]
    assert linked > 10


def test_no_raw_identifier_or_full_postcode_in_any_warehouse_file(pipeline, defective: Path) -> None:
    secrets: set[str] = set(SYNTHETIC_NAMES)  # the defects put names in an id column and a name column
    for feed, c in all_contracts().items():
        path = defective / c.partner / f"{feed}.csv"
        pipeline.load(pipeline.land_file(feed, path))
        try:
            rows = list(csv.DictReader(path.open(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
        for row in rows:
            for col in c.columns.values():
                value = (row.get(col.name) or "").strip()
                if col.identifier and len(value) >= 6:
                    secrets.add(value)
                if col.minimise == "outward_code" and " " in value:
                    secrets.add(value)
    pipeline.publish()
    pipeline.con.execute("checkpoint")
    assert len(secrets) > 900  # enough values to look for (the generator at England's levels gives about 960)
    data = pipeline.paths.data
    for db in (pipeline.paths.loader_db, pipeline.paths.published_db):
        blob = db.read_bytes()
        wal = Path(str(db) + ".wal")
        if wal.exists():
            blob += wal.read_bytes()
        found = [s for s in secrets if s.encode() in blob]
        assert not found, f"{db.relative_to(data)} holds raw values, e.g. {found[:3]}"
