"""Where things live on disk, and the process environment every yos command runs with.

The data directory (default ``./data``, override with ``YOS_DATA_DIR``) holds everything the pipeline writes:
the landing zone, the loader's private warehouse, the analysts' published file ``yos.duckdb``, validation reports,
sent alerts and Prefect's own home. Nothing is written to the user's home directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Offline by default: no analytics from Prefect's server or client, nor GX, and no progress bars in logs.
OFFLINE_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "TQDM_DISABLE": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


# The data directory is the service's alone: raw extracts, the key, the loader's file, spill, Prefect's database.
# Every file the service makes is created readable by its own user only (0600, folders 0700), never made so after.
SERVICE_ONLY = 0o077


@dataclass(frozen=True)
class Paths:
    data: Path

    @property
    def landing(self) -> Path:
        return self.data / "landing"

    @property
    def intake(self) -> Path:
        return self.data / "intake"

    @property
    def loader_db(self) -> Path:
        """The loader's own warehouse. Only the loader ever opens it."""
        return self.data / "warehouse" / "loader.duckdb"

    @property
    def published_db(self) -> Path:
        """The analysts' file: pseudonymised data and views only, replaced atomically after each good load."""
        return self.data / "yos.duckdb"

    @property
    def reports(self) -> Path:
        return self.data / "reports"

    @property
    def board_pack(self) -> Path:
        """The management board's KPI pack, rewritten after each nightly load."""
        return self.data / "board-pack.html"

    @property
    def data_quality(self) -> Path:
        """The partners' data-quality page, rewritten after each nightly beside the board pack."""
        return self.data / "data-quality.html"

    @property
    def outbox(self) -> Path:
        return self.data / "outbox"

    @property
    def prefect_home(self) -> Path:
        return self.data / "prefect"

    @property
    def tmp(self) -> Path:
        return self.data / "tmp"


def data_dir() -> Path:
    return Path(os.environ.get("YOS_DATA_DIR", "data")).resolve()


def paths() -> Paths:
    return Paths(data_dir())


def prepare_environment() -> Paths:
    """Create the data directory (the service's alone: see ``SERVICE_ONLY``) and set the offline environment. Call
    before importing Prefect or GX."""
    os.umask(SERVICE_ONLY)
    p = paths()
    for d in (p.data, p.landing, p.intake, p.loader_db.parent, p.reports, p.outbox, p.prefect_home, p.tmp):
        d.mkdir(parents=True, exist_ok=True)
    p.data.chmod(0o700)  # a data directory made before this rule: nothing under it can be reached by others now
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    os.environ.setdefault("PREFECT_HOME", str(p.prefect_home))
    os.environ.setdefault("TMPDIR", str(p.tmp))
    return p
