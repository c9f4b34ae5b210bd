"""The intake folder: files partners drop (by SFTP or a share) into ``<data>/intake/<partner>/``.

A file is picked up only once it is complete: its name is not an in-progress name (a leading dot, or ``.part``,
``.tmp``, ``.partial``, ``.filepart``), it has not been modified for ``settle_seconds``, and its size and
modification time are the same as at the previous scan (so a slow upload that preserves an old mtime is not taken
half-way). The feed comes from the name, which must start with one of the partner's feeds (``police_outcomes.csv``,
``police_outcomes_2025-10.csv``); ``<feed>__YYYY-MM-DD__YYYY-MM-DD.csv`` also declares the period. Names are never
used as paths: the bytes go to the landing zone under their hash, and names only appear, escaped, in the manifest
and logs. A file that cannot be taken (no feed in its name, a symbolic link) is moved to ``.refused/`` with a note
why; nothing is deleted unless it has landed. The same bytes delivered twice land once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from partnership.config import Config
from warehouse import landing
from warehouse.landing import Extract, land_file

IN_PROGRESS = (".part", ".tmp", ".partial", ".filepart", ".crdownload")
PERIOD = re.compile(r"__(\d{4}-\d{2}-\d{2})__(\d{4}-\d{2}-\d{2})")


@dataclass
class Scan:
    landed: list[Extract] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def shown(name: str) -> str:
    """A file name made safe to print: control and non-ASCII characters escaped."""
    return name.encode("unicode_escape").decode("ascii")


def _feed_of(name: str, feeds: tuple[str, ...]) -> str | None:
    for feed in sorted(feeds, key=len, reverse=True):
        if name == feed or (name.startswith(feed) and name[len(feed)] in "._- "):
            return feed
    return None


def _refuse(folder: Path, entry: os.DirEntry, reason: str, scan: Scan) -> None:
    refused = folder / ".refused"
    refused.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", entry.name)[:100] or "unnamed"
    dest = refused / f"{stamp}-{safe}"
    os.replace(entry.path, dest)
    dest.with_name(dest.name + ".why.txt").write_text(f"{shown(entry.name)}: {reason}\n")
    scan.refused.append((entry.name, reason))


def folders(data_dir: Path, cfg: Config) -> list[Path]:
    """Every partner's intake folder, made if missing (a partner can only drop a file into a folder that exists)."""
    made = []
    for partner in cfg.partners.values():
        folder = data_dir / "intake" / partner.id
        folder.mkdir(parents=True, exist_ok=True)
        made.append(folder)
    return made


def anything_dropped(intake_folders: list[Path]) -> bool:
    """Whether any of the folders holds a file a scan would look at (not a hidden name such as ``.refused``): a
    directory listing, no warehouse, so a watcher can look often without taking the loader's lock."""
    for folder in intake_folders:
        try:
            with os.scandir(folder) as entries:
                if any(not e.name.startswith(".") for e in entries):
                    return True
        except FileNotFoundError:
            continue
    return False


def scan(con: duckdb.DuckDBPyConnection, data_dir: Path, cfg: Config, settle_seconds: float = 10.0) -> Scan:
    """Look once at every partner's intake folder and land what is complete."""
    result = Scan()
    now = time.time()
    for partner, folder in zip(cfg.partners.values(), folders(data_dir, cfg), strict=True):
        seen = landing.intake_seen(con, partner.id)
        for entry in os.scandir(folder):
            name = entry.name
            if name.startswith(".") or name.lower().endswith(IN_PROGRESS):
                result.waiting.append(name)
                continue
            if entry.is_symlink():
                _refuse(folder, entry, "a symbolic link is never followed; drop the file itself", result)
                continue
            if not entry.is_file(follow_symlinks=False):
                continue
            feed = _feed_of(name, partner.feeds)
            if feed is None:
                _refuse(folder, entry, f"the name must start with one of: {', '.join(partner.feeds)}", result)
                continue
            st = entry.stat(follow_symlinks=False)
            if now - st.st_mtime < settle_seconds or seen.get(name) != (st.st_size, st.st_mtime_ns):
                landing.note_intake(con, partner.id, name, st.st_size, st.st_mtime_ns)
                result.waiting.append(name)
                continue
            m = PERIOD.search(name)
            period = (dt.date.fromisoformat(m.group(1)), dt.date.fromisoformat(m.group(2))) if m else (None, None)
            extract = land_file(con, data_dir, feed=feed, partner=partner.id, path=Path(entry.path),
                                source=f"intake:{shown(name)}", period=period)  # fmt: skip
            os.unlink(entry.path)  # its bytes are in the landing zone now
            landing.forget_intake(con, partner.id, name)
            if extract.is_new:
                result.landed.append(extract)
            else:
                result.duplicates.append(name)
    return result
