"""Feed contracts: what each partner extract must look like, read from ``expectations/contracts/<feed>.yml``.

A contract is the single source for a feed: the staging types, the validation rules (and so the GX suite), the
pseudonymisation and minimisation applied on load, the partner-facing docs and the synthetic generator's shape all
come from it. This module reads contracts and compiles them into :class:`Rule` objects; it runs nothing.

Every rule is one check with one meaning, expressed once as a SQL predicate (``fails_when``) over the *checked*
relation of an extract, where each contract column appears twice:

- ``"<col>__raw"``: the value exactly as the partner sent it (empty means NULL);
- ``"<col>"``: the typed value (NULL when blank or when the raw value is not of the column's type).

The GX expectation for each rule is built from the same declaration (see :mod:`expectations.suite`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from expectations.sql import sql_literal

HERE = Path(__file__).parent
CONTRACTS_DIR = HERE / "contracts"

TYPES = ("text", "code", "date", "timestamp", "int", "number", "bool")
SEVERITIES = ("error", "warning")
TRUE_VALUES = ("true", "1")
FALSE_VALUES = ("false", "0")


class ContractError(Exception):
    """A contract file is wrong: a program failure for the pipeline's maintainers, not a partner's problem."""


@dataclass(frozen=True)
class Format:
    name: str
    regex: str
    says: str


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    codes: str | list[str] | None = None
    format: Format | None = None
    min: float | None = None
    max: float | None = None
    not_future: bool = False
    identifier: str | None = None
    minimise: str | None = None
    severity: str = "error"
    description: str = ""

    def sql_type(self) -> str:
        return {
            "text": "VARCHAR",
            "code": "VARCHAR",
            "date": "DATE",
            "timestamp": "TIMESTAMP WITH TIME ZONE",
            "int": "BIGINT",
            "number": "DOUBLE",
            "bool": "BOOLEAN",
        }[self.type]


@dataclass(frozen=True)
class Rule:
    """One check of a contract. ``kind`` says which family it belongs to; ``fails_when`` selects failing rows."""

    feed: str
    name: str
    kind: str  # required | type | codes | format | range | not_future | unique | cross
    columns: tuple[str, ...]
    severity: str
    fails_when: str
    message: str
    fix: str
    codes: tuple[str, ...] = ()
    regex: str | None = None
    min: float | None = None
    max: float | None = None
    code: str | None = None  # a rule with an outside code keeps it as its id (the DfE's SSDA903 rules: 903-148)

    @property
    def id(self) -> str:
        return self.code or f"{self.feed}.{self.name}"


@dataclass(frozen=True)
class Contract:
    feed: str
    title: str
    partner: str
    version: int
    spec: str
    grain: str
    cadence: str
    kind: str
    date_format: str
    key: tuple[str, ...]
    columns: dict[str, Column]
    cross_rules: tuple[dict[str, Any], ...] = ()
    period_column: str | None = None
    collection_year: bool = False
    path: Path = field(default=CONTRACTS_DIR)

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    @property
    def identifiers(self) -> dict[str, str]:
        """Columns holding a person identifier, mapped to their pseudonym namespace."""
        return {c.name: c.identifier for c in self.columns.values() if c.identifier}

    def codes_for(self, column: Column, collection_year: int | None) -> list[str]:
        return resolve_codes(column.codes, collection_year)

    def rules(
        self,
        as_of: dt.date,
        collection_year: int | None = None,
        context: Any = None,
    ) -> list[Rule]:
        """Every row-level rule of this contract, for an extract received on ``as_of``. The SSDA903 rules reading
        another feed or last year's return are among them only where ``context`` (an
        :class:`expectations.ssda903_cross.Context`) holds what they read; the others are listed in its ``skipped``."""
        out: list[Rule] = []
        for col in self.columns.values():
            out.extend(_column_rules(self, col, as_of, collection_year))
        if self.key:
            key_sql = ", ".join(f'"{k}__raw"' for k in self.key)
            out.append(
                Rule(
                    feed=self.feed,
                    name="key.unique",
                    kind="unique",
                    columns=self.key,
                    severity="error",
                    fails_when=f"row_number() OVER (PARTITION BY {key_sql} ORDER BY _line) > 1",
                    message=f"The key ({', '.join(self.key)}) repeats a row sent earlier in the same extract.",
                    fix=f"Send each {', '.join(self.key)} once per extract; correct the earlier row instead "
                    "of adding another.",
                )
            )
        for cr in self.cross_rules:
            out.append(
                Rule(
                    feed=self.feed,
                    name=cr["name"],
                    kind="cross",
                    columns=tuple(cr["columns"]),
                    severity=cr.get("severity", "error"),
                    fails_when=cr["fails_when"],
                    message=cr["message"],
                    fix=cr["fix"],
                )
            )
        if self.collection_year:
            out = _with_ssda903_rules(self, out, collection_year, context)
        return out


def _with_ssda903_rules(
    contract: Contract, rules: list[Rule], collection_year: int | None, context: Any = None
) -> list[Rule]:
    """The DfE's SSDA903 rules of the collection year for a children's social care feed, replacing the contract
    rules that mean the same (:mod:`expectations.ssda903`).

    A failing row's problem copies the values of the rule's columns into the warehouse; a column minimised on load
    (a date of birth, a postcode) is therefore not one of the columns a rule reports, unless the rule is about
    that value not being a date at all (then it is not a real one). The rule's message names it instead; a rule
    left with no column reports CHILD, whose value is always withheld."""
    from expectations import ssda903

    feed = contract.feed

    replaced = ssda903.superseded(feed, collection_year)
    year = ssda903.year_for(collection_year)
    out = [r for r in rules if r.name not in replaced]
    for c in ssda903.checks_for(feed, collection_year):
        if c.needs:
            lacking = [n for n in c.needs if context is None or n not in context.tables]
            if lacking:
                if context is not None:
                    why = "; ".join(context.missing.get(n, n) for n in lacking)
                    context.skipped.append((c.rule_id, c.severity, f"skipped: {why}"))
                continue
        shown = c.columns if c.shows_values else tuple(x for x in c.columns if not contract.columns[x].minimise)
        out.append(
            Rule(
                feed=feed,
                name=c.rule_id,
                kind="ssda903",
                columns=shown or ("CHILD",),
                severity=c.severity,
                fails_when=c.sql(year, context.tables) if c.needs else c.sql(year),
                message=c.message,
                fix=c.fix,
                code=c.rule_id,
            )
        )
    return out


def collection_year_of(day: dt.date) -> int:
    """The SSDA903 collection year (April to March) containing ``day``, named by its starting year."""
    return day.year if day.month >= 4 else day.year - 1


def load_yaml(text: str) -> Any:
    """Parse YAML safely, with libyaml's C parser when PyYAML has it: the contracts, code lists and configuration
    are parsed at the start of every run, and the pure-Python parser is several times slower (measured on a
    no-change re-run: bench/NOTES.md)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def _codes() -> dict[str, Any]:
    return load_yaml((HERE / "codes.yml").read_text())


@cache
def _formats() -> dict[str, Format]:
    raw = load_yaml((HERE / "formats.yml").read_text())
    return {name: Format(name, f["regex"], f["says"]) for name, f in raw.items()}


def resolve_codes(codes: str | list[str] | None, collection_year: int | None) -> list[str]:
    if codes is None:
        return []
    if isinstance(codes, list):
        return [str(c) for c in codes]
    value = _codes()[codes]
    if isinstance(value, dict) and "by_collection_year" in value:
        versions = {int(y): v for y, v in value["by_collection_year"].items()}
        year = collection_year if collection_year is not None else max(versions)
        applicable = [y for y in versions if y <= year] or [min(versions)]
        return [str(c) for c in versions[max(applicable)]]
    return [str(c) for c in value]


def typed_expr(col: Column, date_format: str) -> str:
    """SQL turning ``"<col>__raw"`` into the column's type, NULL when it does not parse."""
    raw = f'"{col.name}__raw"'
    if col.type in ("text", "code"):
        return raw
    if col.type == "date":
        return f"try_strptime({raw}, {sql_literal(date_format)})::DATE"
    if col.type == "timestamp":
        return f"try_cast({raw} AS TIMESTAMPTZ)"
    if col.type == "int":
        return f"CASE WHEN regexp_full_match({raw}, '-?[0-9]{{1,18}}') THEN {raw}::BIGINT END"
    if col.type == "number":
        return f"try_cast({raw} AS DOUBLE)"
    if col.type == "bool":
        return f"CASE WHEN lower({raw}) IN ('true', '1') THEN true WHEN lower({raw}) IN ('false', '0') THEN false END"
    raise ContractError(f"unknown type {col.type!r} for column {col.name}")


_TYPE_WORDS = {
    "date": "a date written {fmt}",
    "timestamp": "a date and time in ISO 8601 with offset, e.g. 2025-03-01T21:15:00+00:00",
    "int": "a whole number",
    "number": "a number",
    "bool": "true or false (or 1 or 0)",
}


def _human_date_format(fmt: str) -> str:
    return fmt.replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD")


def _column_rules(contract: Contract, col: Column, as_of: dt.date, collection_year: int | None) -> list[Rule]:
    raw = f'"{col.name}__raw"'
    typed = f'"{col.name}"'
    rules: list[Rule] = []

    def add(kind: str, fails_when: str, message: str, fix: str, severity: str | None = None, **extra: Any) -> None:
        rules.append(
            Rule(
                feed=contract.feed,
                name=f"{col.name}.{kind}",
                kind=kind,
                columns=(col.name,),
                severity=severity or col.severity,
                fails_when=fails_when,
                message=message,
                fix=fix,
                **extra,
            )
        )

    if col.required:
        add(
            "required",
            f"{raw} IS NULL",
            f"{col.name} is blank but required.",
            f"Fill in {col.name} on every row.",
            severity="error",
        )
    if col.type in _TYPE_WORDS:
        words = _TYPE_WORDS[col.type].format(fmt=_human_date_format(contract.date_format))
        add(
            "type",
            f"{raw} IS NOT NULL AND {typed} IS NULL",
            f"{col.name} is not {words}.",
            f"Write {col.name} as {words}.",
            severity="error",
        )
    codes = contract.codes_for(col, collection_year)
    if codes:
        listed = ", ".join(codes)
        add(
            "codes",
            f"{raw} NOT IN ({', '.join(sql_literal(c) for c in codes)})",
            f"{col.name} is not one of the allowed codes.",
            f"Use one of: {listed} (codes are case-sensitive).",
            codes=tuple(codes),
        )
    if col.format is not None:
        add(
            "format",
            f"NOT regexp_full_match({raw}, {sql_literal(col.format.regex.strip('^$'))})",
            f"{col.name} is not {col.format.says}.",
            f"Write {col.name} as {col.format.says}; never put a name or free text in it.",
            regex=col.format.regex,
        )
    if col.min is not None or col.max is not None:
        lo = col.min if col.min is not None else "-infinity"
        hi = col.max if col.max is not None else "infinity"
        add(
            "range",
            f"{typed} NOT BETWEEN {lo} AND {hi}",
            f"{col.name} is outside {col.min} to {col.max}.",
            f"Give {col.name} a value from {col.min} to {col.max}.",
            min=col.min,
            max=col.max,
        )
    if col.not_future:
        add(
            "not_future",
            f"{typed} > DATE '{as_of.isoformat()}'",
            f"{col.name} is in the future.",
            f"Check {col.name}; it cannot be after the date the extract was sent.",
        )
    return rules


def _parse(path: Path) -> Contract:
    doc = load_yaml(path.read_text())
    formats = _formats()
    columns: dict[str, Column] = {}
    for name, spec in doc["columns"].items():
        spec = dict(spec or {})
        if spec.get("type") not in TYPES:
            raise ContractError(f"{path.name}: column {name} has unknown type {spec.get('type')!r}")
        fmt = spec.pop("format", None)
        if fmt is not None and fmt not in formats:
            raise ContractError(f"{path.name}: column {name} names unknown format {fmt!r}")
        codes = spec.get("codes")
        if isinstance(codes, str) and codes not in _codes():
            raise ContractError(f"{path.name}: column {name} names unknown code list {codes!r}")
        if spec.get("severity", "error") not in SEVERITIES:
            raise ContractError(f"{path.name}: column {name} has unknown severity")
        columns[name] = Column(name=name, format=formats[fmt] if fmt else None, **spec)
    for k in doc.get("key", []):
        if k not in columns:
            raise ContractError(f"{path.name}: key column {k} is not a column")
    return Contract(
        feed=doc["feed"],
        title=doc["title"],
        partner=doc["partner"],
        version=int(doc["version"]),
        spec=doc["spec"],
        grain=doc["grain"],
        cadence=doc["cadence"],
        kind=doc["kind"],
        date_format=doc["date_format"],
        key=tuple(doc.get("key", [])),
        columns=columns,
        cross_rules=tuple(doc.get("rules") or ()),
        period_column=doc.get("period_column"),
        collection_year=bool(doc.get("collection_year", False)),
        path=path,
    )


@cache
def all_contracts() -> dict[str, Contract]:
    """Every feed's contract, by feed name."""
    out = {}
    for path in sorted(CONTRACTS_DIR.glob("*.yml")):
        c = _parse(path)
        if c.feed != path.stem:
            raise ContractError(f"{path.name} declares feed {c.feed!r}; the file must be named after its feed")
        out[c.feed] = c
    return out


def get_contract(feed: str) -> Contract:
    contracts = all_contracts()
    if feed not in contracts:
        raise ContractError(f"no contract for feed {feed!r}; known feeds: {', '.join(sorted(contracts))}")
    return contracts[feed]
