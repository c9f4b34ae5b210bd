"""`yos load` with no SMTP server: it lists this load's alerts, each with why it was not delivered, and sums up in
one line the earlier alerts it tried again, rather than listing every earlier failure on every load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from partnership.processes import free_port
from tests.helpers import write_extract

YOS = str(Path(sys.executable).with_name("yos"))


def test_yos_load_lists_this_loads_alerts_with_the_reason_and_sums_up_the_earlier_ones(tmp_path: Path) -> None:
    env = {**os.environ, "YOS_DATA_DIR": str(tmp_path / "data"), "YOS_SMTP_HOST": "127.0.0.1",
           "YOS_SMTP_PORT": str(free_port())}  # fmt: skip  # nothing listens there
    outputs = []
    for n in range(2):
        path = write_extract(tmp_path / f"{n}.csv", "police_outcomes", [{"outcome_id": f"A{n}", "sex": "X"}])
        r = subprocess.run([YOS, "load", "police_outcomes", str(path)], env=env, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr
        outputs.append(r.stdout)
    for out in outputs:
        lines = out.splitlines()
        mine = [n for n, line in enumerate(lines) if line.startswith("  alert to ")]
        assert [lines[n].split(" (copy")[0] for n in mine] == ["  alert to data-lead@police.example: failed"], out
        assert lines[mine[0] + 1].startswith("    not delivered: ConnectionRefusedError"), out
    assert "earlier" not in outputs[0]
    assert "  1 earlier alert(s) still undelivered (ConnectionRefusedError" in outputs[1], outputs[1]
    assert outputs[1].count("data-lead@police.example") == 2  # this load's line, and the one summary line
