"""A new user's first hour (issue 29, items 12-14): what yos says when something is missing is said once, names
what to set, and does not claim work that was not done."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

YOS = str(Path(sys.executable).with_name("yos"))


def test_the_nightly_without_partner_tokens_says_what_is_missing_once(prefect_api: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YOS_TOKEN_")}
    env |= {"YOS_DATA_DIR": str(tmp_path / "data"), "PREFECT_API_URL": prefect_api}
    r = subprocess.run([YOS, "run", "nightly"], env=env, capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert r.returncode == 1
    last = r.stderr.rstrip().splitlines()[-1]
    assert last.startswith("Error: 13 feed(s) could not be fetched (nothing new was loaded)"), last
    for variable in ("YOS_TOKEN_POLICE", "YOS_TOKEN_COURTS", "YOS_TOKEN_CSC", "YOS_TOKEN_YOS", "YOS_TOKEN_REFERENCE"):
        assert variable in last
        logged = [line for line in out.splitlines() if variable in line and "were not pulled" in line]
        assert len(logged) == 1, logged  # once per partner, not once per feed and retry
    assert "yos partners serve --from data/demo/partners" in out  # how to point it at the stand-in partners
    assert "loaded and published" not in last
    assert out.count("Traceback") <= 1  # Prefect's own record of the failed flow run, nothing per feed
