"""Pulling a partner's extract over HTTP(S) with httpx, straight into the landing zone.

One request per attempt: bearer token from configuration (by reference), ``If-None-Match`` with the last ETag
landed for the feed (an unchanged extract costs one 304 and loads nothing), the body streamed to disk and hashed on
the way. Connection errors, timeouts, cut-off bodies, 429 and 5xx are retried with exponential backoff and jitter,
honouring ``Retry-After``, up to a bounded number of attempts; 401/403 stop at once (retrying cannot fix a wrong
credential). Every attempt is recorded in ``audit.fetches``; no URL or message ever carries a secret.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx

from warehouse.landing import Extract, land
from yos.config import ConfigError, Partner


class FetchError(Exception):
    """A feed could not be fetched. ``transient`` says whether a later run may succeed without anyone acting."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 30.0
    timeout_seconds: float = 30.0


ACCEPTED_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream")


def _period(header: str | None) -> tuple[dt.date | None, dt.date | None]:
    if not header or "/" not in header:
        return None, None
    start, end = header.split("/", 1)
    try:
        return dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return None, None


def _record(
    con: duckdb.DuckDBPyConnection,
    partner: str,
    feed: str,
    url: str,
    attempt: int,
    started: float,
    status: int | None,
    size: int | None,
    outcome: str,
    detail: str | None,
) -> None:
    con.execute(
        "insert into audit.fetches values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            partner,
            feed,
            url,
            attempt,
            dt.datetime.now(dt.UTC),
            status,
            size,
            int((time.monotonic() - started) * 1000),
            outcome,
            detail,
        ],
    )


def _wait(policy: RetryPolicy, attempt: int, retry_after: str | None) -> float:
    if retry_after:
        try:
            return min(float(retry_after), policy.max_wait_seconds)
        except ValueError:
            pass
    return min(policy.backoff_seconds * 2 ** (attempt - 1) * (1 + random.random()), policy.max_wait_seconds)


def fetch(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    partner: Partner,
    feed: str,
    *,
    policy: RetryPolicy | None = None,
    client: httpx.Client | None = None,
) -> Extract | None:
    """Fetch one feed and land it. Returns the landed extract, or None when the partner says it is unchanged."""
    policy = policy or RetryPolicy()
    url = partner.feed_url(feed)
    headers = {"Accept": "text/csv"}
    if partner.auth_type == "bearer":
        try:
            headers["Authorization"] = f"Bearer {partner.token.resolve()}"
        except ConfigError as e:
            raise FetchError(f"{partner.id}/{feed}: no credential: {e}", transient=False) from e
    last = con.execute(
        "select etag from landing.extracts where feed = ? and etag is not null order by received_at desc limit 1",
        [feed],
    ).fetchone()
    if last:
        headers["If-None-Match"] = last[0]
    own = client is None
    client = client or httpx.Client(timeout=policy.timeout_seconds, follow_redirects=False)
    try:
        for attempt in range(1, policy.attempts + 1):
            started = time.monotonic()
            try:
                with client.stream("GET", url, headers=headers) as r:
                    if r.status_code == 304:
                        _record(con, partner.id, feed, url, attempt, started, 304, 0, "unchanged", None)
                        return None
                    if r.status_code in (401, 403):
                        _record(
                            con,
                            partner.id,
                            feed,
                            url,
                            attempt,
                            started,
                            r.status_code,
                            None,
                            "failed",
                            "credential refused",
                        )
                        raise FetchError(
                            f"{partner.id}/{feed}: the partner refused the credential ({r.status_code}); check "
                            f"{partner.token.describe() if partner.token else 'the configured auth'}",
                            transient=False,
                        )
                    if r.status_code == 429 or r.status_code >= 500:
                        _record(
                            con,
                            partner.id,
                            feed,
                            url,
                            attempt,
                            started,
                            r.status_code,
                            None,
                            "retry",
                            f"HTTP {r.status_code}",
                        )
                        if attempt == policy.attempts:
                            raise FetchError(
                                f"{partner.id}/{feed}: HTTP {r.status_code} after {attempt} attempts",
                                transient=True,
                            )
                        time.sleep(_wait(policy, attempt, r.headers.get("Retry-After")))
                        continue
                    if r.status_code != 200:
                        _record(
                            con,
                            partner.id,
                            feed,
                            url,
                            attempt,
                            started,
                            r.status_code,
                            None,
                            "failed",
                            f"HTTP {r.status_code}",
                        )
                        raise FetchError(f"{partner.id}/{feed}: unexpected HTTP {r.status_code}", transient=False)
                    ctype = r.headers.get("Content-Type", "").split(";")[0].strip().lower()
                    if ctype not in ACCEPTED_TYPES:
                        _record(
                            con,
                            partner.id,
                            feed,
                            url,
                            attempt,
                            started,
                            200,
                            None,
                            "failed",
                            f"content type {ctype}",
                        )
                        raise FetchError(
                            f"{partner.id}/{feed}: the endpoint answered with {ctype or 'no content type'}, "
                            "not CSV; nothing was landed",
                            transient=True,
                        )
                    extract = land(
                        con,
                        data_dir,
                        feed=feed,
                        partner=partner.id,
                        chunks=r.iter_bytes(),
                        source=url,
                        original_name=f"{feed}.csv",
                        period=_period(r.headers.get("X-Extract-Period")),
                        kind=r.headers.get("X-Extract-Kind") or None,
                        etag=r.headers.get("ETag"),
                    )
                    _record(
                        con,
                        partner.id,
                        feed,
                        url,
                        attempt,
                        started,
                        200,
                        extract.bytes,
                        "landed",
                        extract.extract_id,
                    )
                    return extract
            except (httpx.TransportError, httpx.DecodingError) as e:
                # connection refused or reset, timeout, or a body cut off before its promised length
                _record(con, partner.id, feed, url, attempt, started, None, None, "retry", type(e).__name__)
                if attempt == policy.attempts:
                    raise FetchError(
                        f"{partner.id}/{feed}: {type(e).__name__} after {attempt} attempts", transient=True
                    ) from e
                time.sleep(_wait(policy, attempt, None))
        raise AssertionError("unreachable")
    finally:
        if own:
            client.close()
