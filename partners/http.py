"""Pulling a partner's extract over HTTPS with httpx, straight into the landing zone.

Per partner, from configuration: bearer token, API key header or mutual TLS (secrets by reference), TLS always
verified (against a custom CA bundle when given). Each attempt sends ``If-None-Match`` / ``If-Modified-Since`` from
the last extract landed for the feed (an unchanged extract costs one 304 and loads nothing), follows ``Link:
rel="next"`` pages (each page a CSV with the header; later pages' headers are checked and dropped), accepts gzip,
checks the content type and charset, and streams the body to disk, hashed on the way and cut off at the partner's
size limit. Every transfer (a request and its pages) has an overall deadline (the partner's
``transfer_deadline_seconds``): httpx's timeouts bound each read, so a partner sending a byte every few seconds would
otherwise hold a pull for as long as it liked; past the deadline the connection is shut, the partial file removed,
and the attempt counts as a transient failure. Connection errors, timeouts, cut-off bodies, 429 and 5xx are retried (by tenacity) with exponential
backoff and jitter, honouring ``Retry-After``, within a bounded number of attempts and a bounded total time;
401/403 stop at once (retrying cannot fix a credential). Every attempt is recorded in ``audit.fetches``; no URL,
log line or message ever carries a secret.
"""

from __future__ import annotations

import datetime as dt
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, stop_before_delay

from partnership.config import ConfigError, Partner
from warehouse import audit
from warehouse.landing import Extract, FeedError, land, last_validators


class FetchError(FeedError):
    """A feed could not be fetched (``partner`` and ``feed`` say which). ``transient`` says whether a later run may
    succeed without anyone acting; ``status`` is the partner's last HTTP status, when it answered with one."""

    def __init__(
        self,
        detail: str,
        *,
        transient: bool,
        partner: str | None = None,
        feed: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(detail, partner=partner, feed=feed)
        self.transient = transient
        self.status = status


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    backoff_seconds: float = 0.5
    max_wait_seconds: float = 30.0
    timeout_seconds: float = 30.0
    max_total_seconds: float = 300.0


ACCEPTED_TYPES = ("text/csv", "application/csv", "text/plain", "application/octet-stream")


class _Retry(Exception):
    def __init__(self, status: int | None, detail: str, retry_after: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


def _period(header: str | None) -> tuple[dt.date | None, dt.date | None]:
    if not header or "/" not in header:
        return None, None
    start, end = header.split("/", 1)
    try:
        return dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return None, None


def _backoff(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """Exponential backoff with jitter, or the server's ``Retry-After`` when it gives one; capped either way."""

    def wait(state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        retry_after = error.retry_after if isinstance(error, _Retry) else None
        if retry_after:
            try:
                return min(float(retry_after), policy.max_wait_seconds)
            except ValueError:
                pass
        backoff = policy.backoff_seconds * 2 ** (state.attempt_number - 1) * (1 + random.random())
        return min(backoff, policy.max_wait_seconds)

    return wait


def client_for(partner: Partner, policy: RetryPolicy) -> httpx.Client:
    """An httpx client with the partner's TLS settings: verification always on, mutual TLS when configured."""
    client = (partner.client_cert, partner.client_key) if partner.auth_type == "mtls" else None
    stamps = tuple(Path(f).stat().st_mtime_ns if f else None for f in (partner.ca_bundle, *(client or ())))
    context = _tls_context(partner.ca_bundle, client, stamps)
    return httpx.Client(timeout=policy.timeout_seconds, follow_redirects=False, verify=context)


@lru_cache(maxsize=16)  # bounded: under `yos serve` each replaced certificate would otherwise keep its old context
def _tls_context(
    ca_bundle: str | None, client: tuple[str, str] | None, stamps: tuple[int | None, ...]
) -> ssl.SSLContext:
    """One TLS context per CA bundle and client certificate (mutual TLS) as the files are now (``stamps``: their
    modification times, so a replaced certificate is read again). Building a context reads every system CA, which
    is slow enough to matter on a night with nothing new (measured: bench/NOTES.md)."""
    context = ssl.create_default_context(cafile=ca_bundle)  # system CAs unless a bundle is given
    if client is not None:
        context.load_cert_chain(*client)
    return context


def _auth_headers(partner: Partner, feed: str) -> dict[str, str]:
    if partner.auth_type not in ("bearer", "api_key"):
        return {}
    try:
        secret = partner.token.resolve()
    except ConfigError as e:
        raise FetchError(f"no credential: {e}", transient=False, partner=partner.id, feed=feed) from e
    if partner.auth_type == "bearer":
        return {"Authorization": f"Bearer {secret}"}
    return {partner.api_key_header: secret}


def _check_response(partner: Partner, feed: str, r: httpx.Response) -> None:
    if r.status_code in (401, 403):
        where = partner.token.describe() if partner.token else f"the client certificate {partner.client_cert}"
        raise FetchError(
            f"the partner refused the credential ({r.status_code}); check {where}",
            transient=False,
            partner=partner.id,
            feed=feed,
            status=r.status_code,
        )
    if r.status_code == 429 or r.status_code >= 500:
        raise _Retry(r.status_code, f"HTTP {r.status_code}", r.headers.get("Retry-After"))
    if r.status_code != 200:
        raise FetchError(
            f"unexpected HTTP {r.status_code}", transient=False, partner=partner.id, feed=feed, status=r.status_code
        )
    ctype, _, params = r.headers.get("Content-Type", "").partition(";")
    ctype = ctype.strip().lower()
    if ctype not in ACCEPTED_TYPES:
        raise FetchError(
            f"the endpoint answered with {ctype or 'no content type'}, not CSV; nothing was landed",
            transient=True,
            partner=partner.id,
            feed=feed,
        )
    charset = params.strip().lower().removeprefix("charset=").strip('"') if "charset=" in params.lower() else ""
    if charset and charset not in ("utf-8", "utf8"):
        raise FetchError(
            f"the endpoint declares charset {charset}; extracts must be UTF-8",
            transient=False,
            partner=partner.id,
            feed=feed,
        )


class _Deadline:
    """A transfer's overall deadline: :meth:`watch` shuts the response's connection when it passes, so a read that
    is waiting on a trickling partner returns at once rather than at the end of its own timeout."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.at = time.monotonic() + seconds
        self._timers: list[threading.Timer] = []

    @property
    def passed(self) -> bool:
        return time.monotonic() >= self.at

    def error(self) -> _Retry:
        return _Retry(None, f"the transfer was still running at its deadline of {self.seconds:g} s; abandoned")

    def watch(self, response: httpx.Response) -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is None:
            return

        def shut() -> None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed: the transfer ended by itself

        timer = threading.Timer(max(self.at - time.monotonic(), 0.0), shut)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def cancel(self) -> None:
        for timer in self._timers:
            timer.cancel()


def _pages(
    client: httpx.Client,
    first: httpx.Response,
    partner: Partner,
    feed: str,
    headers: dict[str, str],
    deadline: _Deadline,
) -> Iterator[bytes]:
    """The body of the first response, then of each ``rel=next`` page without its header line; size-limited and
    abandoned at the transfer's deadline."""
    try:
        yield from _page_bodies(client, first, partner, feed, headers, deadline)
    except TRANSIENT as e:
        if deadline.passed:  # the watchdog shut the connection under a read: say why
            raise deadline.error() from e
        raise


def _page_bodies(
    client: httpx.Client,
    first: httpx.Response,
    partner: Partner,
    feed: str,
    headers: dict[str, str],
    deadline: _Deadline,
) -> Iterator[bytes]:
    size, header, response, page = 0, b"", first, 1
    while True:
        head: bytes | None = b""  # this page's bytes until its first line is complete; None after
        for chunk in response.iter_bytes():
            if deadline.passed:
                raise deadline.error()
            size += len(chunk)
            if size > partner.max_bytes:
                raise FetchError(
                    f"the extract is larger than the limit of {partner.max_bytes} bytes; nothing was landed",
                    transient=False,
                    partner=partner.id,
                    feed=feed,
                )
            if head is None:
                yield chunk
                continue
            head += chunk
            if b"\n" not in head:
                continue
            line, rest = head.split(b"\n", 1)
            if page == 1:
                header = line.strip().removeprefix(b"\xef\xbb\xbf")
                yield head
            else:
                if line.strip().removeprefix(b"\xef\xbb\xbf") != header:
                    raise FetchError(
                        f"page {page} has a different header", transient=True, partner=partner.id, feed=feed
                    )
                if rest:
                    yield rest
            head = None
        if head and page == 1:
            yield head
        nxt = response.links.get("next", {}).get("url")
        if page > 1:
            response.close()
        if not nxt:
            return
        page += 1
        response = client.send(client.build_request("GET", str(response.url.join(nxt)), headers=headers), stream=True)
        deadline.watch(response)
        _check_response(partner, feed, response)


# What a retry can cure: connection refused or reset, timeout, a body cut off before its promised length, 429, 5xx
TRANSIENT = (httpx.TransportError, httpx.DecodingError, _Retry)


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
    headers = {"Accept": "text/csv", **_auth_headers(partner, feed)}
    etag, last_modified = last_validators(con, feed)
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    own = client is None
    client = client or client_for(partner, policy)
    retrying = Retrying(
        retry=retry_if_exception_type(TRANSIENT),
        stop=stop_after_attempt(policy.attempts) | stop_before_delay(policy.max_total_seconds),
        wait=_backoff(policy),
        reraise=True,
    )
    attempt = 0
    try:
        for trying in retrying:
            with trying:
                attempt = trying.retry_state.attempt_number
                return _attempt(con, data_dir, client, partner, feed, url, headers, attempt)
    except TRANSIENT as e:
        detail = e.detail if isinstance(e, _Retry) else type(e).__name__
        status = e.status if isinstance(e, _Retry) else None
        raise FetchError(
            f"{detail} after {attempt} attempts", transient=True, partner=partner.id, feed=feed, status=status
        ) from e
    finally:
        if own:
            client.close()
    raise AssertionError("unreachable: an attempt returns or raises")


def _attempt(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    client: httpx.Client,
    partner: Partner,
    feed: str,
    url: str,
    headers: dict[str, str],
    attempt: int,
) -> Extract | None:
    """One request (and its pages), recorded in ``audit.fetches`` whatever its outcome."""
    started = time.monotonic()
    deadline = _Deadline(partner.transfer_deadline_seconds)

    def record(status: int | None, size: int | None, outcome: str, detail: str | None) -> None:
        audit.record_fetch(
            con, partner=partner.id, feed=feed, url=url, attempt=attempt, status=status, size=size,
            duration_ms=int((time.monotonic() - started) * 1000), outcome=outcome, detail=detail,
        )  # fmt: skip

    try:
        with client.stream("GET", url, headers=headers) as r:
            deadline.watch(r)
            if r.status_code == 304:
                record(304, 0, "unchanged", None)
                return None
            try:
                _check_response(partner, feed, r)
            except FetchError as e:
                record(r.status_code, None, "failed", str(e))
                raise
            extract = land(
                con, data_dir, feed=feed, partner=partner.id,
                chunks=_pages(client, r, partner, feed, headers, deadline),
                source=url, original_name=f"{feed}.csv", period=_period(r.headers.get("X-Extract-Period")),
                kind=r.headers.get("X-Extract-Kind") or None, etag=r.headers.get("ETag"),
                last_modified=r.headers.get("Last-Modified"),
            )  # fmt: skip
            record(200, extract.bytes, "landed", extract.extract_id)
            return extract
    except TRANSIENT as e:
        record(e.status if isinstance(e, _Retry) else None, None, "retry",
               e.detail if isinstance(e, _Retry) else type(e).__name__)  # fmt: skip
        raise
    finally:
        deadline.cancel()
