"""``yos hub serve``: one Prefect server on PostgreSQL for several partnerships, a process work pool, each member's
deployments and the hub's rebuild, and the workers asked for. :class:`HubService` is that, as a context manager:
the command, the end-to-end test and the bench all start the hub through it.

The server: the one ``PREFECT_API_URL`` names (connect only), else ``prefect server start`` on the database
``PREFECT_API_DATABASE_CONNECTION_URL`` names, which must be PostgreSQL (SQLite serialises writers and locks under
several workers: stack-notes 3.3), or on a throwaway cluster (``temp_postgres``, for a trial). Workers are
``prefect worker start --pool <pool> --work-queue default --limit 1``: one flow run at a time each, so N workers run
N partnerships side by side; one more serves the ``hub`` queue (the hub warehouse's rebuilds). Workers get the API's
address, never the database's.

Each member's intake folder is watched as ``yos serve`` watches one partnership's: a ``yos intake watch`` process per
member, in that member's environment (its job variables: its configuration, data directory and hub id), lands each
complete file and announces it, and the member's ``load-landed`` trigger loads it (:mod:`hub.deploy`). One process
per member, like its runs, so no process ever holds two partnerships' configurations."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hub.config import Hub
from hub.deploy import HUB_QUEUE, MEMBER_QUEUE, create_pool, deploy
from hub.postgres import TempPostgres
from partnership.processes import ServiceError, free_port, wait_healthy
from partnership.settings import OFFLINE_ENV, PROJECT_ROOT

BIN = Path(sys.executable).parent
# A partnership's single-process settings: each member's job variables set its own, so the workers must not pass on
# the shell's (nor the database's address and password, which only the server needs).
NOT_FOR_WORKERS = ("YOS_CONFIG", "YOS_DATA_DIR", "PREFECT_API_DATABASE_CONNECTION_URL", "PREFECT_HOME", "TMPDIR")


class HubError(ServiceError):
    """A part of the hub could not start or stopped; the message says which and where its log is."""


class HubService:
    def __init__(
        self,
        hub: Hub,
        workers: int | None = None,
        schedules: bool = True,
        temp_postgres: bool = False,
        port: int | None = None,
        echo: Callable[[str], None] = lambda s: None,
        ui: bool = True,
        intake: bool = True,
        scan_interval: float = 5.0,
        settle_seconds: float = 10.0,
    ) -> None:
        self.hub, self.workers, self.schedules, self.echo = (
            hub,
            hub.workers if workers is None else workers,
            schedules,
            echo,
        )
        self.temp_postgres, self.port, self.ui = temp_postgres, port, ui
        self.logs = hub.data_dir / "logs"
        self.procs: list[subprocess.Popen] = []
        self.server: subprocess.Popen | None = None
        self.worker_procs: list[subprocess.Popen] = []
        self.hub_worker: subprocess.Popen | None = None
        self.intake, self.scan_interval, self.settle_seconds = intake, scan_interval, settle_seconds
        self.watchers: dict[str, subprocess.Popen] = {}
        self.pg: TempPostgres | None = None
        self.api_url = ""
        base = {k: v for k, v in os.environ.items() if k not in NOT_FOR_WORKERS}
        self.env = {**OFFLINE_ENV, **base, "YOS_HOME": str(PROJECT_ROOT), "YOS_HUB_CONFIG": str(hub.path),
                    "PREFECT_HOME": str(hub.prefect_home)}  # fmt: skip

    def _start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        p = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        self.procs.append(p)
        return p

    def start(self) -> HubService:
        os.umask(0o077)
        for d in (self.hub.data_dir, self.logs, self.hub.prefect_home, self.hub.data_dir / "tmp"):
            d.mkdir(parents=True, exist_ok=True)
        try:
            self._start_all()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_all(self) -> None:
        api = os.environ.get("PREFECT_API_URL")
        if api:
            self.echo(f"using the Prefect server at {api}")
            wait_healthy(api)
        else:
            db = os.environ.get("PREFECT_API_DATABASE_CONNECTION_URL", "")
            if self.temp_postgres:
                self.pg = TempPostgres().start()
                db = self.pg.url
                self.echo(f"started a throwaway PostgreSQL on 127.0.0.1:{self.pg.port}")
            if not db.startswith("postgresql"):
                raise HubError(
                    "the hub's Prefect server needs PostgreSQL: set PREFECT_API_DATABASE_CONNECTION_URL="
                    "postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB, or PREFECT_API_URL to a running server "
                    "(or --temp-postgres for a trial)"
                )
            port = self.port or free_port()
            api = f"http://127.0.0.1:{port}/api"
            server_env = {**self.env, "PREFECT_API_DATABASE_CONNECTION_URL": db,
                          "PREFECT_UI_ENABLED": "true" if self.ui else "false"}  # fmt: skip
            server_env.pop("PREFECT_API_URL", None)
            self.server = self._start("prefect-server", [str(BIN / "prefect"), "server", "start", "--host",
                                                         "127.0.0.1", "--port", str(port)], server_env)  # fmt: skip
            self.echo(f"starting a Prefect server on {api}, its database on PostgreSQL (logs in {self.logs}) ...")
            wait_healthy(api, proc=self.server)
        self.api_url = api
        self.env["PREFECT_API_URL"] = api
        create_pool(self.hub, self.env)
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings({PREFECT_API_URL: api}):  # this process deploys through it, and is left as it was
            ids = deploy(self.hub, schedules=self.schedules)
        self.echo(f"deployed {len(ids)} deployments to the work pool {self.hub.work_pool}: "
                  + ", ".join(sorted(ids)))  # fmt: skip
        pool = self.hub.work_pool
        for i in range(1, self.workers + 1):
            self.worker_procs.append(
                self._start(f"worker-{i}", [str(BIN / "prefect"), "worker", "start", "--pool", pool, "--work-queue",
                                            MEMBER_QUEUE, "--limit", "1", "--name", f"{pool}-worker-{i}"], self.env)
            )  # fmt: skip
        self.hub_worker = self._start("hub-worker", [str(BIN / "prefect"), "worker", "start", "--pool", pool,
                                                     "--work-queue", HUB_QUEUE, "--limit", "1", "--name",
                                                     f"{pool}-hub"], self.env)  # fmt: skip
        self.echo(f"{self.workers} worker(s) running, one flow run at a time each, and one for the hub's rebuilds")
        if self.intake:
            for m in self.hub.members.values():
                self.watchers[m.id] = self._start(
                    f"intake-{m.id}",
                    [str(BIN / "yos"), "intake", "watch", "--scan-interval", str(self.scan_interval), "--settle",
                     str(self.settle_seconds)],
                    {**self.env, **m.job_env()},
                )  # fmt: skip
            self.echo(f"watching {len(self.watchers)} intake folder(s): <data dir>/intake/<partner>/ of each "
                      "partnership; a file dropped there triggers its load-landed")  # fmt: skip

    def check(self) -> None:
        for p in self.procs:
            if p.poll() is not None:
                raise HubError(f"{' '.join(map(str, p.args[:3]))} exited with status {p.returncode}; see {self.logs}")

    def stop(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 10
        for p in reversed(self.procs):
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()  # `prefect worker start` ignores the first SIGTERM (stack-notes pitfall 10)
                p.wait()
        self.procs.clear()
        if self.pg:
            self.pg.stop()
            self.pg = None

    def __enter__(self) -> HubService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve(hub: Hub, echo: Callable[[str], None], **kwargs: object) -> None:
    """Run the hub until SIGTERM or Ctrl-C."""
    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with HubService(hub, echo=echo, **kwargs) as svc:  # type: ignore[arg-type]
        echo(f"hub {hub.name}: {len(hub.members)} partnership(s); hub warehouse {hub.warehouse}; Ctrl-C stops")
        while not stopping:
            svc.check()
            time.sleep(1)
    echo("stopped")
