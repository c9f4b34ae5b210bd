"""`yos intake watch` as the service runs it: every file it takes, and every one it removes as a duplicate, is
said in its log (issue 29, item 14: a duplicate vanished without a line)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

YOS = str(Path(sys.executable).with_name("yos"))


def wait_for(condition, seconds: float = 60) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_the_watcher_logs_what_it_takes_and_each_duplicate_it_removes(partnership: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {"YOS_DATA_DIR": str(data)}
    log = open(tmp_path / "watch.log", "w")  # noqa: SIM115
    watcher = subprocess.Popen([YOS, "intake", "watch", "--scan-interval", "0.2", "--settle", "0"], env=env,
                               stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        drop = data / "intake" / "police"
        assert wait_for(lambda: (data / "intake").exists())
        drop.mkdir(parents=True, exist_ok=True)
        shutil.copy(partnership / "police" / "police_outcomes.csv", drop / "police_outcomes.csv")
        assert wait_for(lambda: not (drop / "police_outcomes.csv").exists())
        shutil.copy(partnership / "police" / "police_outcomes.csv", drop / "police_outcomes-again.csv")
        assert wait_for(lambda: not (drop / "police_outcomes-again.csv").exists())
        time.sleep(0.5)
    finally:
        watcher.terminate()
        watcher.wait(10)
        log.close()
    said = (tmp_path / "watch.log").read_text()
    assert "landed" in said and "from the intake folder" in said
    assert "police_outcomes-again.csv was already landed (same bytes): removed" in said, said
