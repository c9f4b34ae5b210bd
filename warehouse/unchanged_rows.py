"""Unchanged rows: which rows of an arriving extract the partner also sent in the feed's last loaded extract, and
what was made of them then, so that a night's work follows what changed.

A partner's nightly snapshot is mostly the rows it sent the night before. The loader remembers, per feed, each
distinct row of the last loaded extract as a **digest** of its values as sent (MD5 keyed with a secret derived from
the pseudonym key: without the key a digest cannot be matched to a guessed row), with the key and stored-values
hash loading made of it (``landing.row_digests``), and what the **rules that read only the row itself** found in
it (``landing.row_digest_problems``: required, type, codes, format, range, the contract's rules across a row's
columns, and the SSDA903 rules of one row). Such a rule gives the same answer for the same values, so, while the
rule is unchanged (its fingerprint: SQL, severity, columns, message, fix), a row sent again unchanged is not
checked by it again: its problems are copied to the new load under the row's new line. Every other rule (the key's
uniqueness, the SSDA903 rules across a child's episodes or other feeds, a date not after the day the extract was
received) still reads every row. Loading looks up an unchanged row's key and hash rather than computing its
pseudonyms again.

What is quarantined, loaded and counted is the same as checking every row: the digest covers every value as sent,
and a change of contract version or pseudonym key version forgets the feed's memory, as does retention deleting
the extract it was made from. A row holding the digest's separator character is never remembered (it is checked
in full every time).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

import duckdb

from expectations.contract import Contract, Rule
from expectations.sql import sql_literal

SEPARATOR = "chr(31)"  # the unit separator between a row's values in the digested text
# A rule reading anything but the row's own values: another row (a window), a table, the clock, a variable.
READS_MORE_THAN_THE_ROW = re.compile(
    r"\b(over|qualify|select|from|join|current_date|current_timestamp|now|today|random|getvariable)\b",
    re.IGNORECASE,
)


def reads_only_the_row(rule: Rule) -> bool:
    """Whether ``rule`` answers from the row's own values alone, so the same values always get the same answer."""
    return rule.kind != "unique" and not READS_MORE_THAN_THE_ROW.search(rule.fails_when)


def fingerprint(rule: Rule) -> str:
    """What a remembered answer of ``rule`` depends on besides the row."""
    text = "\x1f".join([rule.id, rule.kind, rule.severity, ",".join(rule.columns), rule.fails_when, rule.message,
                        rule.fix])  # fmt: skip
    return hashlib.md5(text.encode()).hexdigest()


def _digest_secret(pseudonym_key: str) -> str:
    return hmac.new(pseudonym_key.encode(), b"yos-pipeline: digest of a row as sent", hashlib.sha256).hexdigest()


@dataclass
class Unchanged:
    """One load's view of its feed's memory. ``changed`` holds the rows to check with the remembered rules (every
    row when nothing is remembered); ``known`` the lines whose key and row hash are looked up, not computed."""

    feed: str
    load_id: int
    checked: str  # the staged extract's view (every row)
    changed: str  # the rows not sent unchanged last time (a table), or ``checked`` itself
    known: str | None  # (_line, _key, _row_hash) of unchanged rows that were loaded last time
    remembered: dict[str, str] = field(default_factory=dict)  # rule id -> fingerprint remembered
    rows_unchanged: int = 0

    @property
    def digests(self) -> str:
        return f"scratch.main.digests_{self.load_id}"

    def carried(self, rules: list[Rule]) -> list[Rule]:
        """The rules whose answers for unchanged rows are copied, not computed again."""
        if self.changed == self.checked:
            return []
        return [r for r in rules if reads_only_the_row(r) and self.remembered.get(r.id) == fingerprint(r)]


def prepare(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    checked: str,
    *,
    load_id: int,
    pseudonym_key: str,
    pseudonym_key_version: int,
) -> Unchanged:
    """Digest every row of the staged extract ``checked`` and compare it with the feed's memory. Call after
    staging, before validating; :func:`drop` removes what this makes."""
    feed = contract.feed
    columns = [f'"{c}__raw"' for c in contract.column_names]
    text = f"concat({f', {SEPARATOR}, '.join(columns)})"
    # a value holding the separator would make two different rows one text: such a row gets no digest (looking for
    # it in the values joined without separators cost half what counting the separators in the text did)
    holds_separator = f"contains(concat({', '.join(columns)}), {SEPARATOR})"
    drop(con, load_id)
    con.execute(
        f"""create table scratch.main.digests_{load_id} as
            select _line, case when not {holds_separator} then md5_number($secret || {text}) end as digest
            from {checked}""",
        {"secret": _digest_secret(pseudonym_key)},
    )
    state = con.execute(
        "select contract_version, pseudonym_key_version from landing.row_digest_feeds where feed = ?", [feed]
    ).fetchone()
    unchanged = Unchanged(feed, load_id, checked, checked, None)
    if state != (contract.version, pseudonym_key_version):
        if state is not None:
            forget(con, feed)
        return unchanged
    unchanged.remembered = dict(
        con.execute("select rule_id, fingerprint from landing.row_digest_rules where feed = ?", [feed]).fetchall()
    )
    remembered = f"(select digest from landing.row_digests where feed = {sql_literal(feed)})"
    con.execute(
        f"""create table scratch.main.changed_{load_id} as select * from {checked} where _line in (
                select _line from scratch.main.digests_{load_id} where digest is null or digest not in {remembered})"""
    )
    con.execute(
        f"""create table scratch.main.known_{load_id} as
            select d._line, r._key, r._row_hash from scratch.main.digests_{load_id} d
            join landing.row_digests r on r.feed = ? and r.digest = d.digest where r._key is not null""",
        [feed],
    )
    unchanged.changed, unchanged.known = f"scratch.main.changed_{load_id}", f"scratch.main.known_{load_id}"
    staged = con.execute(f"select count(*) from {checked}").fetchone()[0]
    unchanged.rows_unchanged = staged - con.execute(f"select count(*) from {unchanged.changed}").fetchone()[0]
    return unchanged


def carry_problems(
    con: duckdb.DuckDBPyConnection, unchanged: Unchanged, rules: list[Rule], *, extract_id: str, partner: str
) -> dict[str, int]:
    """Copy what ``rules`` (carried: :meth:`Unchanged.carried`) found in each unchanged row last time into
    ``quarantine.row_problems`` for this load, under the row's line now; returns the rows copied by rule."""
    if not rules:
        return {}
    ids = ", ".join(sql_literal(r.id) for r in rules)
    changed = f"(select _line from {unchanged.changed})"
    con.execute(
        f"""insert into quarantine.row_problems
            select {unchanged.load_id}, ?, ?, ?, d._line, p.rule_id, p.rule_kind, p.severity, p.column_name, p.value,
                   p.message, p.fix
            from {unchanged.digests} d join landing.row_digest_problems p on p.feed = ? and p.digest = d.digest
            where p.rule_id in ({ids}) and d._line not in {changed}""",
        [extract_id, unchanged.feed, partner, unchanged.feed],
    )
    return dict(
        con.execute(
            f"""select rule_id, count(*) from quarantine.row_problems where load_id = ? and rule_id in ({ids})
                group by rule_id""",
            [unchanged.load_id],
        ).fetchall()
    )


def remember(
    con: duckdb.DuckDBPyConnection,
    unchanged: Unchanged,
    rules: list[Rule],
    *,
    contract_version: int,
    pseudonym_key_version: int,
    loaded: str,
) -> None:
    """Make the feed's memory this load's extract: its digests, the key and row hash of each row loaded (``loaded``:
    a relation of ``_line, _key, _row_hash``), and what the rules that read only the row found. Runs in the load's
    transaction, after loading."""
    feed, load_id = unchanged.feed, unchanged.load_id
    carried = {r.id for r in unchanged.carried(rules)}
    kept = {r.id: fingerprint(r) for r in rules if reads_only_the_row(r)}
    sent = f"(select digest from {unchanged.digests} where digest is not null)"
    con.execute(f"delete from landing.row_digests where feed = ? and (_key is null or digest not in {sent})", [feed])
    # the digests not remembered yet (few, on an ordinary night: found before the rows loaded are joined to them)
    con.execute(
        f"""insert into landing.row_digests
            select ?, d.digest, any_value(l._key), any_value(l._row_hash)
            from {unchanged.digests} d left join {loaded} l using (_line)
            where d.digest is not null and d.digest not in (select digest from landing.row_digests where feed = ?)
            group by d.digest""",
        [feed, feed],
    )
    # problems: a carried rule's answers for the rows still sent stay; every other rule's are this load's
    not_carried = f"rule_id not in ({', '.join(sql_literal(r) for r in carried)})" if carried else "true"
    con.execute(
        f"delete from landing.row_digest_problems where feed = ? and ({not_carried} or digest not in {sent})",
        [feed],
    )
    if kept:
        con.execute(
            f"""insert into landing.row_digest_problems
                select ?, d.digest, p.rule_id, any_value(p.rule_kind), any_value(p.severity),
                       any_value(p.column_name), any_value(p.value), any_value(p.message), any_value(p.fix)
                from quarantine.row_problems p join {unchanged.digests} d on d._line = p.line
                where p.load_id = ? and d.digest is not null
                  and p.rule_id in ({", ".join(sql_literal(r) for r in kept)})
                  and ({not_carried} or p.line in (select _line from {unchanged.changed}))
                group by d.digest, p.rule_id""",
            [feed, load_id],
        )
    con.execute("delete from landing.row_digest_rules where feed = ?", [feed])
    if kept:
        con.executemany(
            "insert into landing.row_digest_rules values (?, ?, ?)", [(feed, r, fp) for r, fp in kept.items()]
        )
    con.execute("delete from landing.row_digest_feeds where feed = ?", [feed])
    con.execute(
        "insert into landing.row_digest_feeds values (?, ?, ?, ?)",
        [feed, load_id, contract_version, pseudonym_key_version],
    )


def forget(con: duckdb.DuckDBPyConnection, feed: str, *, extracts: list[str] | None = None) -> None:
    """Forget what is remembered of ``feed``'s last extract (only if it is one of ``extracts``, when given)."""
    if extracts is not None:
        row = con.execute(
            """select count(*) from landing.row_digest_feeds f join audit.loads l using (load_id)
               where f.feed = ? and l.extract_id in (select unnest(?))""",
            [feed, extracts],
        ).fetchone()
        if not row[0]:
            return
    for table in ("row_digest_feeds", "row_digest_rules", "row_digests", "row_digest_problems"):
        con.execute(f"delete from landing.{table} where feed = ?", [feed])


def drop(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Drop what :func:`prepare` made for ``load_id``."""
    for name in ("digests", "changed", "known"):
        con.execute(f"drop table if exists scratch.main.{name}_{load_id}")
