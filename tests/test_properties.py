"""Property: whatever bytes a partner sends as any feed, a run never crashes, and either every row is accounted
for (received = loaded + quarantined) or the extract is held back whole with a message a partner can act on."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expectations.contract import all_contracts, get_contract
from flows.steps import Pipeline

FEEDS = sorted(all_contracts())
NOISE = st.sampled_from(
    [
        b",",
        b'"',
        b"\n",
        b"\r\n",
        b"\xff",
        b"\xc3",
        b"\x00",
        b";",
        b"  ",
        b"\xef\xbb\xbf",
        b"1e9",
        b"31/02/2025",
        b"-1",
        b"NULL",
        b"Jayden Example",
    ]
)


@st.composite
def mangled(draw: st.DrawFn, partnership: Path) -> tuple[str, bytes]:
    feed = draw(st.sampled_from(FEEDS))
    c = get_contract(feed)
    lines = (partnership / c.partner / f"{feed}.csv").read_bytes().split(b"\n")[:30]
    if draw(st.booleans()):
        return feed, draw(st.binary(max_size=400))  # anything at all
    body = bytearray(b"\n".join(lines))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(body)))
        action = draw(st.sampled_from(["insert", "delete", "truncate"]))
        if action == "insert":
            body[pos:pos] = draw(NOISE)
        elif action == "delete":
            del body[pos : pos + draw(st.integers(1, 20))]
        else:
            del body[pos:]
    return feed, bytes(body)


@settings(max_examples=int(os.environ.get("YOS_PROPERTY_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])  # fmt: skip
@given(data=st.data())
def test_any_bytes_as_any_feed_are_accounted_for_or_held_back(
    data: st.DataObject, pipeline: Pipeline, partnership: Path, tmp_path: Path
) -> None:
    feed, body = data.draw(mangled(partnership))
    path = tmp_path / f"{feed}.csv"
    path.write_bytes(body)
    result = pipeline.load(pipeline.land_file(feed, path))
    if result.status == "held_back":
        assert result.problems and all(p.message and p.fix for p in result.problems)
        assert result.rows_loaded == 0
    elif result.status == "loaded":
        assert result.rows_received == result.rows_loaded + result.rows_quarantined
        problems = pipeline.con.execute(
            "select message, fix, line from quarantine.row_problems where load_id = ?", [result.load_id]
        ).fetchall()
        assert all(m and f and line for m, f, line in problems)
    else:
        assert result.status == "already_loaded"
