"""The pipeline publishes in a process of its own (:func:`warehouse.publish.publish_apart`), so that its spill can be
in the clear (tests/warehouse/test_spill.py shows what it holds). What that process does is seen here as if it ran
here: its progress is shown, and its failure is raised with its own message, as the type the caller can act on
(a busy warehouse is retried by Prefect), never as a traceback."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from partnership import progress
from warehouse.db import WarehouseBusy, connect_analyst
from warehouse.publish import PublishFailed, publish_apart


def test_the_publishers_process_publishes_and_shows_its_progress_here(
    pipeline, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.helpers import write_extract

    rows = [{"outcome_id": f"O{i}", "pnc_id": f"20/{i:07d}A", "force_person_id": f"DP{i:07d}"} for i in range(30)]
    pipeline.load(pipeline.land_file("police_outcomes", write_extract(tmp_path / "o.csv", "police_outcomes", rows)))
    with progress.shown(sys.stderr):
        path = pipeline.publish()
    assert path == pipeline.paths.published_db
    err = capfd.readouterr().err
    assert "publishing: stored models" in err and "Traceback" not in err
    con = connect_analyst(path)
    try:
        assert con.execute("select count(*) from core.police_outcomes").fetchone() == (30,)
    finally:
        con.close()
    # the loader's connection was closed for the publish and is open again
    assert pipeline.con.execute("select count(*) from audit.loads").fetchone() == (1,)


def test_a_publish_that_finds_the_warehouse_busy_says_so_as_warehouse_busy(
    pipeline, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """``pipeline.con`` holds DuckDB's lock on the loader's file, as another process's load would."""
    monkeypatch.setenv("YOS_LOCK_WAIT_SECONDS", "0.5")
    paths = pipeline.paths
    with pytest.raises(WarehouseBusy, match="in use by another process"):
        publish_apart(paths.loader_db, paths.published_db, pipeline.cfg.area)
    assert not paths.published_db.exists()
    assert "Traceback" not in capfd.readouterr().err


def test_a_publish_whose_process_fails_says_why_in_a_line_and_swaps_nothing_in(
    data_dir: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    loader = tmp_path / "loader.duckdb"
    loader.write_text("not a database")
    published = tmp_path / "yos.duckdb"
    with pytest.raises(PublishFailed, match=r"^publishing failed \(\w+\): .+") as failed:
        publish_apart(loader, published, {"la_code": "E06000001"})
    assert "\n" not in str(failed.value)
    assert not published.exists()
    assert "Traceback" not in capfd.readouterr().err


def test_the_publishers_process_is_given_no_secret_the_configuration_names(
    pipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It never reads the pseudonym key or a partner's credential, so it is not given them (the process itself is
    replaced here: what is checked is what it would be started with)."""
    import subprocess

    import warehouse.publish

    started = {}

    def run(args, **kwargs):  # noqa: ANN001, ANN202
        started.update(kwargs)
        return subprocess.CompletedProcess(args, 0, stdout='{"published": "yos.duckdb", "loads": 0}')

    monkeypatch.setenv("YOS_TOKEN_POLICE", "t0ken")
    monkeypatch.setattr(warehouse.publish.subprocess, "run", run)
    named = [ref.env for ref in pipeline.cfg.secrets() if ref.env]
    assert {"YOS_PSEUDONYM_KEY", "YOS_TOKEN_POLICE"} <= set(named)
    pipeline.publish()
    assert not set(named) & set(started["env"]), "a secret the configuration names was passed on"
    assert started["env"]["YOS_DATA_DIR"] == str(pipeline.paths.data)  # the rest of the environment is
