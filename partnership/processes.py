"""The service's own processes (a Prefect server, workers, PostgreSQL for a hub): a free loopback port, waiting for
the Prefect server to answer. Shared by ``yos serve`` and the regional hub."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx


class ServiceError(RuntimeError):
    """A part of the service could not start or stopped; the message says which and where its log is."""


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(api_url: str, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until the Prefect API at ``api_url`` answers; fail early if ``proc`` (its server) has exited."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc is not None and proc.poll() is not None:
            raise ServiceError(f"the Prefect server exited with status {proc.returncode}")
        time.sleep(0.5)
    raise ServiceError(f"the Prefect server at {api_url} did not become healthy within {timeout:.0f} s")
