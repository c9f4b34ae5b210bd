"""The data directory is the service's alone (issue 29, item 2): the key file is created 0600 (never written
readable and narrowed after), and everything a load writes is readable by the service's user only, whatever the
umask of the shell that started it."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from partnership.config import SecretRef

YOS = str(Path(sys.executable).with_name("yos"))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_key_file_is_created_0600_not_narrowed_afterwards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    os.umask(0o022)  # a usual shell
    monkeypatch.setattr(Path, "chmod", lambda *a, **k: None)  # a narrowing afterwards would come too late
    key = tmp_path / "secrets" / "pseudonym.key"
    value = SecretRef(file=str(key), create=True).resolve()
    assert mode(key) == 0o600 and mode(key.parent) == 0o700
    assert SecretRef(file=str(key), create=True).resolve() == value  # made once, then read


def test_what_a_load_writes_is_the_services_alone(partnership: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # a data directory made before the rule
    env = {k: v for k, v in os.environ.items() if k != "YOS_PSEUDONYM_KEY"} | {"YOS_DATA_DIR": str(data)}
    outcomes = str(partnership / "police" / "police_outcomes.csv")
    done = subprocess.run(
        ["sh", "-c", f"umask 022; exec {YOS} load police_outcomes {outcomes} --no-alert"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert mode(data) == 0o700
    readable = [
        f"{p.relative_to(data)} {oct(mode(p))}" for p in data.rglob("*") if mode(p) & 0o077 and not p.is_symlink()
    ]
    assert not readable, readable
    for made in ("secrets/pseudonym.key", "warehouse/loader.duckdb", "yos.duckdb"):
        assert (data / made).exists(), made
