"""Storage limitation and key rotation."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from flows.steps import Pipeline
from tests.conftest import TEST_KEY
from tests.helpers import write_extract
from warehouse.db import connect_analyst
from warehouse.pseudonymise import KeyMismatch, pseudonym


def test_retention_deletes_old_rows_and_files_and_says_so(pipeline: Pipeline, tmp_path: Path) -> None:
    today = dt.date.today()
    old = today.replace(year=today.year - 8).isoformat()
    old_file = write_extract(
        tmp_path / "old.csv",
        "police_outcomes",
        [{"outcome_id": "OLD", "dob": "2004-01-01", "offence_date": old, "outcome_date": old}],
    )
    pipeline.load(pipeline.land_file("police_outcomes", old_file, period=(None, dt.date.fromisoformat(old))))
    new_file = write_extract(tmp_path / "new.csv", "police_outcomes", [{"outcome_id": "NEW"}])
    pipeline.load(pipeline.land_file("police_outcomes", new_file))
    landed_old = pipeline.con.execute(
        "select stored_path from landing.extracts where declared_period_end is not null"
    ).fetchone()[0]

    dry = {a.feed: a for a in pipeline.apply_retention(dry_run=True)}
    assert dry["police_outcomes"].history_rows_deleted == 1
    assert pipeline.con.execute("select count(*) from history.police_outcomes").fetchone() == (2,)

    applied = {a.feed: a for a in pipeline.apply_retention()}
    assert (applied["police_outcomes"].history_rows_deleted, applied["police_outcomes"].landed_files_deleted) == (1, 1)
    assert not (pipeline.paths.data / landed_old).exists()
    con = connect_analyst(pipeline.paths.published_db)
    assert con.execute("select outcome_id from core.police_outcomes").fetchall() == [("NEW",)]
    assert con.execute("select count(*) from audit.extracts").fetchone() == (2,)  # the record of arrival stays
    audit = pipeline.con.execute(
        "select years, history_rows_deleted, landed_files_deleted from audit.retention where feed = 'police_outcomes'"
    ).fetchall()
    assert audit == [(6, 1, 1)]
    assert pipeline.pending() == []  # a deleted file is never reloaded


def test_rekey_rebuilds_every_pseudonym_under_the_new_key(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [{"outcome_id": "A", "pnc_id": "20/0000001A"}, {"outcome_id": "B", "pnc_id": "20/0000002B", "sex": "X"}]
    pipeline.load(pipeline.land_file("police_outcomes", write_extract(tmp_path / "a.csv", "police_outcomes", rows)))
    pipeline.publish()
    assert pipeline.con.execute("select pnc_id from history.police_outcomes").fetchall() == [
        (pseudonym(TEST_KEY, "pnc", "20/0000001A"),)
    ]

    with pytest.raises(ValueError, match="raise pseudonymisation.version"):
        pipeline.rekey()
    monkeypatch.setenv("YOS_PSEUDONYM_KEY", "the-new-key")
    monkeypatch.setenv("YOS_PSEUDONYM_KEY_VERSION", "2")
    pipeline.close()
    with Pipeline() as p:
        assert p.rekey() == 1
        assert p.con.execute("select pnc_id from history.police_outcomes").fetchall() == [
            (pseudonym("the-new-key", "pnc", "20/0000001A"),)
        ]
        loads = p.con.execute(
            "select pseudonym_key_version, rows_received, rows_loaded, rows_quarantined from audit.loads"
        ).fetchall()
        assert loads == [(2, 2, 1, 1)]
        assert p.con.execute("select count(*) from landing.extracts").fetchone() == (1,)
    con = connect_analyst(pipeline.paths.published_db)
    blob = pipeline.paths.published_db.read_bytes()
    assert pseudonym(TEST_KEY, "pnc", "20/0000001A").encode() not in blob
    assert con.execute("select count(*) from core.police_outcomes").fetchone() == (1,)
    assert not list(pipeline.paths.loader_db.parent.glob("*before-rebuild*"))


def test_a_load_under_another_key_is_refused_and_the_extract_waits_for_the_right_one(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_extract(tmp_path / "a.csv", "police_outcomes", [{"outcome_id": "A", "pnc_id": "20/0000001A"}])
    pipeline.load(pipeline.land_file("police_outcomes", first))
    pipeline.close()
    second = write_extract(tmp_path / "b.csv", "police_outcomes", [{"outcome_id": "B", "pnc_id": "20/0000001A"}])

    monkeypatch.setenv("YOS_PSEUDONYM_KEY", "another-key")  # the same version, another key
    with Pipeline() as p:
        extract = p.land_file("police_outcomes", second)
        with pytest.raises(KeyMismatch, match="is not the key this warehouse's pseudonyms .key version 1") as e:
            p.load(extract)
        assert "environment variable YOS_PSEUDONYM_KEY" in str(e.value) and "yos rekey" in str(e.value)
        assert "another-key" not in str(e.value) and TEST_KEY not in str(e.value)
        assert p.con.execute("select outcome_id from history.police_outcomes").fetchall() == [("A",)]
        assert p.con.execute("select count(*) from audit.loads").fetchone() == (1,)  # no load was begun
        assert [x.extract_id for x in p.pending()] == [extract.extract_id]  # landed, waiting: nothing lost

    monkeypatch.setenv("YOS_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("YOS_PSEUDONYM_KEY_VERSION", "2")  # a new version without `yos rekey` would mix two keys
    with Pipeline() as p:
        with pytest.raises(KeyMismatch, match="made with key version 1, so nothing was loaded: .*run `yos rekey`"):
            p.load(extract)

    monkeypatch.setenv("YOS_PSEUDONYM_KEY_VERSION", "1")
    with Pipeline() as p:
        assert [r.status for r in map(p.load, p.pending())] == ["loaded"]
        # the same child under the same pseudonym in both extracts: still one child
        assert p.con.execute("select distinct pnc_id from history.police_outcomes").fetchall() == [
            (pseudonym(TEST_KEY, "pnc", "20/0000001A"),)
        ]
        assert p.con.execute("select version from audit.pseudonym_keys").fetchall() == [(1,)]

    monkeypatch.setenv("YOS_PSEUDONYM_KEY", "the-new-key")
    monkeypatch.setenv("YOS_PSEUDONYM_KEY_VERSION", "2")
    with Pipeline() as p:
        assert p.rekey() == 2
        assert p.con.execute("select version from audit.pseudonym_keys").fetchall() == [(2,)]
    monkeypatch.setenv("YOS_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("YOS_PSEUDONYM_KEY_VERSION", "1")  # back to the old key and version after a rekey
    with Pipeline() as p:
        third = p.land_file("police_outcomes", write_extract(tmp_path / "c.csv", "police_outcomes", [{}]))
        with pytest.raises(KeyMismatch, match="re-keyed to version 2"):
            p.load(third)
