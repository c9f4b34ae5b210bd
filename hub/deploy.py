"""Deploying a hub to one Prefect server: a process work pool, each member partnership's deployments, the hub
warehouse's rebuild, and the automation that runs the rebuild after every member's nightly ends.

How a run knows its partnership: by its environment, as every ``yos`` process does. Each member's deployments carry
job variables ``env: {YOS_CONFIG, YOS_DATA_DIR, PREFECT_HOME, TMPDIR, ...}`` (:meth:`hub.config.Member.job_env`), and
a process worker starts each flow run as a fresh process with them. So the flows, tasks and every package below run
unchanged: configuration, data directory, key and tokens are resolved in that process only, one partnership per
process, and no flow signature carries a partnership. (A flow parameter would have had to reach every task and be
turned into the same environment inside one long-lived process, where a partnership's key could outlive its run.)

One writer per DuckDB file: each of a member's deployments has a concurrency limit of 1 (a second run waits, ENQUEUE;
the hourly expected-extract check is dropped instead, CANCEL_NEW, as the next hour's does the same), and different
deployments of one member meet the loader's lock as today (the warehouse-busy wait and retry). Members differ in
files, so their runs go side by side on different workers; each worker takes one run at a time (``--limit 1``).
The hub's rebuilds have a queue of their own (``hub``) and a worker of their own, so they never delay a night.

An extract dropped in a member's intake folder is loaded because it arrived, as in ``yos serve``: the member's intake
watcher (started by :mod:`hub.serve`, in the member's environment) lands it and emits ``yos.extract.landed`` with
the labels ``yos.partnership: <member>`` and ``yos.landed-from: intake`` (:mod:`flows.events`); the member's
``load-landed-<id>`` has a trigger matching exactly those, so another member's extract, or one its own nightly pulled
(and loads itself), never starts it.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from hub.config import Hub, Member
from partnership.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent
NIGHTLY_TAG = "yos-hub-nightly"
REBUILD = "hub-rebuild"
# Partnerships' runs and the hub's own rebuilds take separate queues of the pool, served by separate workers, so a
# rebuild never holds a slot a partnership's night is waiting for.
MEMBER_QUEUE, HUB_QUEUE = "default", "hub"


@dataclass(frozen=True)
class Spec:
    """One kind of member deployment: its name prefix, entrypoint, description, schedule (a member's own nightly
    schedule for ``nightly``), what a second run does while one is running (every member deployment is limited to
    one run at a time) and whether the member's landed extracts trigger it."""

    name: str
    entrypoint: str
    description: str
    cron: str | None = None
    collision: str = "ENQUEUE"
    on_landed: bool = False


MEMBER_DEPLOYMENTS = (
    Spec("nightly", "flows/nightly.py:nightly", "Pull every feed, validate, load, publish and alert."),
    Spec("load-landed", "flows/load.py:load_landed", "Load an extract dropped in its intake folder as it lands.",
         on_landed=True),
    Spec("expected-extracts", "flows/expected.py:expected_extracts",
         "Remind partners whose extracts are late (once per due time); escalate a second miss.", "15 * * * *",
         collision="CANCEL_NEW"),
    Spec("retention", "flows/retention.py:retention", "Delete what is past each feed's retention period.",
         "30 3 * * 0"),
    Spec("backfill", "flows/backfill.py:backfill", "Re-run a feed's landed extracts through validation."),
)  # fmt: skip
# What starts a member's load-landed: an extract landed from its own intake folder (flows.events labels).
LANDED = "yos.extract.landed"


def landed_trigger(member_id: str) -> dict[str, str]:
    """The resource a member's ``load-landed`` trigger matches: its own partnership's extracts from its intake."""
    return {"prefect.resource.id": "yos.feed.*", "yos.partnership": member_id, "yos.landed-from": "intake"}


class DeployError(RuntimeError):
    """The work pool or a deployment could not be created; the message says which."""


def _pull_steps() -> list[dict]:
    return [{"prefect.deployments.steps.set_working_directory": {"directory": str(PROJECT_ROOT)}}]


def create_pool(hub: Hub, env: dict[str, str]) -> None:
    r = subprocess.run(
        [str(BIN / "prefect"), "work-pool", "create", hub.work_pool, "--type", "process", "--overwrite"],
        env=env, cwd=PROJECT_ROOT, capture_output=True, text=True,
    )  # fmt: skip
    if r.returncode != 0:
        raise DeployError(f"could not create the work pool {hub.work_pool}: {(r.stdout + r.stderr)[-1500:]}")


def deploy(hub: Hub, schedules: bool = True) -> dict[str, UUID]:
    """Create or update every deployment of the hub (the API named by ``PREFECT_API_URL``); their ids by name.
    ``schedules=False`` deploys their schedules paused (runs by hand, by the API or by a trigger only: tests and the
    bench)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.objects import ConcurrencyOptions
    from prefect.client.schemas.schedules import CronSchedule
    from prefect.events.actions import RunDeployment
    from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture
    from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
    from prefect.events.schemas.events import ResourceSpecification
    from prefect.utilities.callables import parameter_schema_from_entrypoint

    ids: dict[str, UUID] = {}
    with get_client(sync_client=True) as client:
        flow_ids: dict[str, UUID] = {}

        def create(name: str, entrypoint: str, m: Member | None, spec_desc: str, collision: str,
                   cron: str | None, env: dict[str, str], tags: list[str], queue: str = MEMBER_QUEUE) -> UUID:  # fmt: skip
            flow_name = "hub-rebuild" if m is None else entrypoint.split(":")[1].replace("_", "-")
            if flow_name not in flow_ids:
                flow_ids[flow_name] = client.create_flow_from_name(flow_name)
            path = str(PROJECT_ROOT / entrypoint.split(":")[0])
            return client.create_deployment(
                flow_ids[flow_name],
                name,
                description=spec_desc,
                work_pool_name=hub.work_pool,
                work_queue_name=queue,
                entrypoint=entrypoint,
                path=str(PROJECT_ROOT),
                pull_steps=_pull_steps(),
                job_variables={"env": env},
                tags=tags,
                parameter_openapi_schema=parameter_schema_from_entrypoint(
                    f"{path}:{entrypoint.split(':')[1]}"
                ).model_dump_for_openapi(),
                concurrency_limit=1,
                concurrency_options=ConcurrencyOptions(collision_strategy=collision),
                schedules=[
                    DeploymentScheduleCreate(
                        schedule=CronSchedule(cron=cron, timezone=hub.timezone), active=schedules, slug=f"{name}-cron"
                    )
                ]
                if cron
                else [],
            )

        for m in hub.members.values():
            for s in MEMBER_DEPLOYMENTS:
                name = f"{s.name}-{m.id}"
                cron = m.schedule if s.name == "nightly" else s.cron
                tags = ["yos-hub", f"partnership:{m.id}"] + ([NIGHTLY_TAG] if s.name == "nightly" else [])
                ids[name] = create(name, s.entrypoint, m, f"{m.id}: {s.description}", s.collision, cron,
                                   m.job_env(), tags)  # fmt: skip
                # the deployment's own automations (a trigger), replaced on each deploy as `prefect deploy` does
                client.delete_resource_owned_automations(f"prefect.deployment.{ids[name]}")
                if s.on_landed:
                    trigger = DeploymentEventTrigger(
                        name=f"{name}: an extract landed in {m.id}'s intake folder",
                        expect={LANDED},
                        match=landed_trigger(m.id),
                        posture=Posture.Reactive,
                        threshold=1,
                        within=0,
                        parameters={"feed": "{{ event.payload.feed }}"},
                    )
                    trigger.set_deployment_id(ids[name])
                    client.create_automation(trigger.as_automation())
        ids[REBUILD] = create(
            REBUILD,
            "hub/flows.py:hub_rebuild",
            None,
            "Rebuild the hub warehouse from every partnership's published figures (after each nightly).",
            "ENQUEUE",
            None,
            {
                "YOS_HUB_CONFIG": str(hub.path),
                "YOS_DATA_DIR": str(hub.data_dir),
                "PREFECT_HOME": str(hub.prefect_home),
                "TMPDIR": str(hub.data_dir / "tmp"),
            },  # fmt: skip
            ["yos-hub"],
            HUB_QUEUE,
        )
        # After every member's nightly ends, however it ends, rebuild the hub warehouse.
        name = f"{hub.work_pool}: rebuild the hub after each nightly"
        for old in client.read_automations_by_name(name):
            client.delete_automation(old.id)
        client.create_automation(
            AutomationCore(
                name=name,
                trigger=EventTrigger(
                    expect={"prefect.flow-run.Completed", "prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                    match_related=ResourceSpecification(
                        {"prefect.resource.role": "tag", "prefect.resource.id": f"prefect.tag.{NIGHTLY_TAG}"}
                    ),
                    posture=Posture.Reactive,
                    threshold=1,
                    within=0,
                ),
                actions=[RunDeployment(source="selected", deployment_id=ids[REBUILD], parameters={})],
            )
        )
    return ids
