"""A throwaway PostgreSQL cluster for a Prefect server: ``initdb`` and ``pg_ctl`` (Debian's ``postgresql`` package)
in a directory of its own, on a loopback port, trust authentication on loopback only. For tests, the bench and a
trial hub; a production hub names its own PostgreSQL in ``PREFECT_API_DATABASE_CONNECTION_URL``.

PostgreSQL refuses to run as root; run as root, the cluster is made and run by the ``postgres`` user (``runuser``),
who is given the directory: leave ``root`` out, and a fresh one under the temporary directory is made (and removed
after), which that user can reach."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from partnership.processes import free_port


class PostgresError(RuntimeError):
    """PostgreSQL could not be found or started; the message says how to get it."""


def pg_bin() -> Path:
    """Debian's newest PostgreSQL (``/usr/lib/postgresql/<version>/bin``), else the one on the PATH."""
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if versions:
        return Path(versions[-1]).parent
    found = shutil.which("initdb")
    if found and (Path(found).parent / "pg_ctl").exists() and (Path(found).parent / "createdb").exists():
        return Path(found).parent
    raise PostgresError("PostgreSQL is not installed: apt-get install postgresql (initdb and pg_ctl are needed)")


class TempPostgres:
    """``with TempPostgres(dir) as pg: pg.url`` is an asyncpg URL of a fresh database ``prefect``; stopped after."""

    def __init__(self, root: Path | None = None, port: int | None = None) -> None:
        self.owned = root is None
        self.root = (
            Path(root)
            if root
            else Path(tempfile.mkdtemp(prefix="yos-postgres-", dir="/tmp" if os.geteuid() == 0 else None))
        )
        self.port = port or free_port()
        self.bin = pg_bin()
        self.data = self.root / "pgdata"
        self.user: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as e:
                raise PostgresError("running as root and there is no postgres user to run PostgreSQL as") from e
            self.user = "postgres"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://prefect@127.0.0.1:{self.port}/prefect"

    def _run(self, args: list[str]) -> None:
        cmd = ["runuser", "-u", self.user, "--", *args] if self.user else args
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)
        if r.returncode != 0:
            raise PostgresError(f"{Path(args[0]).name} failed: {(r.stdout + r.stderr)[-1500:]}")

    def start(self) -> TempPostgres:
        try:
            return self._start()
        except BaseException:
            self.stop()  # nothing left running or on disk by a start that failed part way
            raise

    def _start(self) -> TempPostgres:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user:  # the postgres user must own the directory and reach it (a fresh one under /tmp, by default)
            shutil.chown(self.root, self.user)
        self._run([str(self.bin / "initdb"), "-D", str(self.data), "-U", "prefect", "--auth=trust", "-E", "UTF8",
                   "--no-sync"])  # fmt: skip
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "postgres.log"),
                   "-w", "start"])  # fmt: skip
        self._run([str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "prefect", "prefect"])
        return self

    def stop(self) -> None:
        if self.data.exists():
            try:
                self._run([str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
            except PostgresError:
                pass
        if self.owned:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
