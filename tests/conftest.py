"""Shared fixtures. Every test gets its own data directory; Prefect and GX stay offline and write nothing to $HOME."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

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
    from yos.synthetic.generate import generate

    out = tmp_path_factory.mktemp("partnership")
    generate(out, seed=11, children=300)
    return out


@pytest.fixture(scope="session")
def defective(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same partnership with every named defect injected."""
    from yos.synthetic.generate import DEFECTS, generate

    out = tmp_path_factory.mktemp("defective")
    generate(out, seed=11, children=300, defects=list(DEFECTS))
    return out


@pytest.fixture
def pipeline(data_dir: Path):
    from yos.pipeline import Pipeline

    with Pipeline() as p:
        yield p
