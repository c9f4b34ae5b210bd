"""The published history is written once: each load's versions of a feed are one Parquet part, written by the first
publish after the load and only named again by later ones (warehouse/history_parts.py)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from flows.steps import Pipeline
from tests.helpers import load_rows, write_extract
from warehouse import history_parts
from warehouse.db import connect_analyst


def parts(pipeline: Pipeline, feed: str = "police_outcomes") -> dict[str, int]:
    """The feed's parts on disk: name -> inode (a part written again gets a new inode)."""
    folder = history_parts.directory(pipeline.paths.published_db) / feed
    return {p.name: p.stat().st_ino for p in sorted(folder.glob("*.parquet"))}


def publish_rows(pipeline: Pipeline, tmp: Path, rows: list[dict[str, str]], name: str) -> None:
    """Load ``rows`` as a police outcomes extract, then publish, as a run does."""
    load_rows(pipeline, tmp, "police_outcomes", rows, name)
    pipeline.publish()


def analyst_rows(pipeline: Pipeline, sql: str) -> list[tuple]:
    con = connect_analyst(pipeline.paths.published_db)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_load_writes_its_own_part_and_a_publish_rewrites_no_other(pipeline: Pipeline, tmp_path: Path) -> None:
    publish_rows(pipeline, tmp_path, [{"outcome_id": "A"}, {"outcome_id": "B"}], "one.csv")
    first = parts(pipeline)
    assert [name.split("-")[:2] for name in first] == [["1", "2"]]  # load 1, two rows
    courts = parts(pipeline, "court_disposals")
    assert [name.split("-")[0] for name in courts] == ["empty"]  # a feed never loaded still has its columns

    # a correction to A and a new row C: one new part for the new load; load 1's part is the same file, not a copy
    publish_rows(pipeline, tmp_path, [{"outcome_id": "A", "gravity_score": "7"},
                                                      {"outcome_id": "C"}], "two.csv")  # fmt: skip
    second = parts(pipeline)
    assert len(second) == 2
    assert {n: i for n, i in second.items() if n in first} == first
    assert parts(pipeline, "court_disposals") == courts

    # analysts see every version, with the load that replaced the old A (kept beside the parts, not in them)
    versions = analyst_rows(
        pipeline, "select outcome_id, gravity_score, _loaded_by, _replaced_by from history.police_outcomes order by all"
    )
    assert versions == [("A", 2, 1, 2), ("A", 7, 2, None), ("B", 2, 1, None), ("C", 2, 2, None)]
    assert analyst_rows(pipeline, "select outcome_id from core.police_outcomes order by 1") == [("A",), ("B",), ("C",)]
    # and as at load 1, exactly what the first publish showed
    con = connect_analyst(pipeline.paths.published_db)
    con.execute("set variable as_at_load = 1")
    as_at_1 = con.execute("select outcome_id, gravity_score from core.police_outcomes order by 1").fetchall()
    con.close()
    assert as_at_1 == [("A", 2), ("B", 2)]


def test_parts_no_analysts_file_reads_are_deleted_and_a_changed_load_gets_a_new_part(
    pipeline: Pipeline, tmp_path: Path
) -> None:
    today = dt.date.today()
    old = today.replace(year=today.year - 8).isoformat()
    old_file = write_extract(
        tmp_path / "old.csv",
        "police_outcomes",
        [{"outcome_id": "OLD", "dob": "2004-01-01", "offence_date": old, "outcome_date": old},
         {"outcome_id": "KEPT"}],
    )  # fmt: skip
    pipeline.load(pipeline.land_file("police_outcomes", old_file))
    pipeline.publish()
    (before,) = parts(pipeline)
    assert before.startswith("1-2-")

    # retention deletes one of load 1's rows: load 1's part no longer says what the loader holds, so it is written
    # again under a new name; the old one stays while the previous analysts' file (yos.prev.duckdb) reads it
    pipeline.apply_retention()
    after = parts(pipeline)
    assert before in after and len(after) == 2
    (rewritten,) = set(after) - {before}
    assert rewritten.startswith("1-1-")
    assert analyst_rows(pipeline, "select outcome_id from history.police_outcomes") == [("KEPT",)]

    # one more publish: the previous file now reads the new part too, so the old part is read by no file and goes
    publish_rows(pipeline, tmp_path, [{"outcome_id": "NEXT"}], "next.csv")
    names = set(parts(pipeline))
    assert before not in names and rewritten in names
    assert not list(history_parts.directory(pipeline.paths.published_db).glob("*/*.tmp"))


def test_a_copied_data_directory_is_readable_and_the_next_run_names_its_own_parts(
    pipeline: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish_rows(pipeline, tmp_path, [{"outcome_id": "A"}], "one.csv")
    source = pipeline.paths.data
    pipeline.con.close()
    copy = tmp_path / "restored"
    shutil.copytree(source, copy)
    published = copy / "yos.duckdb"

    con = connect_analyst(published)  # reads the parts where it was published, until the next publish
    assert con.execute("select outcome_id from core.police_outcomes").fetchall() == [("A",)]
    assert history_parts.named_elsewhere(con, published)
    # what the analyst may read is still only history parts: no other file
    with pytest.raises(duckdb.PermissionException, match="disabled by configuration"):
        con.execute(f"select * from read_csv('{source / 'landing'}/**/*.csv')").fetchall()
    con.close()

    shutil.rmtree(source)  # the original is gone (a restore onto a new machine)
    monkeypatch.setenv("YOS_DATA_DIR", str(copy))
    restored = Pipeline()
    assert restored.publish_needed()
    restored.publish()
    con = connect_analyst(published)
    assert not history_parts.named_elsewhere(con, published)
    assert con.execute("select outcome_id from core.police_outcomes").fetchall() == [("A",)]
    con.close()


def test_stored_models_hold_what_their_live_definitions_give_over_the_parts(pipeline: Pipeline, tmp_path: Path) -> None:
    # publishing computes the stored models from the loader's own current versions, then points the core views back
    # at the parts: what is stored must be what an analyst's live query over the parts gives, a replaced version
    # (A's first) left out of both
    publish_rows(pipeline, tmp_path, [{"outcome_id": "A"}, {"outcome_id": "B"}], "one.csv")
    publish_rows(pipeline, tmp_path, [{"outcome_id": "A", "outcome_type": "8"}, {"outcome_id": "C"}], "two.csv")
    con = connect_analyst(pipeline.paths.published_db)
    try:
        query = "select table_name from duckdb_tables() where schema_name = '_stored'"
        stored = [n for (n,) in con.execute(query).fetchall()]
        assert "conformed__outcomes" in stored and "kpi__measures" in stored
        for name in stored:
            differ = con.execute(
                f"""select count(*) from ((select * from _stored.{name} except all select * from _live.{name})
                    union all (select * from _live.{name} except all select * from _stored.{name}))"""
            ).fetchone()[0]
            assert differ == 0, name
        assert con.execute("select count(*) from _stored.conformed__outcomes").fetchone()[0] == 3  # A, B, C once each
        # the published views read the parts beside the file, never the loader's database
        assert con.execute("select count(*) from duckdb_views() where sql ilike '%loader.%'").fetchone()[0] == 0
    finally:
        con.close()
