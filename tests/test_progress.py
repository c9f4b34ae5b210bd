"""Progress on long work (issue 30): on a terminal a person sees each step (landing, staging, validating,
loading, publishing) with how far it has gone and how fast; piped, the same steps are plain lines, with no
terminal control codes; Prefect's logs are not touched."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

YOS = str(Path(sys.executable).with_name("yos"))
STEPS = ("landing police_outcomes", "staging police/police_outcomes", "validating police/police_outcomes",
         "loading police/police_outcomes", "publishing: models", "publishing: stored models")  # fmt: skip


def load_command(partnership: Path) -> list[str]:
    return [YOS, "load", "police_outcomes", str(partnership / "police" / "police_outcomes.csv"), "--no-alert"]


def test_a_terminal_sees_each_step_live(partnership: Path, tmp_path: Path) -> None:
    env = {**os.environ, "YOS_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "160", "TERM": "xterm"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen(load_command(partnership), env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 300)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(60) == 0, seen.decode(errors="replace")[-2000:]
    screen = seen.decode(errors="replace")
    assert "\x1b[" in screen  # drawn live, as a terminal shows it
    for step in STEPS:
        assert step in screen, step
    assert "━" in screen  # a bar
    assert re.search(r"[\d,]+ rows/s", screen)  # how fast


def test_piped_output_has_plain_lines_and_no_control_codes(partnership: Path, tmp_path: Path) -> None:
    env = {**os.environ, "YOS_DATA_DIR": str(tmp_path / "data")}
    r = subprocess.run(load_command(partnership), env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "\x1b[" not in r.stdout + r.stderr and "━" not in r.stdout + r.stderr
    for step in STEPS:
        assert re.search(rf"^{re.escape(step)}: [\d,]+( of [\d,]+)? \w+ in [\d.]+ s", r.stderr, re.M), step
    received = int(re.search(r"(\d+) received", r.stdout).group(1))
    assert re.search(rf"^staging police/police_outcomes: {received:,} rows in", r.stderr, re.M)
