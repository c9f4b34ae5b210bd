"""``yos serve``: everything the deployments in ``prefect.yaml`` need, on one machine.

A Prefect server on 127.0.0.1 (unless ``PREFECT_API_URL`` names one), the ``local-process`` work pool, the
deployments (nightly at 02:00 Europe/London, load-landed on each ``yos.extract.landed`` event, retention, backfill),
a worker, and the intake watcher. Children are stopped when it stops (the worker needs a second signal)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from partnership.processes import ServiceError, free_port, wait_healthy
from partnership.settings import PROJECT_ROOT, Paths

BIN = Path(sys.executable).parent


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + 10
    for p in reversed(procs):
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()  # `prefect worker start` ignores the first SIGTERM (stack-notes pitfall 10)
            p.wait()


def serve(
    paths: Paths,
    echo: Callable[[str], None],
    port: int | None = None,
    watch_interval: float = 5.0,
    settle_seconds: float = 10.0,
) -> None:
    env = {**os.environ, "YOS_HOME": str(PROJECT_ROOT), "YOS_DATA_DIR": str(paths.data)}
    logs = paths.data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen] = []

    def start(name: str, args: list[str]) -> subprocess.Popen:
        out = open(logs / f"{name}.log", "ab")  # noqa: SIM115 - kept open for the child's life
        p = subprocess.Popen(args, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT)
        procs.append(p)
        return p

    def run(args: list[str]) -> None:
        r = subprocess.run(args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
        if r.returncode != 0:
            raise ServiceError(f"{' '.join(args[:3])} failed: {(r.stdout + r.stderr)[-1500:]}")

    stopping = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        api = env.get("PREFECT_API_URL")
        if not api:
            port = port or free_port()
            api = f"http://127.0.0.1:{port}/api"
            env["PREFECT_API_URL"] = api
            server = start("prefect-server", [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1",
                                              "--port", str(port)])  # fmt: skip
            echo(f"starting a Prefect server on {api} (logs in {logs}) ...")
            wait_healthy(api, proc=server)
        else:
            echo(f"using the Prefect server at {api}")
            wait_healthy(api)
        run([str(BIN / "prefect"), "work-pool", "create", "local-process", "--type", "process", "--overwrite"])
        run([str(BIN / "prefect"), "--no-prompt", "deploy", "--all"])
        echo("deployed prefect.yaml: nightly (02:00 Europe/London), load-landed (on yos.extract.landed), "
             "retention, backfill")  # fmt: skip
        start("worker", [str(BIN / "prefect"), "worker", "start", "--pool", "local-process"])
        start("intake-watcher", [str(BIN / "yos"), "intake", "watch", "--scan-interval", str(watch_interval),
                                 "--settle", str(settle_seconds)])  # fmt: skip
        echo(f"worker and intake watcher running; drop files into {paths.intake}/<partner>/ ; Ctrl-C stops")
        while not stopping:
            for p in procs:
                if p.poll() is not None:
                    raise ServiceError(f"{' '.join(p.args[:3])} exited with status {p.returncode}; see {logs}")
            time.sleep(1)
    finally:
        _stop(procs)
        echo("stopped")
