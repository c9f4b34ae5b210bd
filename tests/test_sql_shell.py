"""`yos sql` as an analyst meets it: a shell over the published warehouse that reads and nothing else, and a
one-line message for every mistake (issue 29, items 5, 11, 14 and 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

YOS = str(Path(sys.executable).with_name("yos"))


def yos(*args: str, data: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "YOS_DATA_DIR": str(data)}
    return subprocess.run([YOS, *args], input=stdin, capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture(scope="module")
def published(partnership: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("shell") / "data"
    outcomes = str(partnership / "police" / "police_outcomes.csv")
    env = {**os.environ, "YOS_DATA_DIR": str(data), "YOS_PSEUDONYM_KEY": "test-pseudonym-key-not-a-real-secret"}
    done = subprocess.run([YOS, "load", "police_outcomes", outcomes, "--no-alert"], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return data


def test_the_shell_answers_sql_and_lists_only_what_analysts_read(published: Path) -> None:
    r = yos("sql", data=published, stdin="select count(*) as n\nfrom core.police_outcomes;\n.tables\n")
    assert r.returncode == 0, r.stderr
    assert "core.police_outcomes" in r.stdout and "kpi.first_time_entrants" in r.stdout
    assert "_live." not in r.stdout and "_stored." not in r.stdout


@pytest.mark.parametrize(
    "escape",
    [
        ".shell touch {marker}",
        ".system touch {marker}",
        ".output {marker}",
        ".once {marker}",
        ".open {loader}",
        ".read {marker}",
    ],
)
def test_no_dot_command_reaches_the_machine(published: Path, tmp_path: Path, escape: str) -> None:
    marker = tmp_path / "escaped"
    loader = published / "warehouse" / "loader.duckdb"
    script = escape.format(marker=marker, loader=loader) + "\nselect 42 as answer;\n"
    r = yos("sql", data=published, stdin=script)
    assert "is not available here" in r.stdout
    assert not marker.exists()
    assert "42" in r.stdout  # the shell went on, still on the published file
    assert "Traceback" not in r.stdout + r.stderr


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_csv('/etc/passwd');",
        "attach '{loader}' as loader;",
        "copy (select 1) to '{marker}';",
        "set enable_external_access = true;",
        "install httpfs;",
        "create table kpi.mine as select 1;",
    ],
)
def test_sql_cannot_reach_files_other_databases_or_settings(published: Path, tmp_path: Path, sql: str) -> None:
    marker = tmp_path / "written"
    statement = sql.format(loader=published / "warehouse" / "loader.duckdb", marker=marker)
    r = yos("sql", data=published, stdin=statement + "\nselect count(*) from core.police_outcomes;\n")
    assert "Error:" in r.stdout
    assert not marker.exists() and "root:" not in r.stdout
    assert r.returncode == 1  # not interactive: a failed statement is an exit status a script can see
    one = yos("sql", statement.rstrip(";"), data=published)
    assert one.returncode == 1 and "Traceback" not in one.stderr
    assert len(one.stderr.strip().splitlines()) == 1, one.stderr


def test_a_query_mistake_is_one_line_and_exit_1(published: Path) -> None:
    for query in ("select * from no_such_table", "select order from core.police_outcomes"):
        r = yos("sql", query, data=published)
        assert r.returncode == 1
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert r.stderr.startswith("Error: ")


def test_kpi_without_a_view_lists_them_and_version_is_known(published: Path) -> None:
    r = yos("kpi", data=published)
    assert r.returncode == 0
    names = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert "first_time_entrants" in names and "reoffending" in names and len(names) > 10
    v = yos("--version", data=published)
    assert v.returncode == 0 and v.stdout.startswith("yos, version ")
