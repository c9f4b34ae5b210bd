"""Unchanged rows: which rows of an arriving extract the partner also sent in the feed's last loaded extract, and
what was made of them then, so that a night's work follows what changed.

A partner's nightly snapshot is mostly the rows it sent the night before. The loader remembers, per feed, each
row of the last loaded extract as a **digest** of its values as sent (MD5 keyed with a secret derived from
the pseudonym key: without the key a digest cannot be matched to a guessed row), with the key and stored-values
hash loading made of it (``landing.row_digests``), and what the rules reading **only the row itself** or **only
the rows of its group** found in it (``landing.row_digest_problems``).

- A rule reading only the row (required, type, codes, format, range, the contract's rules across a row's columns,
  the SSDA903 rules of one row) gives the same answer for the same values. While the rule is unchanged (its
  fingerprint: SQL, severity, columns, message, fix), a row sent again unchanged is not checked by it again: its
  problems are copied to the new load under the row's new line.
- A rule reading only the rows that share some columns with it, in their order (a window ``PARTITION BY`` those
  columns: the key's uniqueness, the SSDA903 rules across a child's episodes) gives the same answers while the
  group is the same rows in the same order. Each group of several rows is remembered by a fingerprint of its rows'
  digests in file order (``landing.row_digest_groups``). A group of one row is not: it is that row (the group's
  columns are among the row's values), so it is unchanged when its row was sent last time and its group was not
  one of several then. The rule runs on the groups that changed, whole, and the rows of the others get their
  problems copied. (Most groups are one row: a key's. Fingerprinting and remembering every one of them cost more
  than the rule they save at national size; measured: bench/NOTES.md.)
- A date not after the day the extract was received (``not_future``) reads only the row, and the day. Received the
  same day as the remembered extract, it is the same rule. Received later, a date that passed then passes now: the
  rule runs on the changed rows and the rows it failed last time. Received earlier (a late file), or remembered
  from before the day was (migration 012), it runs on every row.
- Every other rule (the SSDA903 rules reading another feed or last year's return, a named window) reads every
  row.

Loading looks up an unchanged row's key and hash rather than computing its pseudonyms again, and takes it as its
key's current version without reading history. That holds while nothing but the feed's own loads changes its
history and no load is for an earlier period: a row the last load found stale is remembered without its key, the
lookup is made only when the remembered load's period is not later than this one's, and retention deleting any
row of the feed's history forgets its memory.

What is quarantined, loaded and counted is the same as checking every row: the digest covers every value as sent,
and a change to what made the rows (:func:`made_by`: the contract's file, its code lists and formats, the loader's
code that types, stores, pseudonymises and hashes a row) or of the pseudonym key version forgets the feed's memory,
as does retention deleting the extract it was made from. A row holding the digest's separator character is never remembered (it is checked
in full every time).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from expectations.contract import Contract, Rule
from expectations.sql import sql_literal

SEPARATOR = "chr(31)"  # the unit separator between a row's values in the digested text
# What makes a rule read more than its row and its group: a table, the clock, a variable, a named window (its
# PARTITION BY is not beside its OVER). IS [NOT] DISTINCT FROM compares two values: not a table.
READS_MORE = re.compile(
    r"\b(select|from|join|current_date|current_timestamp|now|today|random|getvariable|window)\b", re.IGNORECASE
)
COMPARISON = re.compile(r"\bis\s+(not\s+)?distinct\s+from\b", re.IGNORECASE)
ROOT = Path(__file__).resolve().parents[1]
# The code that makes a stored row, its key and hash, and a problem's recorded value, from a row as sent.
MAKERS = ("expectations/contract.py", "expectations/codes.yml", "expectations/formats.yml", "expectations/validate.py",
          "warehouse/staging.py", "warehouse/loading.py", "warehouse/pseudonymise.py", "warehouse/problems.py")  # fmt: skip
WINDOW = re.compile(r"\bover\s*\(", re.IGNORECASE)
THE_DAY = re.compile(r"DATE '\d{4}-\d{2}-\d{2}'")  # the day received, in a not_future rule
GROUP = re.compile(r'\bover\s*\(\s*partition\s+by\s+((?:"[^"]+"\s*,\s*)*"[^"]+")\s*(?:order\s+by\b|\))', re.IGNORECASE)


def reads(rule: Rule) -> tuple[str, ...] | None:
    """What ``rule`` reads besides the row's own values: ``()`` nothing; the columns of its group (every window of
    it is ``PARTITION BY`` those columns), whose rows it reads in file order; None: more than that."""
    if READS_MORE.search(COMPARISON.sub(" ", rule.fails_when)):
        return None
    windows = WINDOW.findall(rule.fails_when)
    groups = {tuple(c.strip().strip('"') for c in g.split(",")) for g in GROUP.findall(rule.fails_when)}
    if not windows:
        return ()
    if len(GROUP.findall(rule.fails_when)) == len(windows) and len(groups) == 1:
        return groups.pop()
    return None


def fingerprint(rule: Rule) -> str:
    """What a remembered answer of ``rule`` depends on besides the row (and, for a date not in the future, the day
    received: :meth:`Unchanged.plan` compares the days)."""
    fails_when = (
        THE_DAY.sub("DATE '<the day received>'", rule.fails_when) if rule.kind == "not_future" else rule.fails_when
    )
    text = "\x1f".join([rule.id, rule.kind, rule.severity, ",".join(rule.columns), fails_when, rule.message,
                        rule.fix])  # fmt: skip
    return hashlib.md5(text.encode()).hexdigest()


def made_by(contract: Contract) -> str:
    """What the rows remembered of ``contract``'s feed were made by: its file and the code in :data:`MAKERS`. A
    contract edited without a new version, or a release that types or stores a value differently, changes it."""
    digest = hashlib.sha256(contract.path.read_bytes() if contract.path.is_file() else contract.feed.encode())
    for name in MAKERS:
        digest.update((ROOT / name).read_bytes())
    return f"v{contract.version}-{digest.hexdigest()[:16]}"


def _digest_secret(pseudonym_key: str) -> str:
    return hmac.new(pseudonym_key.encode(), b"yos-pipeline: digest of a row as sent", hashlib.sha256).hexdigest()


@dataclass
class Unchanged:
    """One load's view of its feed's memory: which table each rule runs on (:meth:`plan`), and ``known``, the lines
    whose key and row hash are looked up, not computed."""

    feed: str
    load_id: int
    checked: str  # the staged extract's view (every row)
    changed: str  # the rows not sent unchanged last time (a table), or ``checked`` itself when nothing is remembered
    made_by: str  # :func:`made_by` of the contract
    known: str | None  # (_line, _key, _row_hash) of unchanged rows that were loaded last time
    groups: dict[tuple[str, ...], str] = field(default_factory=dict)  # group columns -> its groups of several rows
    regrouped: dict[tuple[str, ...], str] = field(default_factory=dict)  # group columns -> rows of changed groups
    not_future_on: str | None = None  # the rows a remembered not_future rule runs on (None: every row)
    remembered: dict[str, str] = field(default_factory=dict)  # rule id -> fingerprint remembered
    rows_unchanged: int = 0

    @property
    def digests(self) -> str:
        return f"scratch.main.digests_{self.load_id}"

    def plan(self, rules: list[Rule]) -> list[tuple[str, list[Rule]]]:
        """``rules`` by the table each runs on: ``checked`` (every row), the changed rows (a remembered rule reading
        only the row), or the rows of changed groups (a remembered rule reading its group). A rule run on fewer
        rows than ``checked`` is *carried*: the other rows get the problems it found in them last time."""
        tables: dict[str, list[Rule]] = {}
        for rule in rules:
            table = self.checked
            if self.changed != self.checked and self.remembered.get(rule.id) == fingerprint(rule):
                group = reads(rule)
                if rule.kind == "not_future":
                    table = self.not_future_on or self.checked
                else:
                    table = self.changed if group == () else self.regrouped.get(group, self.checked)
            tables.setdefault(table, []).append(rule)
        return list(tables.items())


def _groups(rules: list[Rule]) -> list[tuple[str, ...]]:
    return sorted({g for g in map(reads, rules) if g})


def _group_digest(columns: tuple[str, ...]) -> str:
    return f"md5_number($secret || concat({f', {SEPARATOR}, '.join(f'{chr(34)}{c}{chr(34)}' for c in columns)}))"


def prepare(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    checked: str,
    rules: list[Rule],
    *,
    load_id: int,
    pseudonym_key: str,
    pseudonym_key_version: int,
    as_of: dt.date,
    received_on: dt.date,
) -> Unchanged:
    """Digest every row of the staged extract ``checked`` (and the group of each, for the groups ``rules`` read),
    and compare them with the feed's memory. Call after staging, before validating; :func:`drop` removes what this
    makes.

    ``known`` (the rows looked up) is made only when the remembered load's period is not later than ``as_of``, this
    load's: a row looked up is then the current version of its key, unchanged and not stale, and loading takes it
    as that without reading history (:func:`warehouse.loading.load`)."""
    feed = contract.feed
    columns = [f'"{c}__raw"' for c in contract.column_names]
    text = f"concat({f', {SEPARATOR}, '.join(columns)})"
    # a value holding the separator would make two different rows one text: such a row gets no digest (looking for
    # it in the values joined without separators cost half what counting the separators in the text did)
    holds_separator = f"contains(concat({', '.join(columns)}), {SEPARATOR})"
    groups = _groups(rules)
    drop(con, load_id)
    con.execute(
        f"""create table scratch.main.digests_{load_id} as
            select _line, case when not {holds_separator} then md5_number($secret || {text}) end as digest
                   {"".join(f", {_group_digest(g)} as group_{i}" for i, g in enumerate(groups))}
            from {checked}""",
        {"secret": _digest_secret(pseudonym_key)},
    )
    state = con.execute(
        "select made_by, pseudonym_key_version, as_of, received_on from landing.row_digest_feeds where feed = ?",
        [feed],
    ).fetchone()
    unchanged = Unchanged(feed, load_id, checked, checked, made_by(contract), None)
    # each group of several rows, with its fingerprint: its rows' digests, each with its place in the group in file
    # order (hashed together and combined: an ordered string_agg of the digests took 39 s on 1M police rows, this
    # 0.2 s). None when a row of it has no digest, or when two of its rows are the same row sent twice: their
    # answers differ by position (the second is the duplicate), so a problem remembered by digest could not say
    # which of them it was
    for i, group in enumerate(groups):
        unchanged.groups[group] = f"scratch.main.groups_{load_id}_{i}"
        con.execute(
            f"""create table {unchanged.groups[group]} as
                select grp, case when bool_and(digest is not null) and count(distinct digest) = count(*)
                       then hash(bit_xor(placed), count(*)) end as fingerprint
                from (select group_{i} as grp, digest,
                             -- (hash(a, b) is not used: it combines a's and b's hashes by XOR, so the XOR of
                             -- those over a group would not see the order)
                             hash(xor(digest, row_number() over (partition by group_{i} order by _line)::UHUGEINT))
                                 as placed
                      from scratch.main.digests_{load_id}
                      where group_{i} in (select group_{i} from scratch.main.digests_{load_id}
                                          group by all having count(*) > 1))
                group by grp"""
        )
    if state is None or state[:2] != (unchanged.made_by, pseudonym_key_version):
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
    for i, group in enumerate(groups):
        several = f"(select grp from {unchanged.groups[group]})"
        several_then = "(select grp from landing.row_digest_groups where feed = $feed and columns = $columns)"
        con.execute(
            f"""create table scratch.main.regrouped_{load_id}_{i} as select * from {checked} where _line in (
                    select _line from scratch.main.digests_{load_id}
                    -- a group of several rows that is not the same rows in the same order as last time
                    where group_{i} in (
                        select grp from {unchanged.groups[group]} g where g.fingerprint is null
                        or not exists (select 1 from landing.row_digest_groups m where m.feed = $feed
                                       and m.columns = $columns and m.grp = g.grp and m.fingerprint = g.fingerprint))
                    -- a group of one row, whose row changed or which had several rows last time
                    or (group_{i} not in {several}
                        and (_line in (select _line from scratch.main.changed_{load_id})
                             or group_{i} in {several_then})))""",
            {"feed": feed, "columns": ",".join(group)},
        )
        unchanged.regrouped[group] = f"scratch.main.regrouped_{load_id}_{i}"
    unchanged.changed = f"scratch.main.changed_{load_id}"
    remembered_on = state[3]  # the day the remembered extract was received; none from before migration 012
    if remembered_on == received_on:
        unchanged.not_future_on = unchanged.changed
    elif remembered_on is not None and remembered_on < received_on:
        # a date not after that day is not after this one: the rows that failed then, and the changed rows
        not_future = [r for r in rules if r.kind == "not_future"]
        if not_future:
            con.execute(
                f"""create table scratch.main.rechecked_{load_id} as select * from {checked} where _line in (
                        select _line from {unchanged.changed}
                        union all
                        select d._line from scratch.main.digests_{load_id} d join landing.row_digest_problems p
                            on p.feed = ? and p.digest = d.digest and p.rule_id in ({_ids(not_future)}))""",
                [feed],
            )
            unchanged.not_future_on = f"scratch.main.rechecked_{load_id}"
    remembered_as_of = state[2]  # the remembered load's period (as loading took it); none from before migration 010
    if remembered_as_of is not None and remembered_as_of <= as_of:
        con.execute(
            f"""create table scratch.main.known_{load_id} as
                select d._line, r._key, r._row_hash from scratch.main.digests_{load_id} d
                join landing.row_digests r on r.feed = ? and r.digest = d.digest where r._key is not null""",
            [feed],
        )
        unchanged.known = f"scratch.main.known_{load_id}"
    staged = con.execute(f"select count(*) from {checked}").fetchone()[0]
    unchanged.rows_unchanged = staged - con.execute(f"select count(*) from {unchanged.changed}").fetchone()[0]
    return unchanged


def carry_problems(
    con: duckdb.DuckDBPyConnection,
    unchanged: Unchanged | None,
    plan: list[tuple[str, list[Rule]]],
    *,
    extract_id: str,
    partner: str,
) -> dict[str, int]:
    """For each rule ``plan`` (:meth:`Unchanged.plan`) runs on fewer rows than every row, copy what it found last
    time in each row it does not run on into ``quarantine.row_problems`` for this load, under the row's line now;
    returns the rows copied by rule."""
    carried = [(table, rules) for table, rules in plan if unchanged and table != unchanged.checked]
    for table, rules in carried:
        con.execute(
            f"""insert into quarantine.row_problems
                select {unchanged.load_id}, ?, ?, ?, d._line, p.rule_id, p.rule_kind, p.severity, p.column_name,
                       p.value, p.message, p.fix
                from {unchanged.digests} d join landing.row_digest_problems p on p.feed = ? and p.digest = d.digest
                where p.rule_id in ({_ids(rules)}) and d._line not in (select _line from {table})""",
            [extract_id, unchanged.feed, partner, unchanged.feed],
        )
    if not carried:
        return {}
    ids = _ids([r for _, rules in carried for r in rules])
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
    plan: list[tuple[str, list[Rule]]],
    *,
    pseudonym_key_version: int,
    loaded: str,
    as_of: dt.date,
    received_on: dt.date,
) -> None:
    """Make the feed's memory this load's extract: its digests, the key and row hash of each row loaded and now the
    current version of its key (``loaded``: a relation of ``_line, _key, _row_hash, _stale``; a stale row, kept
    only for lineage, is remembered without them), its groups of several rows with their fingerprints, what the
    rules reading only the row or its group found (``plan``: the rules by the table each ran on), ``as_of``, the
    load's period end, and ``received_on``, the day its extract was received. Runs in the load's transaction,
    after loading."""
    feed, load_id = unchanged.feed, unchanged.load_id
    sent = f"(select digest from {unchanged.digests} where digest is not null)"
    # a row this load found stale is not its key's current version: remembered again below, without its key
    stale = f"""(select d.digest from {unchanged.digests} d
                 join (select _line from {loaded} where _stale) l using (_line))"""
    con.execute(
        f"""delete from landing.row_digests
            where feed = ? and (_key is null or digest not in {sent} or digest in {stale})""",
        [feed],
    )
    # the digests not remembered yet (few, on an ordinary night; every one on a first), each with the key and hash
    # of its row if loaded as the current version. The hash table is built on the digests, not on the rows loaded:
    # those carry two hashes as text each, and built on them a national first load of interventions peaked 130 MB
    # higher and took twice the time (measured: bench/NOTES.md). A new row sent twice is remembered twice, loaded
    # once: the repeat, held back by the key's uniqueness, has no key, and only a row with a key is looked up (no
    # aggregate over every digest to make them one: it cost more than the insert); the next load forgets the
    # repeat (above).
    con.execute("set disabled_optimizers = 'build_side_probe_side'")
    try:
        con.execute(
            f"""insert into landing.row_digests
                select ?, d.digest, case when not l._stale then l._key end,
                       case when not l._stale then l._row_hash end
                from {loaded} l right join (
                    select _line, digest from {unchanged.digests}
                    where digest is not null
                      and digest not in (select digest from landing.row_digests where feed = ?)) d using (_line)""",
            [feed, feed],
        )
    finally:
        con.execute("reset disabled_optimizers")
    # problems: a carried rule's answers for the rows still sent stay, and it adds those of the rows it ran on; an
    # uncarried rule's are this load's
    kept = [(table, [r for r in rules if reads(r) is not None]) for table, rules in plan]
    kept = [(table, rules) for table, rules in kept if rules]
    carried = [r.id for table, rules in kept if table != unchanged.checked for r in rules]
    not_carried = f"rule_id not in ({', '.join(sql_literal(r) for r in carried)})" if carried else "true"
    con.execute(
        f"delete from landing.row_digest_problems where feed = ? and ({not_carried} or digest not in {sent})",
        [feed],
    )
    for table, rules in kept:
        ran_on = "" if table == unchanged.checked else f"and p.line in (select _line from {table})"
        if table not in (unchanged.checked, unchanged.changed):
            # a row of a changed group, or one a not_future rule failed last time, may have been sent last time too:
            # its answers then are replaced by today's
            con.execute(
                f"""delete from landing.row_digest_problems where feed = ? and rule_id in ({_ids(rules)})
                    and digest in (select digest from {unchanged.digests} where _line in (select _line from {table}))""",
                [feed],
            )
        con.execute(
            f"""insert into landing.row_digest_problems
                select ?, d.digest, p.rule_id, any_value(p.rule_kind), any_value(p.severity),
                       any_value(p.column_name), any_value(p.value), any_value(p.message), any_value(p.fix)
                from quarantine.row_problems p join {unchanged.digests} d on d._line = p.line
                where p.load_id = ? and d.digest is not null and p.rule_id in ({_ids(rules)}) {ran_on}
                group by d.digest, p.rule_id""",
            [feed, load_id],
        )
    con.execute("delete from landing.row_digest_groups where feed = ?", [feed])
    for group in _groups([r for _, rules in kept for r in rules]):
        con.execute(
            f"insert into landing.row_digest_groups select ?, ?, grp, fingerprint from {unchanged.groups[group]}",
            [feed, ",".join(group)],
        )
    con.execute("delete from landing.row_digest_rules where feed = ?", [feed])
    remembered = [(feed, r.id, fingerprint(r)) for _, rules in kept for r in rules]
    if remembered:
        con.executemany("insert into landing.row_digest_rules values (?, ?, ?)", remembered)
    con.execute("delete from landing.row_digest_feeds where feed = ?", [feed])
    con.execute(
        "insert into landing.row_digest_feeds (feed, load_id, made_by, pseudonym_key_version, as_of, received_on) "
        "values (?, ?, ?, ?, ?, ?)",
        [feed, load_id, unchanged.made_by, pseudonym_key_version, as_of, received_on],
    )


def _ids(rules: list[Rule]) -> str:
    return ", ".join(sql_literal(r.id) for r in rules)


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
    for table in ("row_digest_feeds", "row_digest_rules", "row_digests", "row_digest_problems", "row_digest_groups"):
        con.execute(f"delete from landing.{table} where feed = ?", [feed])


def drop(con: duckdb.DuckDBPyConnection, load_id: int) -> None:
    """Drop what :func:`prepare` made for ``load_id``."""
    made = con.execute(
        "select table_name from duckdb_tables() where database_name = 'scratch' and regexp_matches(table_name, ?)",
        [rf"^(digests|changed|known|groups|regrouped|rechecked)_{int(load_id)}(_\d+)?$"],
    ).fetchall()
    for (name,) in made:
        con.execute(f"drop table if exists scratch.main.{name}")
