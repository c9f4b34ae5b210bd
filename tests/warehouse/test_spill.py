"""DuckDB's spill holds nothing anyone could read (issue 29, item 1). A load that does not fit in the loader's memory
spills to ``<data>/warehouse/spill/``: a folder only the service can open, files only it can read, encrypted under a
key DuckDB draws for the process, and never the pseudonym key or its pads (the HMAC runs in Python, outside
DuckDB's buffers). A publish runs in a process of its own that never read an extract, and spills in the clear what
the loader's file holds. What a killed run left there is removed when the loader next opens, never while another
process holds it."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import TEST_KEY
from tests.helpers import write_extract
from warehouse.db import WarehouseBusy, connect_loader, spill_directory
from warehouse.pseudonymise import BLOCK, install

PNC = re.compile(rb"\d{2}/\d{7}[A-Z]")
PSEUDONYM = re.compile(rb"[0-9a-f]{32}")  # a pseudonym or row hash as stored, in hex: what a spill in the clear shows


def pads(key: str) -> list[bytes]:
    k = key.encode().ljust(BLOCK, b"\0")
    ipad, opad = bytes(b ^ 0x36 for b in k), bytes(b ^ 0x5C for b in k)
    return [key.encode(), ipad, opad, ipad.hex().encode(), opad.hex().encode()]


class SpillWatch:
    """Reads every file in the spill folder over and over while a load runs (DuckDB deletes or truncates spill as
    it goes), and notes what it found in them, their modes and the folder's."""

    def __init__(self, spill: Path, needles: list[bytes]) -> None:
        self.spill, self.needles = spill, needles
        self.bytes_read, self.files, self.found, self.modes = 0, set(), [], set()
        self.pseudonyms = 0  # reads of a spill file in which a pseudonym or row hash could be read
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SpillWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for f in list(self.spill.iterdir()) if self.spill.exists() else []:
                try:
                    self.modes.add(stat.S_IMODE(f.stat().st_mode))
                    data = f.read_bytes()
                except FileNotFoundError:
                    continue
                self.files.add(f.name)
                self.bytes_read += len(data)
                if m := PNC.search(data):
                    self.found.append((f.name, m.group()))
                self.pseudonyms += bool(PSEUDONYM.search(data))
                self.found += [(f.name, "key material") for n in self.needles if n in data]
            time.sleep(0.005)


@pytest.mark.parametrize("held", ["in memory", "on disk"])
def test_a_load_that_spills_leaves_no_identifier_or_key_readable(
    held: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the staged extract is held in memory (and spills) or, too large for memory, in a database file of
    its own in the spill folder (:func:`warehouse.staging.types_on_read`; faked here)."""
    from flows.steps import Pipeline
    from warehouse import staging

    monkeypatch.setenv("YOS_DUCKDB_MEMORY_LIMIT", "96MB")  # the staged extract does not fit: it spills
    monkeypatch.setattr(staging, "types_on_read", lambda con, path: held == "on disk")
    n = 200_000
    rows = [{"outcome_id": f"O{i}", "pnc_id": f"20/{i:07d}A", "force_person_id": f"DP{i:07d}"} for i in range(n)]
    first = write_extract(tmp_path / "one.csv", "police_outcomes", rows)
    second = write_extract(tmp_path / "two.csv", "police_outcomes", rows[1000:] + rows[:1000])
    with Pipeline() as pipeline:
        spill = spill_directory(pipeline.paths.loader_db)
        with SpillWatch(spill, pads(TEST_KEY)) as watch:
            one = pipeline.load(pipeline.land_file("police_outcomes", first))
            two = pipeline.load(pipeline.land_file("police_outcomes", second))
        assert (one.rows_loaded, two.rows_loaded) == (n, n)
        assert watch.bytes_read > 10 * 2**20, "the loads did not spill: the test proves nothing"
        assert watch.found == []
        assert any(f.startswith("held_") for f in watch.files) == (held == "on disk")
        assert stat.S_IMODE(spill.stat().st_mode) == 0o700
        assert watch.modes == {0o600}


def test_a_publish_spills_in_the_clear_in_its_own_process_and_no_identifier_or_key_with_it(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored models spill at national size, and encrypted they took three times as long, so the publisher's
    process spills in the clear. In the loader's own process that spilled the HMAC's inputs, left in DuckDB's memory
    by the load (bench/NOTES.md, change 51): the process that publishes has never read an extract or the key."""
    from flows.steps import Pipeline

    monkeypatch.setenv("YOS_DUCKDB_MEMORY_LIMIT", "96MB")  # the load spills, and so does the publish
    n = 200_000
    rows = [{"outcome_id": f"O{i}", "pnc_id": f"20/{i:07d}A", "force_person_id": f"DP{i:07d}"} for i in range(n)]
    with Pipeline() as pipeline:
        spill = spill_directory(pipeline.paths.loader_db)
        pipeline.load(
            pipeline.land_file("police_outcomes", write_extract(tmp_path / "one.csv", "police_outcomes", rows))
        )
        with SpillWatch(spill, pads(TEST_KEY)) as watch:
            pipeline.publish()
        assert watch.bytes_read > 2**20, "the publish did not spill: the test proves nothing"
        assert watch.pseudonyms > 0, "the publish's spill was not in the clear"
        assert watch.found == []
        assert watch.modes == {0o600}
        # the loader's connection is open again, and a load after the publish spills encrypted, as before
        with SpillWatch(spill, pads(TEST_KEY)) as after:
            again = rows[1000:] + rows[:1000]
            two = pipeline.land_file("police_outcomes", write_extract(tmp_path / "two.csv", "police_outcomes", again))
            assert pipeline.load(two).rows_loaded == n
        assert after.bytes_read > 2**20 and after.pseudonyms == 0 and after.found == []


def test_an_extract_held_on_disk_is_encrypted_readable_only_by_its_owner_and_deleted(data_dir: Path) -> None:
    """A staged extract too large for memory is held in a database file of its own in the spill folder. Compressed,
    its identifiers may not show as text even unencrypted (the test above cannot tell), so this opens the file as
    anyone could: DuckDB refuses it without the key, which only the loader's process held."""
    import duckdb

    from warehouse import staging

    con = connect_loader(data_dir / "warehouse" / "loader.duckdb")
    try:
        held = staging._held_on_disk(con, 7)
        con.execute(
            f"create table {held} as select '20/' || lpad(i::varchar, 7, '0') || 'A' as pnc from range(10000) t(i)"
        )
        path = staging._held_path(con, 7)
        assert path.parent == spill_directory(data_dir / "warehouse" / "loader.duckdb")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        con.execute("detach held_7")
        with pytest.raises(duckdb.Error, match="encrypted database"):
            duckdb.connect(str(path))
        staging.drop(con, 7)
        assert not path.exists()
    finally:
        con.close()


def test_what_a_killed_run_left_in_spill_is_removed_when_the_loader_opens(data_dir: Path) -> None:
    """Only once DuckDB's lock is ours: while another process holds the loader, its spill is its own."""
    loader = data_dir / "warehouse" / "loader.duckdb"
    spill = spill_directory(loader)
    spill.mkdir(parents=True)
    spill.chmod(0o755)  # as an older version left it
    left = spill / "duckdb_temp_storage_DEFAULT-0.tmp"
    left.write_bytes(b"20/0000001A" * 1000)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from warehouse.db import connect_loader; "
         f"con = connect_loader(Path({str(loader)!r})); print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "open"
        left.write_bytes(b"20/0000001A" * 1000)  # the holder's own spill, as far as anyone can tell
        with pytest.raises(WarehouseBusy):
            connect_loader(loader)
        assert left.exists()
    finally:
        holder.kill()
        holder.wait()
    con = connect_loader(loader)  # the holder was killed: what it left is stale
    try:
        assert list(spill.iterdir()) == []
        assert stat.S_IMODE(spill.stat().st_mode) == 0o700
    finally:
        con.close()


def test_the_pseudonym_key_is_no_constant_duckdb_holds(data_dir: Path) -> None:
    """Not in a macro, a setting or a prepared plan's text: nothing DuckDB could write to spill or show."""
    con = connect_loader(data_dir / "warehouse" / "loader.duckdb")
    try:
        install(con, TEST_KEY)
        assert con.execute("select pseudonym('pnc', '20/0000001A')").fetchone()[0]
        held = " ".join(
            str(v)
            for q in (
                "select macro_definition from duckdb_functions() where macro_definition is not null",
                "select value from duckdb_settings()",
            )
            for (v,) in con.execute(q).fetchall()
        ).encode()
        assert [p for p in pads(TEST_KEY) if p in held] == []
    finally:
        con.close()
    assert os.environ["YOS_PSEUDONYM_KEY"] == TEST_KEY
