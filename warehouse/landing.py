"""The landing zone: the only way data enters. Every received extract is kept unchanged, content-addressed by its
SHA-256 under ``<data>/landing/<feed>/<sha256>.csv``, with a manifest row in ``landing.extracts``. Anything
downstream can be rebuilt from here. The intake folder's note of files not yet complete (``landing.intake_seen``)
is kept here too."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from expectations.sql import sql_literal
from partnership import progress

CHUNK = 1 << 20


class FeedError(Exception):
    """A stage's failure about one partner's feed (and extract, when known), named in the message as
    ``partner/feed[/extract]: detail`` and carried as attributes, so a caller never parses the message."""

    def __init__(
        self, detail: str, *, partner: str | None = None, feed: str | None = None, extract_id: str | None = None
    ) -> None:
        where = "/".join(p for p in (partner, feed, extract_id) if p)
        super().__init__(f"{where}: {detail}" if where else detail)
        self.partner, self.feed, self.extract_id = partner, feed, extract_id


@dataclass(frozen=True)
class Extract:
    extract_id: str
    feed: str
    partner: str
    sha256: str
    bytes: int
    source: str
    original_name: str | None
    path: Path
    received_at: dt.datetime
    declared_period_start: dt.date | None = None
    declared_period_end: dt.date | None = None
    declared_kind: str | None = None
    is_new: bool = True  # False when these exact bytes were already landed for this feed

    @property
    def label(self) -> str:
        """How logs and alerts name this extract: never a secret or a child's identifier."""
        return f"{self.partner}/{self.feed}/{self.extract_id}"


def file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            yield chunk


def write_chunks(chunks: Iterable[bytes], dest_dir: Path) -> tuple[Path, str, int]:
    """Write chunks to a temporary file in ``dest_dir``, hashing on the way. Returns (tmp path, sha256, size).

    If the chunks fail part-way (a connection cut mid-body), the temporary file is removed: nothing half-written
    is ever landed."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    tmp = dest_dir / f".incoming-{os.getpid()}-{threading.get_ident()}"
    try:
        with open(tmp, "wb") as out, progress.step(f"landing {dest_dir.name}", unit="bytes") as shown:
            for chunk in chunks:
                size += len(chunk)
                digest.update(chunk)
                out.write(chunk)
                shown.advance(len(chunk))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, digest.hexdigest(), size


def remove_interrupted(data_dir: Path) -> list[Path]:
    """Remove what an interrupted transfer left in landing (``.incoming-<pid>-...`` of a process that is gone,
    killed before it could clean up): raw rows that nothing would ever read or remove. Returns what went."""
    removed = []
    for tmp in (data_dir / "landing").glob("*/.incoming-*"):
        pid = tmp.name.removeprefix(".incoming-").split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: not ours to judge
        return True
    return True


def land(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    *,
    feed: str,
    partner: str,
    chunks: Iterable[bytes],
    source: str,
    original_name: str | None = None,
    period: tuple[dt.date | None, dt.date | None] = (None, None),
    kind: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Extract:
    """Land one extract: store its bytes unchanged under their hash and record it in the manifest.

    The same bytes delivered twice for the same feed are recognised and land once (``is_new`` is False)."""
    feed_dir = data_dir / "landing" / feed
    tmp, sha, size = write_chunks(chunks, feed_dir)
    stored = feed_dir / f"{sha}.csv"
    existing = con.execute(
        "select extract_id, coalesce(resent_at, received_at), source, original_name, declared_period_start, "
        "declared_period_end, declared_kind from landing.extracts where feed = ? and sha256 = ?",
        [feed, sha],
    ).fetchone()
    if existing:
        tmp.unlink()
        received, declared_kind, again = existing[1], existing[6], resent(con, existing[0], feed)
        if again:  # loaded before, and the feed has moved on since: the partner says this is the state now
            received, declared_kind = dt.datetime.now(dt.UTC), kind or declared_kind
            con.execute(
                "update landing.extracts set resent_at = ?, declared_kind = ? where extract_id = ?",
                [received, declared_kind, existing[0]],
            )
        return Extract(
            extract_id=existing[0],
            feed=feed,
            partner=partner,
            sha256=sha,
            bytes=size,
            source=existing[2],
            original_name=existing[3],
            path=stored,
            received_at=received,
            declared_period_start=existing[4],
            declared_period_end=existing[5],
            declared_kind=declared_kind,
            is_new=again,
        )
    os.replace(tmp, stored)  # atomic: a landed file is always whole
    os.chmod(stored, 0o400)  # as received, for good: read-only, and the service's alone
    extract = Extract(
        extract_id=f"{feed}-{sha[:12]}",
        feed=feed,
        partner=partner,
        sha256=sha,
        bytes=size,
        source=source,
        original_name=original_name,
        path=stored,
        received_at=dt.datetime.now(dt.UTC),
        declared_period_start=period[0],
        declared_period_end=period[1],
        declared_kind=kind,
    )
    con.execute(
        "insert into landing.extracts values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        [
            extract.extract_id,
            feed,
            partner,
            sha,
            size,
            source,
            original_name,
            str(stored.relative_to(data_dir)),
            extract.received_at,
            period[0],
            period[1],
            kind,
            etag,
            last_modified,
        ],
    )
    return extract


def resent(con: duckdb.DuckDBPyConnection, extract_id: str, feed: str) -> bool:
    """Whether bytes landed before as ``extract_id``, arriving again, are to be loaded again: they were loaded or held
    back, and they are not the feed's current state (the extract of its latest load that loaded). Bytes never
    loaded yet are waiting anyway; the current state sent again is a duplicate."""
    loaded_before, current = con.execute(
        """select count(*) filter (where extract_id = $id and status in ('loaded', 'held_back')),
                  arg_max(extract_id, load_id) filter (where status = 'loaded')
           from audit.loads where feed = $feed""",
        {"id": extract_id, "feed": feed},
    ).fetchone()
    return bool(loaded_before) and current != extract_id


# An intake file (or `yos load` file) whose name holds this marks a snapshot the partner means as a deliberate reset:
# it may withdraw any share of the feed's rows (``X-Extract-Kind: reset`` says the same over HTTPS).
RESET_MARK = "__reset"


def land_file(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    *,
    feed: str,
    partner: str,
    path: Path,
    source: str | None = None,
    **kw,
) -> Extract:
    """Land a file from disk (``yos load`` and the intake folder). A name holding :data:`RESET_MARK`
    (``yos_interventions__reset.csv``) declares the extract a deliberate reset."""
    if RESET_MARK in path.name.lower():
        kw["kind"] = "reset"
    return land(
        con,
        data_dir,
        feed=feed,
        partner=partner,
        chunks=file_chunks(path),
        source=source or f"file:{path.name}",
        original_name=path.name,
        **kw,
    )


# received_at: when the bytes last arrived to be loaded (a re-sent extract is loaded as of its re-sending)
_COLUMNS = (
    "extract_id, feed, partner, sha256, bytes, source, original_name, stored_path, "
    "coalesce(resent_at, received_at) as received_at, declared_period_start, declared_period_end, declared_kind"
)


def _from_row(data_dir: Path, row: tuple) -> Extract:
    (extract_id, feed, partner, sha, size, source, name, stored, received, start, end, kind) = row
    return Extract(
        extract_id, feed, partner, sha, size, source, name, data_dir / stored, received, start, end, kind, is_new=False
    )


def pending(con: duckdb.DuckDBPyConnection, data_dir: Path) -> list[Extract]:
    """Landed extracts with no finished load since they last arrived (new ones, any a crash interrupted, and any
    re-sent when not the feed's current state), oldest period first."""
    rows = con.execute(
        f"""select {_COLUMNS} from landing.extracts e
            where deleted_at is null and not exists (
                select 1 from audit.loads l where l.extract_id = e.extract_id and l.status in ('loaded', 'held_back')
                and (e.resent_at is null or l.started_at >= e.resent_at))
            order by coalesce(declared_period_end, coalesce(resent_at, received_at)::date),
                     coalesce(resent_at, received_at)"""
    ).fetchall()
    return [_from_row(data_dir, r) for r in rows]


def landed(
    con: duckdb.DuckDBPyConnection,
    data_dir: Path,
    feed: str,
    period_from: dt.date | None = None,
    period_to: dt.date | None = None,
) -> list[Extract]:
    """Every extract of ``feed`` still in the landing zone, optionally by the date it speaks for; oldest first."""
    rows = con.execute(
        f"""select {_COLUMNS} from landing.extracts
            where feed = ? and deleted_at is null
              and coalesce(declared_period_end, received_at::date) between coalesce(?, date '0001-01-01')
                  and coalesce(?, date '9999-12-31')
            order by coalesce(declared_period_end, received_at::date), received_at""",
        [feed, period_from, period_to],
    ).fetchall()
    return [_from_row(data_dir, r) for r in rows]


def last_validators(con: duckdb.DuckDBPyConnection, feed: str) -> tuple[str | None, str | None]:
    """The ``ETag`` and ``Last-Modified`` of the latest extract of ``feed`` that had either, for a conditional
    request; (None, None) when none had."""
    # a literal, not bound (see sql_literal): this runs for every feed on a night with nothing new
    row = con.execute(
        f"select etag, last_modified from landing.extracts where feed = {sql_literal(feed)} and (etag is not null "
        "or last_modified is not null) order by received_at desc limit 1"
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def received_times(con: duckdb.DuckDBPyConnection, feed: str) -> list[dt.datetime]:
    """When each extract of ``feed`` arrived, oldest first."""
    return [r[0] for r in con.execute(
        "select received_at from landing.extracts where feed = ? order by received_at", [feed]).fetchall()]  # fmt: skip


def previous_period_end(con: duckdb.DuckDBPyConnection, feed: str, before: dt.date | None) -> dt.date | None:
    """The latest declared period end of ``feed`` before ``before`` (None when ``before`` is)."""
    if before is None:
        return None
    return con.execute(
        "select max(declared_period_end) from landing.extracts where feed = ? and declared_period_end < ?",
        [feed, before],
    ).fetchone()[0]


def intake_seen(con: duckdb.DuckDBPyConnection, partner: str) -> dict[str, tuple[int, int]]:
    """Files of ``partner``'s intake folder seen at an earlier scan: name -> (size, mtime_ns) then."""
    return {n: (s, m) for n, s, m in con.execute(
        "select name, size, mtime_ns from landing.intake_seen where partner = ?", [partner]).fetchall()}  # fmt: skip


def note_intake(con: duckdb.DuckDBPyConnection, partner: str, name: str, size: int, mtime_ns: int) -> None:
    con.execute("insert or replace into landing.intake_seen values (?, ?, ?, ?)", [partner, name, size, mtime_ns])


def forget_intake(con: duckdb.DuckDBPyConnection, partner: str, name: str) -> None:
    con.execute("delete from landing.intake_seen where partner = ? and name = ?", [partner, name])
