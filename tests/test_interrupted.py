"""Nothing a killed run leaves behind stays (issue 29, item 3): a transfer killed with SIGKILL part way leaves a
partial file of raw rows in landing; the next run of the service removes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sandbox.partner_server import serve
from tests.helpers import PARTNER_TOKENS, TOKENS

YOS = str(Path(sys.executable).with_name("yos"))


def test_a_killed_download_leaves_no_raw_rows_behind(prefect_api: str, partnership: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = serve(partnership, PARTNER_TOKENS, faults={"police_outcomes": ["trickle:5"]})
    env = {**os.environ, **TOKENS, "YOS_DATA_DIR": str(data), "PREFECT_API_URL": prefect_api,
           "YOS_PARTNERS_URL": server.url}  # fmt: skip
    try:
        night = subprocess.Popen([YOS, "run", "nightly", "--partner", "police"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 180
        partial: list[Path] = []
        while not partial and time.monotonic() < deadline and night.poll() is None:
            partial = list((data / "landing").glob("*/.incoming-*"))
            time.sleep(0.05)
        assert partial, "the download never started"
        os.kill(night.pid, signal.SIGKILL)
        night.wait()
        assert all(p.exists() for p in partial)  # what the killed transfer left: raw rows, half a file
    finally:
        server.shutdown()
    status = subprocess.run([YOS, "load", "population_10_17", str(partnership / "reference" / "population_10_17.csv"),
                             "--no-alert"], env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert not list((data / "landing").glob("*/.incoming-*"))
