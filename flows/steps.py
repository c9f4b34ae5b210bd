"""The pipeline's steps as plain Python over one partnership (its configuration, data directory and loader
connection): each method is one step and calls one stage package (partners, warehouse, reports, notify). The Prefect
tasks (:mod:`flows.tasks`) open one per task by id, and :func:`flows.run_loads.run_loads` strings them together;
tests use it as the library. Nothing here needs a Prefect server.

    with Pipeline() as p:
        extract = p.land_file("police_outcomes", Path("outcomes.csv"))
        result = p.load(extract)
        p.publish()
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from expectations.contract import get_contract
from flows import events
from notify import alerts
from partners import intake
from partners.http import RetryPolicy, fetch
from partnership.config import Config, load_config
from partnership.logs import feed_logger
from partnership.settings import Paths, prepare_environment
from reports import board_pack
from reports import validation as validation_report
from warehouse import history_parts, landing, rebuild, retention, state
from warehouse.db import connect_analyst, connect_loader
from warehouse.landing import Extract, land_file
from warehouse.load import LoadResult, load_extract
from warehouse.pseudonymise import check_key
from warehouse.publish import publish_apart


def new_run_id() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")


class Pipeline:
    def __init__(self, cfg: Config | None = None, paths: Paths | None = None) -> None:
        self.paths = paths or prepare_environment()
        self.cfg = cfg or load_config()
        self._con: duckdb.DuckDBPyConnection | None = connect_loader(self.paths.loader_db)
        self._key: str | None = None
        for partial in landing.remove_interrupted(self.paths.data):
            feed_logger(feed=partial.parent.name).info("removed what an interrupted transfer left in landing")

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The loader's connection; opened again when next used after :meth:`publish` closed it."""
        if self._con is None:
            self._con = connect_loader(self.paths.loader_db)
        return self._con

    @con.setter
    def con(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    @property
    def pseudonym_key(self) -> str:
        if self._key is None:
            self._key = self.cfg.pseudonym_key.resolve()
        return self._key

    def pull(self, partner_id: str, feed: str, policy: RetryPolicy | None = None) -> Extract | None:
        """Fetch one feed from its partner's endpoint into landing; None when unchanged since last time."""
        partner = self.cfg.partners[partner_id]
        extract = fetch(self.con, self.paths.data, partner, feed, policy=policy or RetryPolicy())
        log = feed_logger(partner_id, feed, extract.extract_id if extract else "-")
        if extract:
            log.info("landed %s bytes", extract.bytes)
            self._landed(extract)
        else:
            log.info("unchanged since the last pull (304)")
        return extract

    def land_file(
        self,
        feed: str,
        path: Path,
        source: str | None = None,
        period: tuple[dt.date | None, dt.date | None] = (None, None),
    ) -> Extract:
        """Land a file from disk for ``feed`` (its partner comes from the configuration, else the contract)."""
        contract = get_contract(feed)
        configured = any(feed in p.feeds for p in self.cfg.partners.values())
        partner = self.cfg.partner_of(feed).id if configured else contract.partner
        return land_file(
            self.con,
            self.paths.data,
            feed=feed,
            partner=partner,
            path=path,
            source=source,
            period=period,
            kind=contract.kind,
        )

    def scan_intake(self, settle_seconds: float = 10.0) -> intake.Scan:
        """Land every complete file in the intake folders; each new extract is announced as landed."""
        result = intake.scan(self.con, self.paths.data, self.cfg, settle_seconds=settle_seconds)
        for extract in result.landed:
            feed_logger(extract.partner, extract.feed, extract.extract_id).info(
                "landed %s bytes from the intake folder", extract.bytes
            )
            self._landed(extract)
        for name in result.duplicates:
            feed_logger().info("intake file %s was already landed (same bytes): removed", intake.shown(name))
        for name, reason in result.refused:
            feed_logger().warning("intake file %s refused: %s", intake.shown(name), reason)
        return result

    def _landed(self, extract: Extract) -> None:
        events.emit(
            events.ExtractLanded(
                extract.extract_id, extract.partner, extract.feed, extract.sha256, extract.bytes, extract.source
            )
        )

    def pending(self) -> list[Extract]:
        """Landed extracts not yet loaded: this run's arrivals and any an earlier run left (a crash, say)."""
        return landing.pending(self.con, self.paths.data)

    def landed(self, feed: str, period_from: dt.date | None = None, period_to: dt.date | None = None) -> list[Extract]:
        """Every extract of ``feed`` in the landing zone (for a backfill)."""
        return landing.landed(self.con, self.paths.data, feed, period_from, period_to)

    def load(self, extract: Extract, again: bool = False) -> LoadResult:
        """Stage, validate and load one landed extract, under the key the warehouse's pseudonyms were made with."""
        log = feed_logger(extract.partner, extract.feed, extract.extract_id)
        check_key(self.con, self.pseudonym_key, self.cfg.pseudonym_key_version, self.cfg.pseudonym_key.describe())
        result = load_extract(
            self.con,
            extract,
            pseudonym_key=self.pseudonym_key,
            pseudonym_key_version=self.cfg.pseudonym_key_version,
            logger=log,
            again=again,
            max_withdrawn_share=self.cfg.snapshot_max_withdrawn_share,
        )
        if result.status != "already_loaded":
            report = validation_report.write(self.con, result.load_id, self.cfg.name, self.paths.reports)
            log.info("validation report: %s", report.name)
            events.emit(
                events.ExtractValidated(
                    extract.extract_id,
                    extract.partner,
                    extract.feed,
                    result.status,
                    result.rows_received,
                    result.rows_loaded,
                    result.rows_quarantined,
                )
            )
        return result

    def apply_retention(self, dry_run: bool = False) -> list[retention.Applied]:
        """Delete what is older than each feed's retention period (audit rows say what), then republish."""
        applied = retention.apply(
            self.con,
            self.paths.data,
            self.cfg.retention_years,
            dry_run=dry_run,
            outbox_days=self.cfg.outbox_retention_days,
        )
        for a in applied:
            if a.history_rows_deleted or a.landed_files_deleted:
                feed_logger(feed=a.feed).info(
                    "retention %s years (before %s): %s rows, %s landed files %s",
                    a.years,
                    a.cutoff,
                    a.history_rows_deleted,
                    a.landed_files_deleted,
                    "would go" if dry_run else "deleted",
                )
        if not dry_run:
            self.publish()
        return applied

    def extract(self, extract_id: str, feed: str) -> Extract:
        """The landed extract ``extract_id`` of ``feed``."""
        found = [e for e in landing.landed(self.con, self.paths.data, feed) if e.extract_id == extract_id]
        if not found:
            raise ValueError(f"no landed extract {extract_id} of {feed}")
        return found[0]

    @staticmethod
    def load_summary(result: LoadResult) -> dict:
        """A load's outcome as plain data (what a Prefect task returns and the commands print)."""
        e = result.extract
        return {
            "extract_id": e.extract_id,
            "partner": e.partner,
            "feed": e.feed,
            "label": e.label,
            "load_id": result.load_id,
            "status": result.status,
            "received": result.rows_received,
            "loaded": result.rows_loaded,
            "quarantined": result.rows_quarantined,
            "summary": result.summary,
            "problems": [{"rule_id": x.rule_id, "message": x.message, "fix": x.fix} for x in result.problems],
        }

    def start_over(self) -> None:
        """Set the loader's file aside and start a new one with the manifest and audit trail (a rebuild)."""
        self.con.close()
        self.con = rebuild.start_over(self.paths.loader_db)

    def finish_rebuild(self, started: dt.datetime, reason: str, reloaded: int) -> None:
        rebuild.finish(self.con, self.paths.loader_db, started, reason, self.cfg.pseudonym_key_version, reloaded)

    def rekey(self) -> int:
        """Rotate the pseudonym key: the new key and a higher ``pseudonymisation.version`` must be configured."""
        used = rebuild.key_version_in_use(self.con)
        if used is not None and self.cfg.pseudonym_key_version <= used:
            raise ValueError(
                f"the warehouse already uses pseudonym key version {used}: put the new key where "
                f"{self.cfg.pseudonym_key.describe()} points and raise pseudonymisation.version in {self.cfg.path}"
            )
        from flows.run_loads import rebuild as rebuild_from_landing

        self.con.close()
        try:
            return rebuild_from_landing("rekey")
        finally:
            self.con = connect_loader(self.paths.loader_db)

    def check_calendar(self, now: dt.datetime | None = None) -> list[dict]:
        """Send the late-extract reminders and escalations due now, once each; returns what was sent."""
        return alerts.remind_late(self.con, self.cfg, now or dt.datetime.now(dt.UTC))

    def board_pack(self, path: Path | None = None, pdf: bool = False) -> list[Path]:
        """Write the board pack (and a PDF of it) from the published warehouse; returns the files written."""
        target = Path(path or self.paths.board_pack)
        if not self.paths.published_db.exists():
            raise board_pack.BoardPackError("there is no published warehouse yet: run `yos run nightly` first")
        con = connect_analyst(self.paths.published_db)
        try:
            written = [board_pack.write(con, self.cfg.area, self.cfg.disclosure_threshold, target)]
        finally:
            con.close()
        if pdf:
            written.append(board_pack.print_pdf(target, target.with_suffix(".pdf")))
        feed_logger().info("board pack written: %s", ", ".join(p.name for p in written))
        return written

    def publish_needed(self) -> bool:
        """Whether the analysts' file is missing or behind the loader (a publish killed part way: the loads it
        would have shown are committed; or a load made without one), or reads its history from where the data
        directory was before it was copied or moved. The next run catches up."""
        if not self.paths.published_db.exists():
            return True
        loader_latest = state.latest_finished_load(self.con)  # the measure `yos status` uses too
        con = connect_analyst(self.paths.published_db)
        try:
            published_latest = state.latest_finished_load(con)
            moved = history_parts.named_elsewhere(con, self.paths.published_db)
        finally:
            con.close()
        return moved or (loader_latest or 0) > (published_latest or 0)

    def publish(self) -> Path:
        """Rebuild the analysts' warehouse and swap it in atomically, in a process of its own
        (:func:`warehouse.publish.publish_apart`), which needs the loader's file: this connection is closed for it,
        and opened again when next used."""
        self.close()
        secrets = [ref.env for ref in self.cfg.secrets() if ref.env]
        published = publish_apart(
            self.paths.loader_db, self.paths.published_db, self.cfg.area, self.cfg.disclosure_threshold, secrets
        )
        feed_logger().info("published %s", published.path.name)
        events.emit(events.WarehousePublished(str(published.path), published.loads))
        return published.path

    def alert(self, run_id: str, results: list[LoadResult]) -> list[dict]:
        """Tell each partner with something to hear about it (problems new, still failing, fixed); escalate
        persistent problems to the YOS data lead; resend anything an earlier run failed to deliver."""
        return self.alert_loads(run_id, [r.load_id for r in results if r.status != "already_loaded" and r.load_id])

    def alert_loads(self, run_id: str, load_ids: list[int]) -> list[dict]:
        """:meth:`alert` for loads named by id."""
        by_partner = {partner: load_ids for partner in self.cfg.partners}  # each alert keeps its partner's own loads
        return alerts.alert_partners(self.con, self.cfg, self.paths.data, self.paths.outbox, run_id, by_partner)
