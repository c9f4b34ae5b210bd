"""The path of one landed extract: stage, validate, load. Each step's output is the next step's input, and the
whole path can be re-run from the landing zone.

    landed file ─► stage (read as sent; unreadable → held back whole)
                ─► validate (every contract rule through GX; failing rows → quarantine)
                ─► load (the rest, pseudonymised, as versions in history)

For every extract, rows received = rows loaded + rows quarantined, or the extract is held back whole; the check is
made here and a breach is a program fault that stops the load.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import duckdb

from expectations import extract_rules, ssda903, ssda903_cross
from expectations.contract import Contract, collection_year_of, get_contract
from expectations.extract_rules import ExtractProblem
from expectations.sql import sql_literal
from expectations.validate import Validation, failing_rows, gx_verdicts
from partnership import progress
from warehouse import audit, landing, loading, problems, ssda903_context, staging, unchanged_rows
from warehouse.landing import Extract, FeedError
from warehouse.pseudonymise import install as install_pseudonym

DEFAULT_MAX_WITHDRAWN_SHARE = 0.2  # snapshots.max_withdrawn_share's default (the caller passes the configured one)


class AccountingError(FeedError, RuntimeError):
    """Rows received did not equal rows loaded plus rows quarantined: nothing was committed."""


@dataclass
class LoadResult:
    extract: Extract
    load_id: int | None
    status: str  # loaded | held_back | already_loaded
    rows_received: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_with_warnings: int = 0
    versions_added: int = 0
    versions_replaced: int = 0
    problems: list[ExtractProblem] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if self.status == "held_back":
            return f"held back whole: {'; '.join(p.message for p in self.problems)}"
        if self.status == "already_loaded":
            return "already loaded (same bytes): nothing to do"
        return f"{self.rows_received} received, {self.rows_loaded} loaded, {self.rows_quarantined} quarantined" + (
            f", {self.rows_with_warnings} loaded with warnings" if self.rows_with_warnings else ""
        )


def _count_data_lines(extract: Extract) -> int:
    """Data lines in a file held back whole (its header excluded), counted without reading it into memory. A UTF-16
    file (a byte order mark says so) is counted in its characters: its last newline is two bytes, and counting bytes
    took one more row than it holds."""
    import codecs

    with open(extract.path, "rb") as f:
        utf16 = f.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        f.seek(0)
        decode = codecs.getincrementaldecoder("utf-16")(errors="replace").decode if utf16 else None
        lines, last = 0, "\n"
        while chunk := f.read(1 << 20):
            text = decode(chunk) if decode else chunk.decode("latin-1")  # one character a byte: newlines stay
            if text:
                lines += text.count("\n")
                last = text[-1]
    lines += 0 if last == "\n" else 1
    return max(lines - 1, 0)


def validate(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    table: str,
    *,
    load_id: int,
    extract_id: str,
    partner: str,
    as_of: dt.date,
    collection_year: int | None,
    context: ssda903_cross.Context | None = None,
    unchanged: unchanged_rows.Unchanged | None = None,
) -> Validation:
    """Run every rule on ``table`` through GX and record every failing row; the two counts must agree. ``context``
    holds what the SSDA903 rules across feeds and years read; a rule it cannot serve is recorded as skipped.

    With ``unchanged`` (:mod:`warehouse.unchanged_rows`), a rule unchanged since the feed's last extract that reads
    only the row itself (or only its group of rows) runs, in SQL and in GX, on the rows (groups) not sent unchanged;
    the others get the problems it found in them then. The counts recorded for it are both together."""
    rules = contract.rules(as_of, collection_year, context=context)
    batches = unchanged.plan(rules) if unchanged else [(table, rules)]
    # shown to a person watching as one step: the failing rows of every rule, then GX's verdicts
    with progress.step(f"validating {partner}/{contract.feed}", total=len(rules), unit="rules") as shown:
        copied = unchanged_rows.carry_problems(con, unchanged, batches, extract_id=extract_id, partner=partner)
        queries = [
            q for t, rs in batches
            for q in failing_rows(contract, rs, t, load_id=load_id, extract_id=extract_id, partner=partner)
        ]  # fmt: skip
        withheld = tuple(c.name for c in contract.columns.values() if c.identifier or c.minimise)
        counts = problems.quarantine(con, load_id, queries, withheld)
        found = {rule: n - copied.get(rule, 0) for rule, n in counts.items()}
        outcomes = gx_verdicts(con, contract, batches, load_id=load_id, failing_by_rule=found)
        shown.advance(len(rules))
    severity = {r.id: r.severity for r in rules}
    audit.record_validation_results(
        con,
        load_id,
        [
            (
                o.rule_id,
                severity[o.rule_id],
                o.expectation,
                o.success and not copied.get(o.rule_id),
                o.failing_rows + copied.get(o.rule_id, 0),
            )
            for o in outcomes
        ]  # fmt: skip
        + [(rule_id, sev, why, True, 0) for rule_id, sev, why in (context.skipped if context else [])],
    )
    quarantined, warned = problems.quarantined_and_warned(con, load_id)
    return Validation(rules, quarantined, warned, counts, batches)


def _drop_working_tables(con: duckdb.DuckDBPyConnection, load_id: int, context: ssda903_cross.Context | None) -> None:
    """Drop what a load made in scratch: the staged extract, its digests, the SSDA903 context, the rows loaded."""
    if context is not None:
        context.drop(con)
    loading.drop_loaded(con)  # a view of unchanged_rows' looked-up rows
    unchanged_rows.drop(con, load_id)
    staging.drop(con, load_id)


def _latest_date(con: duckdb.DuckDBPyConnection, contract: Contract, extract: Extract) -> dt.date | None:
    """The latest date the extract itself speaks of (its dates other than dates of birth), read from the landed
    file; None when it has none or cannot be read (staging then says why)."""
    cols = [c.name for c in contract.columns.values() if c.type == "date" and "DOB" not in c.name.upper()]
    if not cols:
        return None
    fmt = sql_literal(contract.date_format)
    latest = ", ".join(f'max(try_strptime("{c}", {fmt}))' for c in cols)
    try:
        row = con.execute(
            f"select greatest({latest})::DATE from read_csv({sql_literal(str(extract.path))}, header = true, "
            "all_varchar = true, ignore_errors = true)"
        ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


def collection_year(con: duckdb.DuckDBPyConnection, contract: Contract, extract: Extract) -> int | None:
    """The SSDA903 collection year an extract is checked against: its declared period's, else the 903 year whose
    31 March the extract's latest date reaches (Episodes: DECOM and DEC), else, for a table with no dates of its
    own (Header, OC2: only dates of birth), the year of the same partner's latest Episodes extract; never the day
    the file arrived. None (the newest year's rules) when nothing says."""
    if extract.declared_period_end is not None:
        return collection_year_of(extract.declared_period_end)
    latest = _latest_date(con, contract, extract)
    if latest is not None:
        return collection_year_of(latest)
    row = con.execute(
        "select collection_year from audit.loads where feed = 'cic_episodes' and status = 'loaded' and partner = "
        f"{sql_literal(extract.partner)} and collection_year is not null order by load_id desc limit 1"
    ).fetchone()
    return row[0] if row else None


def _shrinks_problem(shrinks: loading.SnapshotShrinks, limit: float | None) -> ExtractProblem:
    share = shrinks.withdrawn / shrinks.current
    return ExtractProblem(
        "extract.snapshot_withdraws",
        f"This snapshot would withdraw {shrinks.withdrawn:,} of the {shrinks.current:,} rows held now "
        f"({share:.0%}), more than the {limit or 0:.0%} a snapshot may withdraw, so it was held back and the previous "
        "data stays published. A file cut short, or holding only its header, looks like this.",
        "If the export was cut short or empty, export the whole snapshot and send it again. If the rows really are "
        "gone (a deliberate reset), send it again marked as a reset: the HTTP header X-Extract-Kind: reset, or "
        "__reset in the file's name in the intake folder (for example yos_interventions__reset.csv).",
    )


def _hold_back(
    con: duckdb.DuckDBPyConnection,
    load_id: int,
    extract: Extract,
    found: list[ExtractProblem],
    received: int,
    logger: logging.Logger | logging.LoggerAdapter,
) -> LoadResult:
    """Record load ``load_id`` of ``extract`` as held back whole for the fatal problems ``found``."""
    con.execute("begin")
    audit.record_extract_problems(con, load_id, extract, found)
    problems.update(con, load_id, extract.partner, extract.feed, held_back=True)
    audit.finish_held_back(con, load_id, rows_received=received, message="; ".join(p.rule_id for p in found))
    con.execute("commit")
    logger.warning(
        "extract %s held back whole (%s); the previous good data stays published",
        extract.label,
        ", ".join(p.rule_id for p in found),
    )
    return LoadResult(extract, load_id, "held_back", rows_received=received, problems=found)


def load_extract(
    con: duckdb.DuckDBPyConnection,
    extract: Extract,
    *,
    pseudonym_key: str,
    pseudonym_key_version: int,
    logger: logging.Logger | logging.LoggerAdapter,
    again: bool = False,
    max_withdrawn_share: float = DEFAULT_MAX_WITHDRAWN_SHARE,
) -> LoadResult:
    """Stage, validate and load one landed extract. Idempotent: an extract already loaded is not loaded again,
    unless ``again`` (a backfill), and then its unchanged rows add nothing; one re-sent since it was loaded, when it
    is not the feed's current state, loads again (:func:`warehouse.landing.resent`).

    A snapshot that would withdraw more than ``max_withdrawn_share`` of the feed's current rows (the configuration's
    ``snapshots.max_withdrawn_share``) is held back whole, unless declared a reset."""
    contract = get_contract(extract.feed)
    done = audit.finished_load(con, extract.extract_id)
    if done is not None and not again:
        logger.info("extract %s was loaded before (load %s): nothing to do", extract.label, done)
        return LoadResult(extract, done, "already_loaded")

    received_on = extract.received_at.date()
    as_of = extract.declared_period_end or received_on  # the period the extract's rows are versions as of
    year = collection_year(con, contract, extract) if contract.collection_year else None
    load_id = audit.start_load(
        con, extract, contract_version=contract.version, collection_year=year,
        pseudonym_key_version=pseudonym_key_version,
    )  # fmt: skip

    # Stage: can the file be read as this feed at all?
    staged = staging.stage(con, contract, extract.path, load_id)
    if staged.held_back:
        return _hold_back(con, load_id, extract, staged.problems, _count_data_lines(extract), logger)

    # A snapshot may withdraw at most this share of the feed's current rows, unless the partner declared a reset.
    limit = None if extract.declared_kind == "reset" else max_withdrawn_share
    # The pseudonym function before validation: the SSDA903 rules across feeds and years match the staged CHILD to
    # the pseudonymised rows of history, copied beside the staged extract before the transaction (GX reads them).
    context = None
    try:
        install_pseudonym(con, pseudonym_key)
        # Which rows the partner sent unchanged in the feed's last extract: what was found and made of them is reused.
        unchanged = unchanged_rows.prepare(
            con, contract, staged.table, contract.rules(received_on, year), load_id=load_id,
            pseudonym_key=pseudonym_key, pseudonym_key_version=pseudonym_key_version,
            as_of=as_of, received_on=received_on,
        )  # fmt: skip
        if contract.collection_year:
            context = ssda903_context.prepare(
                con, contract.feed, staged.table, load_id=load_id, collection_year=year, partner=extract.partner,
                needs=ssda903.needs_of(contract.feed, year),
            )  # fmt: skip
    except Exception:  # a load that could not start leaves nothing in scratch either
        _drop_working_tables(con, load_id, context)
        raise
    try:
        con.execute("begin")
        # Validate: every rule, every failing row.
        problems.record_malformed(con, load_id, extract.extract_id, contract.feed, extract.partner, staged.rejects)
        checked = validate(
            con,
            contract,
            staged.table,
            load_id=load_id,
            extract_id=extract.extract_id,
            partner=extract.partner,
            as_of=received_on,
            collection_year=year,
            context=context,
            unchanged=unchanged,
        )
        received = staged.rows_staged + staged.malformed_lines
        warnings = extract_rules.check(
            received,
            (extract.declared_period_start, extract.declared_period_end),
            extract.declared_kind or contract.kind,
            recent_counts=audit.recent_row_counts(con, contract.feed, extract_rules.HISTORY),
            previous_end=landing.previous_period_end(con, contract.feed, extract.declared_period_start),
        )
        audit.record_extract_problems(con, load_id, extract, warnings)
        # Load: the rest, pseudonymised and minimised, as versions.
        loaded = loading.load(
            con,
            contract,
            staged.table,
            load_id=load_id,
            extract_id=extract.extract_id,
            as_of=as_of,
            max_withdrawn_share=limit,
            known=unchanged.known,
        )
        unchanged_rows.remember(
            con, unchanged, checked.plan, pseudonym_key_version=pseudonym_key_version, loaded=loaded.rows,
            as_of=as_of, received_on=received_on,
        )  # fmt: skip
        if received != loaded.rows_loaded + checked.quarantined_lines:
            raise AccountingError(
                f"{received} rows received but {loaded.rows_loaded} loaded + {checked.quarantined_lines} quarantined",
                partner=extract.partner, feed=extract.feed, extract_id=extract.extract_id,
            )  # fmt: skip
        problems.update(con, load_id, extract.partner, extract.feed, held_back=False)
        audit.finish_loaded(
            con, load_id, rows_received=received, rows_loaded=loaded.rows_loaded,
            rows_quarantined=checked.quarantined_lines, rows_with_warnings=checked.warned_lines,
            versions_added=loaded.versions_added, versions_replaced=loaded.versions_replaced,
        )  # fmt: skip
        con.execute("commit")
    except loading.SnapshotShrinks as shrinks:  # nothing of it is kept: held back whole, like an unreadable file
        con.execute("rollback")
        return _hold_back(con, load_id, extract, [_shrinks_problem(shrinks, limit)], received, logger)
    except Exception:
        con.execute("rollback")
        raise
    finally:
        _drop_working_tables(con, load_id, context)
    result = LoadResult(
        extract,
        load_id,
        "loaded",
        received,
        loaded.rows_loaded,
        checked.quarantined_lines,
        checked.warned_lines,
        loaded.versions_added,
        loaded.versions_replaced,
    )
    logger.info("extract %s: %s", extract.label, result.summary)
    return result
