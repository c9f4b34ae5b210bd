"""The intake folder: complete files only, hostile names handled safely, the same bytes twice recognised."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flows.steps import Pipeline


@pytest.fixture
def police_intake(pipeline: Pipeline) -> Path:
    folder = pipeline.paths.intake / "police"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def age(path: Path, seconds: float = 60) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_a_complete_file_lands_after_two_looks_and_leaves_the_folder(pipeline, police_intake, partnership) -> None:
    src = (partnership / "police" / "police_outcomes.csv").read_bytes()
    dropped = police_intake / "police_outcomes__2025-01-01__2025-12-31.csv"
    dropped.write_bytes(src)
    age(dropped)
    first = pipeline.scan_intake(settle_seconds=5)
    assert first.landed == [] and first.waiting == [dropped.name]  # seen once: not yet known to be complete
    second = pipeline.scan_intake(settle_seconds=5)
    (extract,) = second.landed
    assert extract.path.read_bytes() == src and not dropped.exists()
    assert (str(extract.declared_period_start), str(extract.declared_period_end)) == ("2025-01-01", "2025-12-31")
    assert extract.source == f"intake:{dropped.name}"


def test_partial_writes_are_never_taken(pipeline, police_intake) -> None:
    in_progress = police_intake / "police_outcomes.csv.part"
    in_progress.write_text("outcome_id,pnc_id\n")
    hidden = police_intake / ".police_outcomes.csv"
    hidden.write_text("outcome_id\n")
    growing = police_intake / "police_outcomes.csv"
    growing.write_text("outcome_id,pnc_id\n")
    age(growing)
    pipeline.scan_intake(settle_seconds=5)
    with growing.open("a") as f:  # still being written (an SFTP upload that kept an old mtime)
        f.write("A,")
    age(growing)
    assert pipeline.scan_intake(settle_seconds=5).landed == []
    assert growing.exists()
    recent = police_intake / "custody_transfers.csv"
    recent.write_text("detention_id\n")  # just modified: not settled, however often it is looked at
    landed = []
    for _ in range(3):
        scan = pipeline.scan_intake(settle_seconds=5)
        assert recent.name in scan.waiting
        landed += [e.feed for e in scan.landed]
    assert in_progress.exists() and hidden.exists() and recent.exists()
    # once the upload had stopped changing, the finished file was taken, and only it
    assert landed == ["police_outcomes"]


def test_the_same_bytes_delivered_twice_land_once(pipeline, police_intake, partnership) -> None:
    src = (partnership / "police" / "police_outcomes.csv").read_bytes()
    for name in ("police_outcomes.csv", "police_outcomes-resent.csv"):
        f = police_intake / name
        f.write_bytes(src)
        age(f)
        pipeline.scan_intake(settle_seconds=1)
        pipeline.scan_intake(settle_seconds=1)
    assert pipeline.con.execute("select count(*) from landing.extracts").fetchone() == (1,)
    assert list(police_intake.glob("*.csv")) == []


def test_hostile_and_odd_names_are_handled_safely(pipeline, police_intake, tmp_path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("not for the pipeline")
    (police_intake / "police_outcomes link.csv").symlink_to(outside)
    names = [
        "police_outcomes ünïcode & spaces.csv",
        "-rf police_outcomes.csv",
        "police_outcomes_\nnewline.csv",
        "..police_outcomes.csv",
        "notes.txt",
    ]
    for n, name in enumerate(names):
        (police_intake / name).write_text(f"outcome_id\nX{n}\n")
        age(police_intake / name)
    pipeline.scan_intake(settle_seconds=1)
    result = pipeline.scan_intake(settle_seconds=1)
    landed_names = {e.original_name for e in result.landed} | set(result.duplicates)
    assert landed_names == {"police_outcomes ünïcode & spaces.csv", "police_outcomes_\nnewline.csv"}
    refused = sorted(p.name for p in (police_intake / ".refused").glob("*.why.txt"))
    assert len(refused) == 3  # the symlink, '-rf ...' and notes.txt
    assert outside.read_text() == "not for the pipeline"  # the link was never followed, its target untouched
    assert (police_intake / "..police_outcomes.csv").exists()  # a dot file is treated as in progress, not taken
    sources = {r[0] for r in pipeline.con.execute("select source from landing.extracts").fetchall()}
    assert "intake:police_outcomes_\\nnewline.csv" in sources  # escaped where it is shown
