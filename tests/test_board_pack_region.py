"""A hub member's board pack shows its region from the hub warehouse: every partnership's published figure with its
date, its own rank ("3rd of 5"), the regional total where the hub shows one, a suppressed peer as suppressed. A
partnership outside a hub, or one whose hub warehouse cannot be read, gets the pack it always had (the latter with
one line saying why)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.steps import Pipeline
from hub.config import Hub, load_hub
from hub.warehouse import build
from tests.helpers import load_rows, screenshot
from tests.test_hub import TEMPLATE, fake_published, hub_yml

FTE = "per 100,000 aged 10-17"
# The peers' published figures: (measure, period, numerator, denominator, value, unit, better); a None value is
# suppressed. Ours (Derby, loaded below): first time entrants 2024 7 of 20,000 = 35.0; OOCD share 2023-24 100.0%;
# violent offences 2023-24 suppressed.
PEERS = {
    "leicester": ("E06000016", "Leicester Youth Justice Partnership", [
        ("first_time_entrants", "2024", 13, 40000, 32.5, FTE, "lower"),
        ("oocd_share", "2023-24", 30, 40, 75.0, "%", None),
        ("violent_offences", "2023-24", 10, 40, 25.0, "%", "lower")]),
    "nottingham": ("E06000018", "Nottingham Youth Justice Partnership", [
        ("first_time_entrants", "2024", 60, 40000, 150.0, FTE, "lower"),
        ("oocd_share", "2023-24", None, None, None, "%", None),  # suppressed: the region's total is withheld
        ("violent_offences", "2023-24", 12, 60, 20.0, "%", "lower")]),
    "leicestershire": ("E10000018", "Leicestershire Youth Justice Partnership", [
        ("first_time_entrants", "2024", 24, 80000, 30.0, FTE, "lower"),
        ("oocd_share", "2023-24", 50, 80, 62.5, "%", None),
        ("violent_offences", "2023-24", 30, 100, 30.0, "%", "lower")]),
    "rutland": ("E06000017", "Rutland Youth Justice Partnership", [
        ("first_time_entrants", "2024", 5, 4000, 125.0, FTE, "lower"),
        ("oocd_share", "2023-24", 6, 10, 60.0, "%", None),
        ("violent_offences", "2023-24", 5, 10, 50.0, "%", "lower")]),
}  # fmt: skip


@pytest.fixture
def published(pipeline: Pipeline, tmp_path: Path) -> Pipeline:
    """This partnership (Derby, config/partnership.yml) with a published warehouse."""
    load_rows(pipeline, tmp_path, "population_10_17", [{"year": "2024"}])
    load_rows(pipeline, tmp_path, "published_comparators", [{}])  # England's first time entrants 2024: 150
    load_rows(pipeline, tmp_path, "police_outcomes",
              [{"outcome_id": f"P{i}", "pnc_id": f"23/000000{i}A", "force_person_id": f"DP{i}00"} for i in range(7)])  # fmt: skip
    pipeline.publish()
    return pipeline


@pytest.fixture
def region(published: Pipeline, tmp_path: Path, data_dir: Path) -> Hub:
    """A hub warehouse built by the hub's own build from Derby's real published file and four peers'."""
    members = {"derby": {"config": str(TEMPLATE), "data_dir": str(data_dir)}}
    for mid in PEERS:
        members[mid] = {"config": str(TEMPLATE), "data_dir": str(tmp_path / "members" / mid)}
    hub = load_hub(hub_yml(tmp_path, members, name="East Midlands youth justice hub"), check=False)
    for mid, (la, name, rows) in PEERS.items():
        fake_published(hub.members[mid].published_db, la, rows, finished="2026-11-30 02:40:00+00", name=name)
    build(hub)
    return hub


def card(html: str, measure: str) -> str:
    part = html[html.index(f'<div class="card" id="{measure}">') :]
    return part[: part.index('<div class="card"', 1)] if '<div class="card"' in part[1:] else part


def rows_of(block: str) -> list[list[str]]:
    """The region table's rows as the text of their cells."""
    table = block[block.index('<div class="region">') :]
    table = table[: table.index("</table>")]
    out = []
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        out.append([re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)])
    return out


def test_a_hub_members_board_pack_shows_its_peers_rank_and_regional_total(
    published: Pipeline, region: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("YOS_HUB_WAREHOUSE", str(region.warehouse))
    monkeypatch.setenv("YOS_HUB_MEMBER", "derby")
    (page,) = published.board_pack(tmp_path / "board-pack.html")
    html = page.read_text()
    assert "Region (East Midlands)" in html
    fte = card(html, "first_time_entrants")
    assert '<span class="rank">3rd of 5</span>' in fte
    # best first (lower is better); ours in bold; each dated; the region's total recomputed from the counts:
    # 100,000 x (7 + 13 + 60 + 24 + 5) / (20,000 + 40,000 + 40,000 + 80,000 + 4,000) = 59.2; England beside it
    rows = rows_of(fte)
    assert re.fullmatch(r"\d\d \w{3} 20\d\d", rows[3][3])  # our figures' date: when we loaded them
    assert rows[1:] == [
        ["Leicestershire Youth Justice Partnership", "30.0", "1st", "30 Nov 2026"],
        ["Leicester Youth Justice Partnership", "32.5", "2nd", "30 Nov 2026"],
        ["Derby Youth Justice Partnership", "35.0", "3rd", rows[3][3]],
        ["Rutland Youth Justice Partnership", "125.0", "4th", "30 Nov 2026"],
        ["Nottingham Youth Justice Partnership", "150.0", "5th", "30 Nov 2026"],
        ["Region total", "59.2", "", ""],
        ["England", "150.0", "", ""],
    ]
    assert '<tr class="ours"><td>Derby Youth Justice Partnership' in fte
    # Nottingham's OOCD share is suppressed: shown as s, never a number, not ranked; the total is withheld
    oocd = card(html, "oocd_share")
    notts = next(r for r in rows_of(oocd) if r[0].startswith("Nottingham"))
    assert notts[:3] == ["Nottingham Youth Justice Partnership", "s", ""]
    assert '<span class="s">s</span>' in oocd
    assert ["Region total", "&ndash;", "", ""] in rows_of(oocd)
    assert "Regional total withheld: a partnership&#39;s figure is suppressed" in oocd  # peers' text escaped
    assert "Not ranked (no better direction)" in oocd
    # our own figure suppressed: we are not ranked, and say so
    assert "Not ranked (our figure is suppressed)" in card(html, "violent_offences")
    # the summary has the region beside England
    summary = html[: html.index("<h2>Partners")]
    assert '<th class="n">Region (East Midlands)</th><th class="n">Rank</th>' in summary
    assert "3rd of 5" in summary and "59.2" in summary
    assert "Regional peers are not available" not in html
    screenshot(page, tmp_path / "board-pack-region.png", height=3000)


def _without_generated(html: str) -> list[str]:
    return [re.sub(r"generated .*UTC", "generated -", line) for line in html.splitlines()]


@pytest.mark.parametrize("case", ["absent", "unreadable", "not listed"])
def test_without_a_readable_hub_warehouse_the_pack_is_as_before_plus_one_line(
    published: Pipeline, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    before = _without_generated(published.board_pack(tmp_path / "own.html")[0].read_text())
    assert not any("egion" in line for line in before)  # not a hub member: nothing regional at all
    path = tmp_path / "hub" / "hub.duckdb"
    if case == "unreadable":
        path.parent.mkdir()
        path.write_bytes(b"not a duckdb file" * 100)
    if case == "not listed":
        fake_published(tmp_path / "m" / "yos.duckdb", "E06000016", [("fte", "2024", 5, 10, 1.0, "%", "lower")])
        build(load_hub(hub_yml(tmp_path, {"leicester": {"config": str(TEMPLATE), "data_dir": str(tmp_path / "m")}}),
                       check=False))  # fmt: skip
    monkeypatch.setenv("YOS_HUB_WAREHOUSE", str(path))
    monkeypatch.setenv("YOS_HUB_MEMBER", "derby")
    after = _without_generated(published.board_pack(tmp_path / "member.html")[0].read_text())
    added = [line for line in after if line not in before]
    assert len(after) == len(before) + 1 and len(added) == 1, added
    reason = {
        "absent": "the hub warehouse (hub.duckdb) has not been built yet",
        "unreadable": "the hub warehouse (hub.duckdb) could not be opened (",
        "not listed": "the hub warehouse (hub.duckdb) does not list partnership &#39;derby&#39;",
    }[case]
    assert added[0].startswith(f'<p class="meta">Regional peers are not available: {reason}'), added[0]
    assert [line for line in after if line not in added] == before


def test_a_pack_older_than_the_hub_warehouse_is_written_again(
    published: Pipeline, region: Hub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os

    from reports.board_pack import out_of_date

    pack = tmp_path / "board-pack.html"
    assert out_of_date(pack)  # missing
    pack.write_text("x")
    assert not out_of_date(pack)  # not a hub member: only new data rewrites it
    monkeypatch.setenv("YOS_HUB_WAREHOUSE", str(region.warehouse))
    os.utime(pack, (region.warehouse.stat().st_mtime + 5,) * 2)
    assert not out_of_date(pack)
    os.utime(pack, (region.warehouse.stat().st_mtime - 5,) * 2)
    assert out_of_date(pack)  # the hub was rebuilt since: the regional peers in it are old
