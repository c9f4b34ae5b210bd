"""The hub's configuration (``config/hub.example.yml``, or ``YOS_HUB_CONFIG``): which partnerships share one
Prefect server and pool of workers, and where each keeps its own configuration, data directory, warehouse and key.

Data, not code. Each member is a whole partnership as ``yos`` already knows it: its own ``partnership.yml`` (partners,
endpoints, contacts, its pseudonym key and tokens by reference), its own data directory (landing, the loader's
file, the published ``yos.duckdb``), and the non-secret environment its runs need (``env``). A run is told which
partnership it serves the way every ``yos`` process is: by ``YOS_CONFIG`` and ``YOS_DATA_DIR`` in its environment,
set per deployment as job variables (see :mod:`hub.deploy`). Two more tell a member's runs that they belong to
the hub: ``YOS_HUB_MEMBER`` (its id here: the ``yos.partnership`` label of the events its runs and its intake
watcher emit, which its own triggers match) and ``YOS_HUB_WAREHOUSE`` (the hub warehouse, where its board pack
finds its regional peers: :mod:`reports.regional`).

The hub refuses a configuration under which two members would share a secret: the same pseudonym key or token
reference (environment variable or file) would give two partnerships one key, and a child the same pseudonym in
both."""

from __future__ import annotations

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from partnership.config import Config, ConfigError, SecretRef, interpolate, load_config
from partnership.settings import PROJECT_ROOT

_ID = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Member:
    """One partnership of the hub."""

    id: str
    config: Path
    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    schedule: str | None = "0 2 * * *"
    contacts: tuple[str, ...] = ()
    hub_warehouse: Path | None = None  # the hub warehouse its board pack reads its regional peers from

    @property
    def published_db(self) -> Path:
        """The partnership's own published, disclosure-controlled file: all the hub ever reads of it."""
        return self.data_dir / "yos.duckdb"

    @property
    def deployment(self) -> str:
        return f"nightly-{self.id}"

    def job_env(self) -> dict[str, str]:
        """The environment of this member's flow runs (job variables): which partnership, where its data lives,
        its own non-secret settings, and its place in the hub (its id, and the hub warehouse). Never a secret's
        value: job variables are readable through the API."""
        return {
            **self.env,
            "YOS_CONFIG": str(self.config),
            "YOS_DATA_DIR": str(self.data_dir),
            "PREFECT_HOME": str(self.data_dir / "prefect"),
            "TMPDIR": str(self.data_dir / "tmp"),
            "YOS_HUB_MEMBER": self.id,
            **({"YOS_HUB_WAREHOUSE": str(self.hub_warehouse)} if self.hub_warehouse else {}),
        }

    @contextmanager
    def environment(self):  # noqa: ANN201
        """This member's job environment in this process, for reading its configuration as its runs will."""
        saved = {k: os.environ.get(k) for k in self.job_env()}
        os.environ.update(self.job_env())
        try:
            yield
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def load(self) -> Config:
        with self.environment():
            return load_config(self.config)


@dataclass(frozen=True)
class Hub:
    path: Path
    name: str
    region_code: str
    region_name: str
    data_dir: Path
    work_pool: str
    workers: int
    timezone: str
    contacts: tuple[str, ...]
    members: dict[str, Member]

    @property
    def warehouse(self) -> Path:
        """The hub warehouse: every member's published figures side by side, regional totals and ranks."""
        return self.data_dir / "hub.duckdb"  # Member.hub_warehouse: the same path

    @property
    def prefect_home(self) -> Path:
        return self.data_dir / "prefect"


def default_hub_path() -> Path:
    return Path(os.environ.get("YOS_HUB_CONFIG", PROJECT_ROOT / "config" / "hub.example.yml"))


def _path(raw: Any, base: Path) -> Path:
    p = Path(str(raw)).expanduser()
    return (p if p.is_absolute() else base / p).resolve()


def _secret_refs(cfg: Config) -> list[tuple[str, str]]:
    """Every secret reference a partnership's configuration names, as (kind, name) pairs."""
    refs: list[SecretRef] = [cfg.pseudonym_key]
    refs += [p.token for p in cfg.partners.values() if p.token]
    out = []
    for r in refs:
        if r.env:
            out.append(("environment variable", r.env))
        if r.file:
            out.append(("file", str(Path(r.file).resolve())))
        if r.prefect_secret:
            out.append(("Prefect Secret block", r.prefect_secret))
    return out


def load_hub(path: Path | None = None, check: bool = True) -> Hub:
    """Read the hub configuration; with ``check``, also read every member's own configuration (in that member's
    environment) and refuse shared data directories or shared secrets."""
    path = Path(path or default_hub_path()).resolve()
    try:
        doc = yaml.safe_load(interpolate(path.read_text(), "the hub configuration"))
    except FileNotFoundError as e:
        raise ConfigError(f"hub configuration not found: {path}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"hub configuration {path} is not valid YAML: {e}") from e
    base = path.parent
    h = doc.get("hub") or {}
    hub_data = _path(h.get("data_dir", "../data/hub"), base)
    raw_members = doc.get("partnerships") or {}
    if not raw_members:
        raise ConfigError(f"{path}: no partnerships listed")
    members: dict[str, Member] = {}
    for mid, m in raw_members.items():
        if not _ID.match(str(mid)):
            raise ConfigError(f"{path}: partnership id {mid!r} must be lower case letters, digits, - or _")
        m = m or {}
        for key in ("config", "data_dir"):
            if not m.get(key):
                raise ConfigError(f"{path}: partnership {mid} needs {key}")
        env = {str(k): str(v) for k, v in (m.get("env") or {}).items()}
        bad = [k for k in env if re.search(r"KEY|TOKEN|PASSWORD|SECRET", k) and not k.endswith("_URL")]
        if bad:
            raise ConfigError(
                f"{path}: partnership {mid} sets {', '.join(bad)} in env; secrets go by reference in its own "
                "configuration ({env: NAME} or {file: PATH}), never as values the Prefect API would show"
            )
        members[mid] = Member(
            id=mid,
            config=_path(m["config"], base),
            data_dir=_path(m["data_dir"], base),
            env=env,
            schedule=m.get("schedule", h.get("schedule", "0 2 * * *")),
            contacts=tuple(m.get("contacts") or ()),
            hub_warehouse=hub_data / "hub.duckdb",
        )
    hub = Hub(
        path=path,
        name=str(h.get("name", "Regional hub")),
        region_code=str(h.get("region_code", "")),
        region_name=str(h.get("region_name", "")),
        data_dir=hub_data,
        work_pool=str(h.get("work_pool", "yos-hub")),
        workers=int(h.get("workers", 2)),
        timezone=str(h.get("timezone", "Europe/London")),
        contacts=tuple(h.get("contacts") or ()),
        members=members,
    )
    if check:
        check_hub(hub)
    return hub


def check_hub(hub: Hub) -> dict[str, Config]:
    """Every member's configuration reads; no two members share a data directory, an LA or a secret."""
    dirs: dict[Path, str] = {}
    owners: dict[tuple[str, str], str] = {}
    las: dict[str, str] = {}
    configs = {}
    for m in hub.members.values():
        if m.data_dir in dirs:
            raise ConfigError(f"partnerships {dirs[m.data_dir]} and {m.id} share the data directory {m.data_dir}")
        if hub.data_dir == m.data_dir or hub.data_dir in m.data_dir.parents:
            raise ConfigError(f"the hub's data directory {hub.data_dir} must be outside partnership {m.id}'s")
        dirs[m.data_dir] = m.id
        cfg = configs[m.id] = m.load()
        for ref in set(_secret_refs(cfg)):
            if ref in owners:
                raise ConfigError(
                    f"partnerships {owners[ref]} and {m.id} would share a secret: both name the {ref[0]} {ref[1]}. "
                    "Give each partnership its own pseudonym key and tokens (e.g. {file: ${YOS_DATA_DIR}/secrets/...})"
                )
            owners[ref] = m.id
        if cfg.la_code in las:
            raise ConfigError(f"partnerships {las[cfg.la_code]} and {m.id} both serve {cfg.la_code}")
        las[cfg.la_code] = m.id
    return configs
