"""The regional hub. Fast tests of its configuration and of the hub warehouse's disclosure rule on hand-made
published files; then one end-to-end test through real parts: a throwaway PostgreSQL cluster (initdb/pg_ctl),
``prefect server start`` on it, a process work pool with two workers, three generated partnerships each with its own
stand-in partner server, one of them failing on the second night; the runs read back through the Prefect API, and
the hub warehouse checked against each partnership's own published file."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
from pathlib import Path

import duckdb
import httpx
import pytest
import yaml

from hub.config import load_hub
from hub.warehouse import COUNT_UNITS, RATE_UNITS, MemberState, build
from partnership.config import ConfigError
from partnership.settings import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "config" / "hub" / "member.example.yml"
LAS = {"a": ("E06000015", "Derby"), "b": ("E06000016", "Leicester"), "c": ("E06000018", "Nottingham")}


def hub_yml(root: Path, members: dict[str, dict], **hub: object) -> Path:
    doc = {
        "hub": {
            "name": "Test hub",
            "region_code": "E12000004",
            "region_name": "East Midlands",
            "data_dir": str(root / "hub"),
            "work_pool": "test-hub",
            **hub,
        },  # fmt: skip
        "partnerships": members,
    }
    path = root / "hub.yml"
    path.write_text(yaml.safe_dump(doc))
    return path


def member(mid: str, root: Path, url: str = "http://127.0.0.1:9", **env: str) -> dict:
    la, name = LAS[mid]
    return {
        "config": str(TEMPLATE),
        "data_dir": str(root / "members" / mid),
        "env": {
            "YOS_PARTNERSHIP_NAME": f"{name} YJP",
            "YOS_LA_CODE": la,
            "YOS_LA_NAME": name,
            "YOS_MAIL_DOMAIN": f"{mid}.example",
            "YOS_PARTNERS_URL": url,
            **env,
        },  # fmt: skip
    }


# --- configuration ----------------------------------------------------------------------------------------------


def test_the_example_hub_configuration_reads_and_each_member_has_its_own_secrets() -> None:
    hub = load_hub(PROJECT_ROOT / "config" / "hub.example.yml")
    assert len(hub.members) == 3 and hub.work_pool == "yos-hub"
    derby = hub.members["derby"]
    cfg = derby.load()
    assert cfg.la_code == "E06000015" and cfg.pseudonym_key.file == str(derby.data_dir / "secrets/pseudonym.key")
    assert derby.job_env()["YOS_DATA_DIR"] == str(derby.data_dir)
    # its place in the hub: its id (its events' yos.partnership label) and where its board pack finds its peers
    assert derby.job_env()["YOS_HUB_MEMBER"] == "derby"
    assert derby.job_env()["YOS_HUB_WAREHOUSE"] == str(hub.warehouse)
    assert not any("KEY" in k or "TOKEN" in k for k in derby.job_env())  # job variables are readable via the API


def test_two_members_sharing_a_key_or_a_data_directory_are_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared.yml"  # both would read YOS_PSEUDONYM_KEY: one key for two partnerships
    shared.write_text((PROJECT_ROOT / "config" / "partnership.yml").read_text())
    a, b = member("a", tmp_path), member("b", tmp_path)
    a["config"] = b["config"] = str(shared)
    b["env"]["YOS_LA_CODE"] = "E06000016"
    with pytest.raises(ConfigError, match="would share a secret"):
        load_hub(hub_yml(tmp_path, {"a": a, "b": b}))
    b = member("b", tmp_path)
    b["data_dir"] = member("a", tmp_path)["data_dir"]
    with pytest.raises(ConfigError, match="share the data directory"):
        load_hub(hub_yml(tmp_path, {"a": member("a", tmp_path), "b": b}))
    with pytest.raises(ConfigError, match="secrets go by reference"):
        load_hub(hub_yml(tmp_path, {"a": member("a", tmp_path, YOS_PSEUDONYM_KEY="x")}))


# --- the hub warehouse, on hand-made published files ------------------------------------------------------------


def fake_published(
    path: Path, la: str, rows: list[tuple], finished: str = "2026-12-01 02:30:00+00", name: str | None = None
) -> None:
    """A partnership's published file with only what the hub reads: published.measures, core.partnership and
    audit.loads. ``rows``: (measure, period, numerator, denominator, value, unit, better); a None value is
    suppressed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    con.execute("create schema published; create schema core; create schema audit")
    con.execute("create table core.partnership as select ? as partnership_name, ? as la_code", [name or f"P {la}", la])
    con.execute(f"create table audit.loads as select timestamptz '{finished}' as finished_at")
    con.execute(
        """create table published.measures (ordinal integer, kpi varchar, measure varchar, title varchar,
           la_code varchar, period varchar, period_start date, numerator hugeint, denominator hugeint, value double,
           unit varchar, better varchar, provisional boolean, suppressed boolean, england_value double,
           comparator_name varchar, comparator_value double, definition varchar)"""
    )
    for measure, period, num, den, value, unit, better in rows:
        con.execute(
            "insert into published.measures values (1, 'k', ?, 't', ?, ?, date '2024-01-01', ?, ?, ?, ?, ?, false, "
            "?, 150, 'East Midlands', 140, 'd')",
            [measure, la, period, num, den, value, unit, better, value is None],
        )
    con.execute(  # another LA's children in this partnership's data: never the hub's to show
        "insert into published.measures select * replace ('E10000007' as la_code, 999 as numerator) "
        "from published.measures"
    )
    con.close()


def read(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_regional_totals_ranks_and_suppression(tmp_path: Path) -> None:
    members = {m: member(m, tmp_path) for m in "abc"}
    hub = load_hub(hub_yml(tmp_path, members), check=False)
    fte = "per 100,000 aged 10-17"
    fake_published(hub.members["a"].published_db, "E06000015", [
        ("fte", "2024", 20, 20000, 100.0, fte, "lower"), ("fte", "2025", 30, 20000, 150.0, fte, "lower"),
        ("knife", "2024", 7, None, 7.0, "offences", "lower"), ("rr", "2024", None, None, None, "ratio", None)])  # fmt: skip
    fake_published(hub.members["b"].published_db, "E06000016", [
        ("fte", "2024", 10, 20000, 50.0, fte, "lower"), ("fte", "2025", None, 20000, None, fte, "lower"),
        ("knife", "2024", 9, None, 9.0, "offences", "lower"), ("rr", "2024", 8, 5, 1.2, "ratio", None)])  # fmt: skip
    fake_published(hub.members["c"].published_db, "E06000018", [
        ("fte", "2024", 60, 40000, 150.0, fte, "lower"), ("fte", "2025", 40, 40000, 100.0, fte, "lower"),
        ("knife", "2024", 5, None, 5.0, "offences", "lower"), ("rr", "2024", 6, 5, 0.9, "ratio", None)])  # fmt: skip
    path = build(hub)
    totals = {(m, p): (n, d, v, shown) for m, p, n, d, v, shown in read(path,
              "select measure, period, numerator, denominator, value, shown from region.totals")}  # fmt: skip
    assert totals[("fte", "2024")] == (90, 80000, 112.5, True)  # 100,000 * 90 / 80,000: recomputed, not averaged
    assert totals[("knife", "2024")] == (21, None, 21.0, True)
    # b's 2025 figure is suppressed: a total of a and c would reveal it by subtraction from a regional figure
    assert totals[("fte", "2025")] == (None, None, None, False)
    assert totals[("rr", "2024")] == (None, None, None, False)  # a ratio has no total
    ranks = dict(read(path, "select partnership, rank from region.measures where measure = 'fte' and period = '2024'"))
    assert ranks == {"b": 1, "a": 2, "c": 3}  # lower is better
    assert read(path, "select count(*) from region.measures where la_code = 'E10000007'") == [(0,)]
    wide = read(path, "select a, b, c, region, england from region.side_by_side where measure = 'fte' order by period")
    assert wide == [(100.0, 50.0, 150.0, 112.5, 150.0), (150.0, None, 100.0, None, 150.0)]


def test_a_member_whose_file_is_lost_keeps_its_last_good_figures_marked_with_their_date(tmp_path: Path) -> None:
    hub = load_hub(hub_yml(tmp_path, {m: member(m, tmp_path) for m in "ab"}), check=False)
    for m, la in (("a", "E06000015"), ("b", "E06000016")):
        fake_published(hub.members[m].published_db, la, [("knife", "2024", 7, None, 7.0, "offences", "lower")],
                       finished="2026-11-30 02:40:00+00")  # fmt: skip
    build(hub)
    hub.members["b"].published_db.unlink()  # its disk lost, or its file unreadable
    night = dt.datetime(2026, 12, 1, 2, 50, tzinfo=dt.UTC)
    path = build(hub, {"a": MemberState("COMPLETED", night), "b": MemberState("FAILED", night)})
    rows = dict(read(path, "select partnership, status from region.partnerships"))
    assert rows["a"] == "current, as at 2026-11-30"
    assert rows["b"].startswith("last good figures, as at 2026-11-30 (kept from the previous hub build: no published")
    assert read(path, "select partnership, value, current from region.measures order by 1") == [
        ("a", 7.0, True), ("b", 7.0, False)]  # fmt: skip
    assert read(path, "select value from region.totals") == [(14.0,)]


# --- end to end -------------------------------------------------------------------------------------------------


def _runs(api: str, **filters: object) -> list[dict]:
    return httpx.post(f"{api}/flow_runs/filter", json={"sort": "START_TIME_ASC", **filters}, timeout=10).json()


def _deployments(api: str) -> dict[str, str]:
    return {d["id"]: d["name"] for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()}


def _run_deployment(api: str, deployment_id: str) -> str:
    r = httpx.post(f"{api}/deployments/{deployment_id}/create_flow_run", json={}, timeout=10)
    r.raise_for_status()
    return r.json()["id"]


def _wait(api: str, ids: list[str], timeout: float = 420) -> dict[str, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = {r["id"]: r for r in _runs(api, flow_runs={"id": {"any_": ids}})}
        if all(runs[i]["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") for i in ids):
            return runs
        time.sleep(1)
    raise AssertionError(f"runs did not finish: {[(r['name'], r['state']['type']) for r in runs.values()]}")


def _wait_rebuilt_after(api: str, after: str, rebuild_id: str, timeout: float = 180) -> dict:
    """The hub-rebuild run the automation started after ``after`` (an ISO time), once every one has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(api, deployments={"id": {"any_": [rebuild_id]}})
        if runs and all(r["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED") for r in runs):
            late = [r for r in runs if r["start_time"] and r["start_time"] > after]
            if late:
                return late[-1]
        time.sleep(1)
    raise AssertionError(f"no hub rebuild after {after}: {[(r['name'], r['state']['type']) for r in runs]}")


def _wait_for_a_run(api: str, deployment_id: str, timeout: float = 180) -> dict:
    """The first flow run of a deployment, once it has finished (a triggered run: none is made by the test)."""
    deadline = time.monotonic() + timeout
    runs: list[dict] = []
    while time.monotonic() < deadline:
        runs = _runs(api, deployments={"id": {"any_": [deployment_id]}})
        if runs and runs[0]["state"]["type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return runs[0]
        time.sleep(1)
    raise AssertionError(f"no finished run of {deployment_id}: {[(r['name'], r['state']['type']) for r in runs]}")


def drop(folder: Path, name: str, lines: list[str]) -> None:
    """Drop a file into an intake folder as an upload would: written under an in-progress name, then renamed."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.part").write_text("".join(lines))
    os.replace(folder / f"{name}.part", folder / name)


def _overlap(a: dict, b: dict) -> bool:
    return a["start_time"] < b["end_time"] and b["start_time"] < a["end_time"]


@pytest.fixture(scope="module")
def hub_nights(tmp_path_factory: pytest.TempPathFactory) -> dict:
    if not shutil.which("runuser") and os.geteuid() == 0:
        pytest.skip("runuser is needed to run PostgreSQL as a non-root user")
    from hub.serve import HubService
    from sandbox.generate import generate
    from sandbox.mailcatcher import MailCatcher
    from sandbox.partner_server import serve
    from tests.helpers import PARTNER_TOKENS

    root = tmp_path_factory.mktemp("hub")
    servers = {}
    for i, mid in enumerate("abc"):
        generate(root / "partners" / mid, seed=20 + i, children=120, la_code=LAS[mid][0])
        servers[mid] = serve(root / "partners" / mid, PARTNER_TOKENS)
    saved = {k: os.environ.get(k) for k in ("PREFECT_WORKER_QUERY_SECONDS", "PREFECT_API_URL", "YOS_DATA_DIR")}
    os.environ["PREFECT_WORKER_QUERY_SECONDS"] = "1"  # the workers poll each second: the test waits less
    os.environ.pop("PREFECT_API_URL", None)
    catcher = MailCatcher(root / "mail").__enter__()
    members = {m: member(m, root, servers[m].url, YOS_SMTP_PORT=str(catcher.port)) for m in "abc"}
    hub = load_hub(hub_yml(root, members))
    for m in hub.members.values():  # each partnership's tokens: files in its own data directory, 0600
        secrets = m.data_dir / "secrets"
        secrets.mkdir(parents=True, mode=0o700)
        for partner, file in (("police", "police"), ("courts", "courts"), ("childrens_social_care", "csc"),
                              ("yos", "yos"), ("reference", "reference")):  # fmt: skip
            (secrets / f"token_{file}").write_text(PARTNER_TOKENS[partner])
            (secrets / f"token_{file}").chmod(0o600)
    svc = HubService(hub, workers=2, schedules=False, temp_postgres=True, ui=False, scan_interval=1, settle_seconds=1)
    try:
        svc.start()
        api = svc.api_url
        ids = {name: i for i, name in _deployments(api).items()}
        night1 = [_run_deployment(api, ids[f"nightly-{m}"]) for m in "abc"]
        first = _wait(api, night1)
        # A partner drops a file in b's intake folder (a few of its police outcomes sent again, by SFTP say): b's
        # intake watcher lands it and b's load-landed loads it, while the hub rebuilds after the first night
        drop(hub.members["b"].data_dir / "intake" / "police", "police_outcomes_resent.csv",
             (root / "partners" / "b" / "police" / "police_outcomes.csv").read_text().splitlines(True)[:6])  # fmt: skip
        rebuilt1 = _wait_rebuilt_after(api, max(r["end_time"] for r in first.values()), ids["hub-rebuild"])
        landed = _wait_for_a_run(api, ids["load-landed-b"])
        hub1 = {row[0]: row[1:] for row in read(hub.warehouse, "select partnership, figures_as_at, status "
                                                "from region.partnerships")}  # fmt: skip
        # The second night: c's partners refuse its credentials (as if its police had rotated them); a twice at once
        servers["c"].shutdown()
        servers["c"] = serve(root / "partners" / "c", {p: "rotated" for p in PARTNER_TOKENS})
        members["c"]["env"]["YOS_PARTNERS_URL"] = servers["c"].url
        hub = load_hub(hub_yml(root, members))
        from prefect.settings import PREFECT_API_URL, temporary_settings

        from hub.deploy import deploy

        with temporary_settings({PREFECT_API_URL: api}):
            deploy(hub, schedules=False)  # c's new partner address, as an operator would redeploy
        night2 = [_run_deployment(api, ids[f"nightly-{m}"]) for m in ("a", "a", "b", "c")]
        second = _wait(api, night2)
        rebuilt2 = _wait_rebuilt_after(api, max(r["end_time"] for r in second.values()), ids["hub-rebuild"])
        names = _deployments(api)
        return {
            "api": api,
            "hub": hub,
            "ids": ids,
            "names": names,
            "night1": [first[i] for i in night1],
            "night2": [second[i] for i in night2],
            "rebuilds": (rebuilt1, rebuilt2),
            "hub1": hub1,
            "landed": landed,
            "load_landed_runs": {m: _runs(api, deployments={"id": {"any_": [ids[f"load-landed-{m}"]]}}) for m in "abc"},
            "deployments": httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json(),
            "automations": httpx.post(f"{api}/automations/filter", json={}, timeout=10).json(),
            "workers": httpx.post(f"{api}/work_pools/test-hub/workers/filter", json={}, timeout=10).json(),
            "watchers": {mid: p.poll() for mid, p in svc.watchers.items()},
        }
    finally:
        svc.stop()
        catcher.__exit__(None, None, None)
        for s in servers.values():
            s.shutdown()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def test_each_partnership_ran_in_its_own_deployment_on_the_postgres_backed_server(hub_nights: dict) -> None:
    names = hub_nights["names"]
    night1, night2 = hub_nights["night1"], hub_nights["night2"]
    assert [names[r["deployment_id"]] for r in night1] == ["nightly-a", "nightly-b", "nightly-c"]
    assert all(r["state"]["type"] == "COMPLETED" for r in night1), [(r["name"], r["state"]) for r in night1]
    assert [r["state"]["type"] for r in night2] == ["COMPLETED", "COMPLETED", "COMPLETED", "FAILED"]
    assert "could not be fetched" in night2[3]["state"]["message"], night2[3]["state"]
    assert all(r["work_pool_name"] == "test-hub" for r in night1 + night2)
    assert {w["name"] for w in hub_nights["workers"]} == {"test-hub-worker-1", "test-hub-worker-2", "test-hub-hub"}


def test_partnerships_ran_side_by_side_but_never_two_nights_of_one(hub_nights: dict) -> None:
    n1 = hub_nights["night1"]
    assert any(_overlap(x, y) for i, x in enumerate(n1) for y in n1[i + 1 :])  # two workers: in parallel
    assert not all(_overlap(x, y) for i, x in enumerate(n1) for y in n1[i + 1 :])  # but only two at once
    a1, a2 = hub_nights["night2"][:2]
    assert not _overlap(a1, a2)  # nightly-a's concurrency limit of one: the second waited for the first


def test_each_run_read_its_own_partnership(hub_nights: dict) -> None:
    hub = hub_nights["hub"]
    for mid, m in hub.members.items():
        la = read(m.published_db, "select la_code from core.partnership")[0][0]
        assert la == LAS[mid][0]
        assert (m.data_dir / "secrets" / "pseudonym.key").stat().st_mode & 0o077 == 0
    keys = {(m.data_dir / "secrets" / "pseudonym.key").read_text() for m in hub.members.values()}
    assert len(keys) == 3  # one key per partnership


def test_the_hub_warehouse_is_the_members_published_figures(hub_nights: dict) -> None:
    hub = hub_nights["hub"]
    path = hub.warehouse
    tables = {t for (t,) in read(path, "select schema_name || '.' || table_name from duckdb_tables()")}
    assert tables == {"region.member_measures", "region.partnership_figures", "region.about"}  # no child's row
    for mid, m in hub.members.items():
        own = read(m.published_db, f"""select measure, period, value from published.measures
                                        where la_code = '{LAS[mid][0]}' order by all""")  # fmt: skip
        inhub = read(path, f"select measure, period, value from region.measures where partnership = '{mid}' "
                           "order by all")  # fmt: skip
        assert own == inhub and len(own) > 50
    # a regional total: recomputed from the members' published numerators and denominators, where none is suppressed
    rows = read(path, """select t.numerator, t.denominator, t.value, sum(m.numerator), sum(m.denominator),
                                bool_or(m.suppressed or m.numerator is null), t.shown
                         from region.totals t join region.measures m using (measure, period)
                         where t.measure = 'first_time_entrants' group by all""")  # fmt: skip
    assert rows
    for n, d, v, sn, sd, any_suppressed, shown in rows:
        assert shown == (not any_suppressed)
        if shown:
            assert (n, d) == (sn, sd) and v == round(100_000 * n / d, 1)
        else:
            assert (n, d, v) == (None, None, None)
    suppressed = read(path, "select count(*) from region.totals where members_suppressed > 0 and value is not null")
    assert suppressed == [(0,)]
    # every unit the partnerships publish is one the hub knows how to add up (or knows not to: ratios)
    units = {u for (u,) in read(path, "select distinct unit from region.measures")}
    assert units <= set(RATE_UNITS) | COUNT_UNITS | {"ratio"} and len(units) >= 5, units


def test_a_failed_night_stays_local_and_keeps_its_last_good_figures_with_their_date(hub_nights: dict) -> None:
    path = hub_nights["hub"].warehouse
    status = {r[0]: r[1:] for r in read(path, "select partnership, figures_as_at, status, current "
                                              "from region.partnerships")}  # fmt: skip
    assert status["a"][2] and status["b"][2] and not status["c"][2]
    c_as_at, c_status, _ = status["c"]
    assert c_as_at == hub_nights["hub1"]["c"][0]  # the first night's figures, still there
    assert c_status.startswith(f"last good figures, as at {c_as_at:%Y-%m-%d}: the night of ")
    assert c_status.endswith("ended failed")
    assert read(path, "select count(*) > 50 from region.measures where partnership = 'c' and not current") == [(True,)]
    assert all(r["state"]["type"] == "COMPLETED" for r in hub_nights["rebuilds"])


def test_every_partnership_has_its_five_deployments_one_run_at_a_time(hub_nights: dict) -> None:
    from hub.deploy import MEMBER_DEPLOYMENTS

    deployments = {d["name"]: d for d in hub_nights["deployments"]}
    want = {  # name: (cron, what a second run does)
        "nightly": ("0 2 * * *", "ENQUEUE"),
        "load-landed": (None, "ENQUEUE"),
        "expected-extracts": ("15 * * * *", "CANCEL_NEW"),
        "retention": ("30 3 * * 0", "ENQUEUE"),
        "backfill": (None, "ENQUEUE"),
    }
    assert [s.name for s in MEMBER_DEPLOYMENTS] == list(want)
    for mid in "abc":
        for kind, (cron, collision) in want.items():
            d = deployments[f"{kind}-{mid}"]
            assert d["global_concurrency_limit"]["limit"] == 1, d["name"]  # one writer per DuckDB file
            assert d["concurrency_options"]["collision_strategy"] == collision, d["name"]
            got = [(s["schedule"]["cron"], s["schedule"]["timezone"], s["active"]) for s in d["schedules"]]
            # the test deploys with schedules paused (schedules=False): declared, but nothing runs by the clock
            assert got == ([(cron, "Europe/London", False)] if cron else []), d["name"]
            assert d["job_variables"]["env"]["YOS_HUB_MEMBER"] == mid
            assert d["job_variables"]["env"]["YOS_DATA_DIR"] == str(hub_nights["hub"].members[mid].data_dir)
    # each member's load-landed answers only its own partnership's extracts, landed from its intake folder
    triggers = {
        a["actions"][0]["deployment_id"]: a["trigger"] for a in hub_nights["automations"] if a["actions"][0].get(
            "deployment_id")
    }  # fmt: skip
    for mid in "abc":
        trigger = triggers[deployments[f"load-landed-{mid}"]["id"]]
        assert trigger["expect"] == ["yos.extract.landed"] and trigger["posture"] == "Reactive"
        assert trigger["match"] == {"prefect.resource.id": "yos.feed.*", "yos.partnership": mid,
                                    "yos.landed-from": "intake"}  # fmt: skip


def test_a_file_dropped_in_one_partnerships_intake_is_loaded_by_its_own_load_landed_only(hub_nights: dict) -> None:
    run = hub_nights["landed"]
    assert run["state"]["type"] == "COMPLETED", run["state"]
    assert run["parameters"] == {"feed": "police_outcomes"}
    runs = hub_nights["load_landed_runs"]
    # only b's: not a's or c's, and not one for each extract the nights pulled (their nightly loads those itself)
    assert [r["id"] for r in runs["b"]] == [run["id"]] and runs["a"] == [] and runs["c"] == []
    m = hub_nights["hub"].members["b"]
    loads = read(m.published_db, "select e.source, l.status from audit.loads l join audit.extracts e "
                                 "using (extract_id) where e.source like 'intake:%'")  # fmt: skip
    assert loads == [("intake:police_outcomes_resent.csv", "loaded")], loads
    assert hub_nights["watchers"] == {"a": None, "b": None, "c": None}  # every intake watcher still running


def region_blocks(html: str) -> dict[str, tuple[str, list[list[str]]]]:
    """Per measure card of a board pack with a region: (our rank text, the region table's rows as cell texts)."""
    out = {}
    for measure, card in re.findall(
        r'<div class="card" id="([^"]+)">(.*?)(?=<div class="card"|<h2>|</body>)', html, re.S
    ):
        if '<div class="region">' not in card:
            continue
        block = card[card.index('<div class="region">') :]
        rank = re.search(r'<span class="(?:rank|unranked)">([^<]+)</span>', block).group(1).lower()
        rows = [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)]
                for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", block[: block.index("</table>")], re.S)]  # fmt: skip
        out[measure] = (rank, rows)
    return out


def test_a_members_board_pack_shows_its_regional_peers_after_the_hub_rebuilt(hub_nights: dict, tmp_path: Path) -> None:
    from tests.helpers import screenshot

    hub = hub_nights["hub"]
    pack = hub.members["a"].data_dir / "board-pack.html"  # written again by a's second night, after the rebuild
    html = pack.read_text()
    assert "Regional peers are not available" not in html
    assert "Region (East Midlands)" in html and "3 partnerships of the Test hub" in html
    blocks = region_blocks(html)
    assert "first_time_entrants" in blocks and len(blocks) > 10
    peers = {"Derby YJP", "Leicester YJP", "Nottingham YJP"}
    ranked = 0
    for measure, (rank, rows) in blocks.items():
        england = rows[-1][0] == "England"  # beside England, where England has a published figure
        partnerships = {r[0].removesuffix(" (last good figures)"): r for r in rows[1 : -2 if england else -1]}
        assert set(partnerships) <= peers and "Derby YJP" in partnerships, (measure, rows)
        assert rows[-2 if england else -1][0].startswith("Region total"), (measure, rows)
        for name, (_, value, place, as_at) in partnerships.items():
            assert value, (measure, name)  # a figure, s (suppressed) or a dash (none): never blank
            assert re.fullmatch(r"\d\d \w{3} 20\d\d", as_at), (measure, name, as_at)  # each dated
            if value == "s":
                assert place == "", (measure, name)  # a suppressed figure is never ranked
        if partnerships["Derby YJP"][1] == "s":
            assert rank.startswith("not ranked ("), (measure, rank)
        elif re.fullmatch(r"(1st|2nd|3rd) of [23]( with a figure)?", rank):
            ranked += 1
            assert partnerships["Derby YJP"][2] == rank.split()[0], (measure, rows)
    assert ranked >= 3, {m: b[0] for m, b in blocks.items()}
    assert any(b[1][-1] == ["England", b[1][-1][1], "", ""] and b[1][-1][1] for b in blocks.values())
    screenshot(pack, tmp_path / "hub-member-board-pack.png", height=2600)
