"""As submitted and as corrected: out-of-order arrival, as-at reproduction, crash safety, analysts never blocked."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows.steps import Pipeline
from tests.conftest import TEST_KEY
from tests.helpers import write_extract
from warehouse.as_at import resolve, set_as_at
from warehouse.db import connect_analyst

D = dt.date


def state(p: Pipeline, feed: str) -> list[tuple]:
    return p.con.execute(
        f"select * exclude (_as_of, _key, _row_hash, _extract_id, _line, _loaded_by, _replaced_by) "
        f"from history.{feed} where _replaced_by is null order by all"
    ).fetchall()


def load_in_order(p: Pipeline, tmp: Path, feed: str, extracts: list[tuple[dt.date, list[dict]]], order: list[int]):
    for i in order:
        period_end, rows = extracts[i]
        path = write_extract(tmp / f"{feed}-{i}.csv", feed, rows)
        p.load(p.land_file(feed, path, period=(None, period_end)))
    # Every row sent is kept as a version, whatever the order: a late, older row too (superseded on arrival).
    versions = p.con.execute(f"select count(*) from history.{feed}").fetchone()[0]
    assert versions == sum(len(rows) for _, rows in extracts), (order, versions)
    return state(p, feed)


@pytest.mark.parametrize("feed", ["police_outcomes", "population_10_17"])  # a delta feed and a snapshot feed
def test_extracts_out_of_order_end_in_the_same_state_as_in_order(feed: str, tmp_path: Path, monkeypatch) -> None:
    if feed == "police_outcomes":
        extracts = [
            (D(2024, 1, 31), [{"outcome_id": "A", "gravity_score": "1"}, {"outcome_id": "B"}]),
            (D(2024, 2, 29), [{"outcome_id": "A", "gravity_score": "2"}]),
            (D(2024, 3, 31), [{"outcome_id": "B", "gravity_score": "3"}, {"outcome_id": "C"}]),
        ]
    else:
        extracts = [
            (D(2024, 1, 31), [{"year": "2023", "population": "1"}, {"year": "2024", "population": "1"}]),
            (D(2024, 2, 29), [{"year": "2024", "population": "2"}, {"year": "2025", "population": "2"}]),
            (D(2024, 3, 31), [{"year": "2025", "population": "3"}]),
        ]
    results = []
    for n, order in enumerate(([0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0])):
        monkeypatch.setenv("YOS_DATA_DIR", str(tmp_path / f"data{n}"))
        with Pipeline() as p:
            results.append(load_in_order(p, tmp_path / f"x{n}", feed, extracts, order))
    assert all(r == results[0] for r in results), results
    assert results[0]  # something is current


def test_a_return_is_reproduced_exactly_after_corrections_arrive(pipeline: Pipeline, tmp_path: Path) -> None:
    pop = write_extract(tmp_path / "pop.csv", "population_10_17", [{"year": "2024", "population": "10000"}])
    pipeline.load(pipeline.land_file("population_10_17", pop))
    first = write_extract(
        tmp_path / "po1.csv",
        "police_outcomes",
        [{"outcome_id": "A", "pnc_id": "20/0000001A"}, {"outcome_id": "B", "pnc_id": "20/0000002B"}],
    )
    returned = pipeline.load(pipeline.land_file("police_outcomes", first, period=(None, D(2024, 6, 30))))
    # the police later correct B: it was a community resolution, not a caution
    fix = write_extract(
        tmp_path / "po2.csv", "police_outcomes", [{"outcome_id": "B", "pnc_id": "20/0000002B", "outcome_type": "8"}]
    )
    pipeline.load(pipeline.land_file("police_outcomes", fix, period=(None, D(2024, 6, 30))))
    con = connect_analyst(pipeline.publish())
    query = "select fte_count from kpi.first_time_entrants where year = 2024"
    assert con.execute(query).fetchone() == (1,)
    measure = "select numerator from kpi.measures where measure = 'first_time_entrants' and period = '2024'"
    assert con.execute(measure).fetchone() == (1,)  # the stored result of this publish
    set_as_at(con, resolve(con, str(returned.load_id)))
    assert con.execute(query).fetchone() == (2,)  # exactly what the return said
    assert con.execute(measure).fetchone() == (2,)  # computed live, through every stored model it reads
    set_as_at(con, None)
    assert con.execute(query).fetchone() == (1,)
    today = dt.date.today().isoformat()
    assert resolve(con, today) > returned.load_id


def test_kpi_command_reads_as_at_a_load(pipeline: Pipeline, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from yos.cli import cli

    pop = write_extract(tmp_path / "pop.csv", "population_10_17", [{"year": "2024", "population": "10000"}])
    first = pipeline.load(pipeline.land_file("population_10_17", pop))
    pop2 = write_extract(tmp_path / "pop2.csv", "population_10_17", [{"year": "2024", "population": "20000"}])
    pipeline.load(pipeline.land_file("population_10_17", pop2))
    pipeline.publish()
    runner = CliRunner()
    now = runner.invoke(cli, ["sql", "select population from core.population_10_17", "--json"])
    assert now.output.strip() == '{"population": 20000}'
    bad = runner.invoke(cli, ["kpi", "nonsense"])
    assert bad.exit_code == 1 and "the KPI views are" in bad.output
    bad = runner.invoke(cli, ["kpi", "custody", "--as-at", "99999"])
    assert bad.exit_code == 1 and "there is no load 99999" in bad.output
    ok = runner.invoke(cli, ["kpi", "custody", "--as-at", str(first.load_id), "--json"])
    assert ok.exit_code == 0, ok.output


YOS = str(Path(sys.executable).with_name("yos"))


@pytest.fixture(scope="module")
def loaded_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory where ``yos load`` has loaded and published one police outcome, A: the tests below start
    from a copy of it (each ``yos load`` is a new process that imports GX and Prefect and publishes)."""
    tmp = tmp_path_factory.mktemp("loaded-a")
    env = {**os.environ, "YOS_DATA_DIR": str(tmp / "data"), "YOS_PSEUDONYM_KEY": TEST_KEY, "TMPDIR": str(tmp)}
    a = write_extract(tmp / "a.csv", "police_outcomes", [{"outcome_id": "A"}])
    r = subprocess.run([YOS, "load", "--no-alert", "police_outcomes", str(a)], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return tmp / "data"


KILL_AT = {
    "after landing": "warehouse.load.load_extract",
    "after staging": "warehouse.staging.drop",
    "after validation": "warehouse.load.validate",
    "before commit": "warehouse.loading.load",
    "while publishing": "warehouse.publish.publish_apart",
}

KILLER = """
import importlib, os, signal, sys
target = sys.argv[1]
module, name = target.rsplit('.', 1)
mod = importlib.import_module(module)
original = getattr(mod, name)
def killed(*a, **k):
    if name == 'publish_apart':  # the publish runs in a process of its own: killed while that builds the next file
        import pathlib, threading, time
        building = pathlib.Path(a[1]).with_name('yos.next.duckdb')
        def kill_when_building():
            while not building.exists():
                time.sleep(0.002)
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Thread(target=kill_when_building, daemon=True).start()
        return original(*a, **k)
    if name != 'load_extract':
        original(*a, **k)
    os.kill(os.getpid(), signal.SIGKILL)
for m in list(sys.modules.values()):
    if m is not None and getattr(m, name, None) is original:
        setattr(m, name, killed)
sys.argv = ['yos', 'load', '--no-alert', sys.argv[2], sys.argv[3]]
from yos.cli import cli
cli()
"""


@pytest.mark.parametrize("stage", list(KILL_AT))
def test_a_load_killed_at_any_stage_loses_and_doubles_nothing(
    stage: str, loaded_a: Path, tmp_path: Path, data_dir: Path
) -> None:
    import warehouse.load  # noqa: F401  (so the patch finds every importer)

    shutil.copytree(loaded_a, data_dir)
    more = write_extract(tmp_path / "b.csv", "police_outcomes", [{"outcome_id": "B"}, {"outcome_id": "C", "sex": "X"}])
    env = {**os.environ}
    killer = subprocess.run(
        [
            sys.executable,
            "-c",
            "import warehouse.load, warehouse.staging, expectations.validate, "
            "warehouse.loading, warehouse.publish, flows.steps\n" + KILLER,
            KILL_AT[stage],
            "police_outcomes",
            str(more),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    assert killer.returncode == -signal.SIGKILL, killer.stderr
    published = data_dir / "yos.duckdb"
    con = connect_analyst(published)
    assert con.execute("select outcome_id from core.police_outcomes").fetchall() == [("A",)]
    con.close()
    again = subprocess.run(
        [YOS, "load", "--no-alert", "police_outcomes", str(more)], env=env, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr
    con = connect_analyst(published)
    assert con.execute("select outcome_id from core.police_outcomes order by 1").fetchall() == [("A",), ("B",)]
    assert con.execute("select count(*) from history.police_outcomes").fetchone() == (2,)
    assert con.execute(
        "select rows_received, rows_loaded, rows_quarantined from audit.loads where status = 'loaded' order by load_id"
    ).fetchall() == [(1, 1, 0), (2, 1, 1)]


def test_an_analyst_holding_the_file_open_never_blocks_a_load(loaded_a: Path, tmp_path: Path, data_dir: Path) -> None:
    shutil.copytree(loaded_a, data_dir)

    def load(path: Path) -> subprocess.CompletedProcess:
        return subprocess.run(
            [YOS, "load", "--no-alert", "police_outcomes", str(path)],
            capture_output=True,
            text=True,
            env={**os.environ},
        )

    published = data_dir / "yos.duckdb"
    analyst = connect_analyst(published)
    before = analyst.execute("select count(*) from core.police_outcomes").fetchone()
    r = load(write_extract(tmp_path / "b.csv", "police_outcomes", [{"outcome_id": "B"}]))
    assert r.returncode == 0, r.stderr  # the load was not blocked by the open analyst connection
    assert analyst.execute("select count(*) from core.police_outcomes").fetchone() == before  # consistent view
    # a new connection (another process: within one process DuckDB reuses the open database) sees the new data
    fresh = subprocess.run(
        [YOS, "sql", "select count(*) as n from core.police_outcomes", "--json"],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert fresh.stdout.strip() == '{"n": 2}', fresh.stderr
    assert (published.parent / "yos.prev.duckdb").exists()


def test_a_second_loader_gets_a_clear_message_not_a_traceback(pipeline: Pipeline, tmp_path: Path) -> None:
    path = write_extract(tmp_path / "a.csv", "police_outcomes", [{"outcome_id": "A"}])
    r = subprocess.run(
        [YOS, "load", "police_outcomes", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    assert r.returncode == 1
    assert "in use by another process" in r.stderr and "Traceback" not in r.stderr
