"""Shared fixtures. Every test gets its own data directory; Prefect and GX stay offline and write nothing to $HOME."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from partnership.processes import ServiceError, free_port, wait_healthy

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="yos-tests-"))
os.environ.update(
    {
        "PREFECT_HOME": str(_SESSION_HOME / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "TQDM_DISABLE": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
)
os.environ.pop("PREFECT_API_URL", None)

TEST_KEY = "test-pseudonym-key-not-a-real-secret"


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("YOS_DATA_DIR", str(d))
    monkeypatch.setenv("YOS_PSEUDONYM_KEY", TEST_KEY)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    return d


@pytest.fixture(scope="session")
def partnership(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean synthetic partnership, generated once for the session."""
    from sandbox.generate import generate

    out = tmp_path_factory.mktemp("partnership")
    generate(out, seed=11, children=300)
    return out


@pytest.fixture(scope="session")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same partnership with every named defect injected."""
    from sandbox.generate import DEFECTS, generate

    out = tmp_path_factory.mktemp("defective")
    generate(out, seed=11, children=300, defects=list(DEFECTS))
    return out


@pytest.fixture
def pipeline(data_dir: Path):
    from flows.steps import Pipeline

    with Pipeline() as p:
        yield p


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A real Prefect server on a free loopback port, for the whole session."""
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = open(home / "server.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_healthy(url, proc=proc)
    except ServiceError as e:
        proc.kill()
        raise RuntimeError(f"{e}: " + (home / "server.log").read_text()[-2000:]) from e
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
