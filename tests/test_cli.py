"""The yos command as a user meets it: help everywhere, `yos load` on a fresh machine, clear errors."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from yos.cli import cli

YOS = str(Path(sys.executable).with_name("yos"))


def commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((prefix + name, cmd))
        if isinstance(cmd, click.Group):
            out.extend(commands(cmd, prefix + name + " "))
    return out


def test_every_command_has_help_with_an_example() -> None:
    for name, cmd in commands(cli):
        assert cmd.help, name
        if not isinstance(cmd, click.Group):
            assert "Example:" in cmd.help, name


def run(*args: str, data: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "YOS_DATA_DIR": str(data)}
    return subprocess.run([YOS, *args], capture_output=True, text=True, env=env, timeout=300)


def test_load_works_alone_on_a_fresh_data_dir_and_publishes(partnership: Path, tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    r = run(
        "load",
        "police_outcomes",
        str(partnership / "police" / "police_outcomes.csv"),
        "--no-alert",
        data=data,
    )
    assert r.returncode == 0, r.stderr
    assert "loaded, 0 quarantined" in r.stdout
    q = run("sql", "select count(*) as n from core.police_outcomes", "--json", data=data)
    rows = (partnership / "police" / "police_outcomes.csv").read_text().count("\n") - 1
    assert q.stdout.strip() == f'{{"n": {rows}}}'


def test_a_bad_file_gets_a_clear_message_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "outcomes.csv"
    bad.write_bytes("outcome_id,pnc_id\nA,é\n".encode("latin-1"))
    r = run("load", "police_outcomes", str(bad), "--no-alert", data=tmp_path / "d")
    assert r.returncode == 2
    assert "outcomes.csv (police/police_outcomes/" in r.stdout
    assert "held back whole" in r.stdout and "not UTF-8" in r.stdout and "(line 2)" in r.stdout
    assert "fix: Save or export the extract as UTF-8" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    r = run("load", "police_outcome", str(bad), data=tmp_path / "d")
    assert r.returncode == 1 and "no contract for feed 'police_outcome'" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_load_from_a_shell_without_the_services_key_is_refused(partnership: Path, tmp_path: Path) -> None:
    """The service reads the key from its environment; a shell without it would read (and first create) the key
    file instead. Its load must be refused, not give every child in it a second pseudonym."""
    data = tmp_path / "d"
    outcomes = str(partnership / "police" / "police_outcomes.csv")
    assert run("load", "police_outcomes", outcomes, "--no-alert", data=data).returncode == 0
    shell = {k: v for k, v in os.environ.items() if k != "YOS_PSEUDONYM_KEY"}
    disposals = str(partnership / "courts" / "court_disposals.csv")
    r = subprocess.run([YOS, "load", "court_disposals", disposals, "--no-alert"], capture_output=True, text=True,
                       env={**shell, "YOS_DATA_DIR": str(data)}, timeout=300)  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert (
        "is not the key this warehouse's pseudonyms (key version 1) were made with, so nothing was loaded" in r.stderr
    )
    assert "environment variable YOS_PSEUDONYM_KEY or file" in r.stderr and "Traceback" not in r.stderr
    key_file = (data / "secrets" / "pseudonym.key").read_text().strip()
    assert key_file not in r.stdout + r.stderr and os.environ["YOS_PSEUDONYM_KEY"] not in r.stdout + r.stderr
    q = run("sql", "select count(*) as n from core.court_disposals", "--json", data=data)
    assert q.stdout.strip() == '{"n": 0}'


def test_sql_is_read_only_and_has_no_file_access(partnership: Path, tmp_path: Path) -> None:
    data = tmp_path / "d"
    run(
        "load",
        "population_10_17",
        str(partnership / "reference" / "population_10_17.csv"),
        "--no-alert",
        data=data,
    )
    r = run("sql", "create table kpi.x as select 1", data=data)
    assert r.returncode != 0 and "read-only" in (r.stdout + r.stderr).lower()
    r = run("sql", "select * from read_csv('/etc/passwd')", data=data)
    assert r.returncode != 0


def test_generate_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    def digest(out: Path) -> str:
        result = CliRunner().invoke(cli, ["generate", "--out", str(out), "--seed", "3", "--children", "80"])
        assert result.exit_code == 0, result.output
        return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(out.rglob("*.csv")))).hexdigest()

    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    other = CliRunner().invoke(cli, ["generate", "--out", str(tmp_path / "c"), "--seed", "4", "--children", "80"])
    assert other.exit_code == 0
    assert (
        digest(tmp_path / "a")
        != hashlib.sha256(b"".join(p.read_bytes() for p in sorted((tmp_path / "c").rglob("*.csv")))).hexdigest()
    )


def test_load_takes_the_period_an_extract_speaks_for(partnership: Path, tmp_path: Path) -> None:
    header = str(partnership / "childrens_social_care" / "cic_header.csv")
    bad = run("load", "cic_header", header, "--no-alert", "--period", "2024-03-31", data=tmp_path / "d")
    assert bad.returncode == 2 and "--period" in bad.stderr and "START/END" in bad.stderr
    backwards = run(
        "load", "cic_header", header, "--no-alert", "--period", "2024-03-31/2023-04-01", data=tmp_path / "d"
    )
    assert backwards.returncode == 2 and "ends (2023-04-01) before it starts" in backwards.stderr
    ok = run("load", "cic_header", header, "--no-alert", "--period", "2023-04-01/2024-03-31", data=tmp_path / "d")
    assert ok.returncode == 0, ok.stderr
    q = run(
        "sql", "select declared_period_start, declared_period_end from audit.extracts", "--json", data=tmp_path / "d"
    )
    assert q.stdout.strip() == '{"declared_period_start": "2023-04-01", "declared_period_end": "2024-03-31"}'
