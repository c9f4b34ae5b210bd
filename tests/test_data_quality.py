"""The partners' data-quality page: every partner and feed on it, figures equal to the warehouse's own counts, no
child's identifier anywhere in it, rendered in headless Chromium."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

from flows import tasks
from tests.helpers import screenshot
from warehouse.db import connect_analyst


def test_the_page_counts_and_never_shows_a_childs_row(
    pipeline, partnership: Path, defective: Path, tmp_path: Path
) -> None:  # noqa: ANN001, E501
    feeds = {p.parent.name + "/" + p.stem: p for p in sorted(partnership.rglob("*.csv"))}
    for path in feeds.values():
        pipeline.load(pipeline.land_file(path.stem, path))
    pipeline.con.execute("update landing.extracts set received_at = received_at - interval 62 day")  # a month before
    for name in ("police/police_outcomes", "courts/court_disposals", "police/custody_transfers"):
        path = defective / f"{name}.csv"
        pipeline.load(pipeline.land_file(path.stem, path))
    pipeline.publish()
    pipeline.close()
    page = Path(tasks.data_quality.fn())
    html = page.read_text()

    for name in feeds:
        partner, feed = name.split("/")
        assert f'id="{feed}"' in html and f"<h2>{partner}</h2>" in html
    con = connect_analyst(page.parent / "yos.duckdb")
    totals = con.execute(
        "select feed, sum(rows_received), sum(rows_quarantined) from audit.partner_scorecard group by feed"
    ).fetchall()
    con.close()
    for feed, rows, quarantined in totals:
        card = html.split(f'<div class="card" id="{feed}">', 1)[1].split('<div class="card"', 1)[0]
        assert f"<b>{rows:,}</b><span>rows received in 12 months</span>" in card
        assert f"of rows quarantined ({quarantined:,})" in card
    assert "awaiting a fix" in html  # custody_transfers, held back
    assert "<script" not in html and "src=" not in html and 'href="http' not in html and "@import" not in html

    identifiers = set()
    for path in [*feeds.values(), *defective.rglob("*.csv")]:
        with open(path, newline="", encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f):
                identifiers |= {
                    v for k, v in row.items() if k and k.endswith(("pnc_id", "person_id", "child_id")) and v
                }
    assert identifiers
    leaked = sorted(i for i in identifiers if len(i) >= 6 and i in html)
    assert not leaked, leaked[:5]

    shot = tmp_path / "data-quality.png"
    screenshot(page, shot, height=1500)
    if os.environ.get("YOS_DOCS_SCREENSHOT"):
        shutil.copy(shot, Path(__file__).resolve().parents[1] / "docs" / "data-quality.png")
