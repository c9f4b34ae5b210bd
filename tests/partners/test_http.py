"""Pulling over HTTP against a real server on 127.0.0.1 with faults: retries, Retry-After, cut bodies, bad auth,
conditional requests, wrong content type."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from yos.config import Partner, SecretRef
from yos.partners.http import FetchError, RetryPolicy, fetch
from yos.synthetic.server import serve

FAST = RetryPolicy(attempts=3, backoff_seconds=0.01, timeout_seconds=2)


@pytest.fixture
def server(partnership: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("YOS_TEST_TOKEN", "s3cret-token")
    s = serve(partnership, {"police": "s3cret-token"})
    yield s
    s.shutdown()


@pytest.fixture
def police(server) -> Partner:  # noqa: ANN001
    return Partner(
        "police",
        "Police",
        server.url + "/police",
        "bearer",
        SecretRef(env="YOS_TEST_TOKEN"),
        (),
        ("police_outcomes",),
    )


def pull(pipeline, police, policy=FAST):  # noqa: ANN001, ANN201
    return fetch(pipeline.con, pipeline.paths.data, police, "police_outcomes", policy=policy)


def attempts(pipeline) -> list[tuple]:  # noqa: ANN001
    return pipeline.con.execute("select http_status, outcome, detail from audit.fetches order by fetched_at").fetchall()


def landed_files(pipeline) -> list[Path]:  # noqa: ANN001
    return sorted((pipeline.paths.landing / "police_outcomes").glob("*"))


def test_a_500_is_retried_then_the_extract_lands(pipeline, server, police, partnership: Path) -> None:
    server.queue_faults("police_outcomes", ["500"])
    extract = pull(pipeline, police)
    assert extract.path.read_bytes() == (partnership / "police" / "police_outcomes.csv").read_bytes()
    assert [a[:2] for a in attempts(pipeline)] == [(500, "retry"), (200, "landed")]


def test_retry_after_is_honoured(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["503:1"])
    started = time.monotonic()
    assert pull(pipeline, police) is not None
    assert time.monotonic() - started >= 1.0


def test_a_body_cut_off_lands_nothing_half_written(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["cut", "cut", "cut"])
    with pytest.raises(FetchError) as e:
        pull(pipeline, police)
    assert e.value.transient
    assert landed_files(pipeline) == []
    assert pipeline.con.execute("select count(*) from landing.extracts").fetchone()[0] == 0


def test_a_timeout_is_a_transient_failure(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["timeout:2"])
    with pytest.raises(FetchError, match="ReadTimeout") as e:
        pull(pipeline, police, RetryPolicy(attempts=1, timeout_seconds=0.5))
    assert e.value.transient


def test_bad_auth_stops_at_once_and_names_the_credential_not_its_value(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["401", "401", "401"])
    with pytest.raises(FetchError) as e:
        pull(pipeline, police)
    assert not e.value.transient
    assert "YOS_TEST_TOKEN" in str(e.value) and "s3cret-token" not in str(e.value)
    assert len(attempts(pipeline)) == 1  # no retry storm
    assert "s3cret" not in str(attempts(pipeline))


def test_an_unchanged_extract_costs_one_304(pipeline, server, police) -> None:
    assert pull(pipeline, police) is not None
    assert pull(pipeline, police) is None
    assert server.requests[-1]["if_none_match"]
    assert [a[:2] for a in attempts(pipeline)] == [(200, "landed"), (304, "unchanged")]


def test_a_wrong_content_type_is_refused(pipeline, server, police) -> None:
    server.queue_faults("police_outcomes", ["html"])
    with pytest.raises(FetchError, match="text/html"):
        pull(pipeline, police)
    assert landed_files(pipeline) == []
