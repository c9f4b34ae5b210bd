"""Every transfer has an overall deadline: a partner that trickles its body (``trickle:S``: half at once, then a
byte every S seconds) is abandoned at the deadline, not when it pleases, with nothing half-written left behind, the
attempt in ``audit.fetches``, and the retry policy applied as to any transient failure."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from partners.http import FetchError, RetryPolicy, fetch
from partnership.config import ConfigError, Partner, SecretRef, load_config
from sandbox.partner_server import serve


@pytest.fixture
def server(partnership: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("YOS_TEST_TOKEN", "s3cret-token")
    s = serve(partnership, {"police": "s3cret-token"})
    yield s
    s.shutdown()


def police(server, deadline: float) -> Partner:  # noqa: ANN001
    return Partner("police", "Police", server.url + "/police", "bearer", SecretRef(env="YOS_TEST_TOKEN"), (),
                   ("police_outcomes",), transfer_deadline_seconds=deadline)  # fmt: skip


def leftovers(pipeline) -> list[Path]:  # noqa: ANN001
    return sorted((pipeline.paths.landing / "police_outcomes").glob("*"))


def fetches(pipeline) -> list[tuple]:  # noqa: ANN001
    return pipeline.con.execute("select outcome, detail from audit.fetches order by fetched_at").fetchall()


def test_a_trickling_partner_is_abandoned_at_the_deadline_and_retried(pipeline, server) -> None:
    server.queue_faults("police_outcomes", ["trickle:1", "trickle:1"])
    policy = RetryPolicy(attempts=2, backoff_seconds=0.01, timeout_seconds=30)
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline of 2 s") as e:
        fetch(pipeline.con, pipeline.paths.data, police(server, 2), "police_outcomes", policy=policy)
    took = time.monotonic() - started
    assert e.value.transient and e.value.partner == "police" and e.value.feed == "police_outcomes"
    assert 4 <= took < 8, took  # two attempts of about 2 s each; the body alone would take hours at a byte a second
    assert [o for o, _ in fetches(pipeline)] == ["retry", "retry"]
    assert all("deadline" in d for _, d in fetches(pipeline))
    assert leftovers(pipeline) == []  # the partial file of raw rows is gone
    assert pipeline.con.execute("select count(*) from landing.extracts").fetchone()[0] == 0


def test_the_deadline_does_not_wait_for_a_slow_read_to_end(pipeline, server) -> None:
    # a byte every 20 s, under a read timeout of 30 s: no read ever times out, the deadline alone ends it
    server.queue_faults("police_outcomes", ["trickle:20"])
    started = time.monotonic()
    with pytest.raises(FetchError, match="deadline of 1 s"):
        fetch(pipeline.con, pipeline.paths.data, police(server, 1), "police_outcomes",
              policy=RetryPolicy(attempts=1, timeout_seconds=30))  # fmt: skip
    assert time.monotonic() - started < 4
    assert leftovers(pipeline) == []


def test_a_transfer_within_its_deadline_lands_and_the_next_pull_after_a_trickle_succeeds(
    pipeline, server, partnership: Path
) -> None:
    server.queue_faults("police_outcomes", ["trickle:1"])
    extract = fetch(pipeline.con, pipeline.paths.data, police(server, 2), "police_outcomes",
                    policy=RetryPolicy(attempts=2, backoff_seconds=0.01))  # fmt: skip
    assert extract.path.read_bytes() == (partnership / "police" / "police_outcomes.csv").read_bytes()
    assert [o for o, _ in fetches(pipeline)] == ["retry", "landed"]


def test_the_deadline_is_configured_per_partner_with_a_default(tmp_path: Path) -> None:
    cfg = load_config()
    assert cfg.partners["courts"].transfer_deadline_seconds == 1800  # the default: half an hour
    text = Path(cfg.path).read_text()
    assert "transfer_deadline_seconds" in text  # said in the configuration, where an operator looks
    custom = tmp_path / "p.yml"
    custom.write_text(text.replace("    feeds: [court_disposals]", "    feeds: [court_disposals]\n"
                                   "    transfer_deadline_seconds: 90"))  # fmt: skip
    assert load_config(custom).partners["courts"].transfer_deadline_seconds == 90
    custom.write_text(text.replace("    feeds: [court_disposals]", "    feeds: [court_disposals]\n"
                                   "    transfer_deadline_seconds: soon"))  # fmt: skip
    with pytest.raises(ConfigError, match="courts: transfer_deadline_seconds must be a positive number"):
        load_config(custom)
    assert dataclasses.fields(Partner)  # a Partner built in code gets the default too
    assert Partner("p", "P", "http://x", "none", None, (), ()).transfer_deadline_seconds == 1800
