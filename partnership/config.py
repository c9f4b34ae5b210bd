"""The partnership's configuration (``config/partnership.yml``, or ``YOS_CONFIG``): partners, feeds, endpoints,
secrets by reference, alert contacts. Read once per run; secrets are resolved only when asked for."""

from __future__ import annotations

import os
import re
import secrets as _secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from expectations.contract import all_contracts, get_contract, load_yaml
from partnership.settings import PROJECT_ROOT

_VAR = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """The configuration is wrong or a secret it names cannot be found. The message says which and how to fix it."""


def interpolate(text: str, what: str = "configuration") -> str:
    """``text`` with each ``${VAR}`` (or ``${VAR:-default}``) replaced from the environment; ``what`` names the
    file in the error when a variable without a default is not set."""

    def sub(m: re.Match[str]) -> str:
        value = os.environ.get(m.group(1))
        if value is None:
            if m.group(2) is None:
                raise ConfigError(f"{what} uses ${{{m.group(1)}}} but it is not set in the environment")
            return m.group(2)
        return value

    return _VAR.sub(sub, text)


@dataclass(frozen=True)
class SecretRef:
    """A secret named by reference: an environment variable, else a file. Its value is never logged."""

    env: str | None = None
    file: str | None = None
    prefect_secret: str | None = None
    create: bool = False

    def describe(self) -> str:
        parts = []
        if self.env:
            parts.append(f"environment variable {self.env}")
        if self.prefect_secret:
            parts.append(f"Prefect Secret block {self.prefect_secret}")
        if self.file:
            parts.append(f"file {self.file}")
        return " or ".join(parts) or "nothing"

    def resolve(self) -> str:
        if self.env and os.environ.get(self.env):
            return os.environ[self.env]
        if self.prefect_secret:
            try:
                from prefect.blocks.system import Secret

                return str(Secret.load(self.prefect_secret).get())
            except (ValueError, ImportError, RuntimeError, OSError) as e:
                if not self.file:
                    raise ConfigError(f"secret not found: {self.describe()} ({type(e).__name__})") from e
        if self.file:
            path = Path(self.file)
            if path.exists():
                return path.read_text().strip()
            if self.create:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                value = _secrets.token_hex(32)
                # created 0600, never readable by anyone else for a moment; O_EXCL: two processes cannot both make one
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:  # another process made it first: use that one
                    return path.read_text().strip()
                with os.fdopen(fd, "w") as f:
                    f.write(value)
                return value
        raise ConfigError(f"secret not found: set {self.describe()}")


def secret_ref(raw: Any) -> SecretRef | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not ({"env", "file", "prefect_secret"} & raw.keys()):
        raise ConfigError(
            "secrets must be given by reference, e.g. {env: NAME}, {prefect_secret: BLOCK} or {file: PATH}, "
            "never inline"
        )
    return SecretRef(
        env=raw.get("env"),
        file=raw.get("file"),
        prefect_secret=raw.get("prefect_secret"),
        create=bool(raw.get("create", False)),
    )


@dataclass(frozen=True)
class Contact:
    """Who hears about a partner's data: by email, and/or a webhook (Teams or Slack incoming webhook: its URL is a
    secret, so it is given by reference)."""

    name: str
    email: str | None = None
    webhook: SecretRef | None = None


def _contact(raw: dict) -> Contact:
    return Contact(name=raw["name"], email=raw.get("email"), webhook=secret_ref(raw.get("webhook")))


@dataclass(frozen=True)
class Partner:
    """A partner agency: where its feeds are, how to authenticate, who hears about problems.

    ``auth_type`` is ``bearer`` (``token``), ``api_key`` (``token`` sent in ``api_key_header``), ``mtls`` (client
    certificate ``client_cert`` and key ``client_key``, files) or ``none``. TLS is always verified, against
    ``ca_bundle`` when given. ``transfer_deadline_seconds`` bounds one transfer (a request and its pages) as a
    whole, however slowly the partner sends: past it the transfer is abandoned and retried as a transient failure."""

    id: str
    name: str
    base_url: str
    auth_type: str
    token: SecretRef | None
    contacts: tuple[Contact, ...]
    feeds: tuple[str, ...]
    api_key_header: str = "X-API-Key"
    client_cert: str | None = None
    client_key: str | None = None
    ca_bundle: str | None = None
    max_bytes: int = 2 * 1024**3
    transfer_deadline_seconds: float = 1800.0

    def feed_url(self, feed: str) -> str:
        return f"{self.base_url.rstrip('/')}/{feed}.csv"

    def missing_credential(self) -> str | None:
        """What is missing to authenticate to this partner (never a secret's value), or None if nothing is."""
        if self.auth_type in ("bearer", "api_key"):
            if self.token is None:
                return f"no token is configured for partner {self.id}"
            try:
                self.token.resolve()
            except ConfigError:
                return f"no credential: set {self.token.describe()}"
        if self.auth_type == "mtls":
            missing = [f for f in (self.client_cert, self.client_key) if not f or not Path(f).exists()]
            if missing:
                return f"no client certificate or key at {', '.join(str(f) for f in missing)}"
        return None


@dataclass(frozen=True)
class Config:
    path: Path
    name: str
    la_code: str
    la_name: str
    comparator_area_code: str
    comparator_area_name: str
    yos_data_lead: Contact
    pseudonym_key: SecretRef
    pseudonym_key_version: int
    alert_from: str
    smtp: dict[str, Any]
    escalate_after_extracts: int
    disclosure_threshold: int
    retention_years: dict[str, int] = field(default_factory=dict)
    calendar: dict[str, Any] = field(default_factory=dict)
    partners: dict[str, Partner] = field(default_factory=dict)
    # A snapshot withdrawing more than this share of its feed's current rows is held back (unless a declared reset).
    snapshot_max_withdrawn_share: float = 0.2
    # Days a copy of an alert is kept in <data>/outbox/ (a copy awaiting resend is kept until it is delivered).
    outbox_retention_days: int = 30

    @property
    def area(self) -> dict[str, str]:
        """The partnership's area and its comparator, as the KPI views read them (``core.partnership``)."""
        return {
            "partnership_name": self.name,
            "la_code": self.la_code,
            "la_name": self.la_name,
            "comparator_area_code": self.comparator_area_code,
            "comparator_area_name": self.comparator_area_name,
        }

    def secrets(self) -> list[SecretRef]:
        """Every secret the configuration names: the pseudonym key, partners' tokens, webhooks, the SMTP password."""
        contacts = [self.yos_data_lead, *(c for p in self.partners.values() for c in p.contacts)]
        refs = [self.pseudonym_key, *(p.token for p in self.partners.values()), *(c.webhook for c in contacts)]
        if self.smtp.get("password") is not None:
            refs.append(secret_ref(self.smtp["password"]))
        return [r for r in refs if r is not None]

    def partner_of(self, feed: str) -> Partner:
        for p in self.partners.values():
            if feed in p.feeds:
                return p
        raise ConfigError(f"feed {feed!r} is not configured for any partner in {self.path}")


def _positive(partner: str, key: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = 0.0
    if number <= 0:
        raise ConfigError(f"partner {partner}: {key} must be a positive number of seconds, not {value!r}")
    return number


def default_config_path() -> Path:
    return Path(os.environ.get("YOS_CONFIG", PROJECT_ROOT / "config" / "partnership.yml"))


def load_config(path: Path | None = None) -> Config:
    path = Path(path or default_config_path())
    try:
        doc = load_yaml(interpolate(path.read_text()))
    except FileNotFoundError as e:
        raise ConfigError(f"configuration file not found: {path}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"configuration file {path} is not valid YAML: {e}") from e
    ps = doc["partnership"]
    partners = {}
    for pid, p in doc["partners"].items():
        for feed in p["feeds"]:
            get_contract(feed)  # every configured feed must have a contract
        auth = p.get("auth") or {"type": "none"}
        if auth["type"] not in ("bearer", "api_key", "mtls", "none"):
            raise ConfigError(f"partner {pid}: auth type must be bearer, api_key, mtls or none, not {auth['type']!r}")
        if auth["type"] in ("bearer", "api_key") and not auth.get("token"):
            raise ConfigError(f"partner {pid}: {auth['type']} auth needs a token reference")
        if auth["type"] == "mtls" and not (auth.get("client_cert") and auth.get("client_key")):
            raise ConfigError(f"partner {pid}: mtls auth needs client_cert and client_key files")
        tls = p.get("tls") or {}
        if tls.get("verify") is False:
            raise ConfigError(f"partner {pid}: TLS verification cannot be switched off; give a ca_bundle instead")
        partners[pid] = Partner(
            id=pid,
            name=p["name"],
            base_url=p["base_url"],
            auth_type=auth["type"],
            token=secret_ref(auth.get("token")),
            contacts=tuple(_contact(c) for c in p.get("contacts", [])),
            feeds=tuple(p["feeds"]),
            api_key_header=auth.get("header", "X-API-Key"),
            client_cert=auth.get("client_cert"),
            client_key=auth.get("client_key"),
            ca_bundle=tls.get("ca_bundle"),
            max_bytes=int(p.get("max_bytes", 2 * 1024**3)),
            transfer_deadline_seconds=_positive(
                pid, "transfer_deadline_seconds", p.get("transfer_deadline_seconds", 1800)
            ),
        )
    retention = doc.get("retention") or {}
    default_years = int(retention.get("default_years", 6))
    unknown = set(retention.get("feeds") or {}) - set(all_contracts())
    if unknown:
        raise ConfigError(f"retention names feeds with no contract: {', '.join(sorted(unknown))}")
    retention_years = {f: int((retention.get("feeds") or {}).get(f, default_years)) for f in all_contracts()}
    smtp = dict(doc["alerts"]["smtp"])
    smtp["port"] = int(smtp["port"])
    return Config(
        path=path,
        name=ps["name"],
        la_code=ps["la_code"],
        la_name=ps["la_name"],
        comparator_area_code=(ps.get("comparator") or {}).get("area_code", "E92000001"),
        comparator_area_name=(ps.get("comparator") or {}).get("area_name", "England"),
        yos_data_lead=_contact(ps["yos_data_lead"]),
        pseudonym_key=secret_ref(doc["pseudonymisation"]["key"]),
        pseudonym_key_version=int(doc["pseudonymisation"]["version"]),
        alert_from=doc["alerts"]["from"],
        escalate_after_extracts=int(doc["alerts"].get("escalate_after_extracts", 3)),
        smtp=smtp,
        disclosure_threshold=int(doc.get("disclosure", {}).get("threshold", 5)),
        retention_years=retention_years,
        calendar=doc.get("calendar") or {},
        partners=partners,
        snapshot_max_withdrawn_share=_share(doc),
        outbox_retention_days=_days(doc),
    )


def _share(doc: dict) -> float:
    raw = (doc.get("snapshots") or {}).get("max_withdrawn_share", 0.2)
    try:
        share = float(raw)
    except (TypeError, ValueError):
        share = -1.0
    if not 0 <= share <= 1:
        raise ConfigError(
            f"snapshots.max_withdrawn_share must be a share between 0 and 1 (0.2 is a fifth), not {raw!r}"
        )
    return share


def _days(doc: dict) -> int:
    raw = (doc.get("alerts") or {}).get("outbox_retention_days", 30)
    if isinstance(raw, bool) or not str(raw).strip().isdigit() or int(raw) < 1:
        raise ConfigError(f"alerts.outbox_retention_days must be a whole number of days, 1 or more, not {raw!r}")
    return int(raw)
