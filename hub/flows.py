"""The hub's own Prefect flow: rebuild the hub warehouse, after each member's nightly (an automation runs it on
every nightly's end, completed or not; ``yos hub rebuild`` by hand). The hub configuration comes from
``YOS_HUB_CONFIG`` in its job variables."""

from __future__ import annotations

from prefect import flow, get_run_logger

from hub.config import Hub, load_hub
from hub.warehouse import MemberState, build


def last_nights(hub: Hub) -> dict[str, MemberState]:
    """Each member's latest finished nightly run, as the Prefect API has it (state and end time)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    ended = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
    out = {}
    with get_client(sync_client=True) as client:
        for m in hub.members.values():
            runs = client.read_flow_runs(
                deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[m.deployment])),
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=ended))),
                sort=FlowRunSort.END_TIME_DESC,
                limit=1,
            )
            if runs:
                out[m.id] = MemberState(runs[0].state_type.value if runs[0].state_type else None, runs[0].end_time)
    return out


@flow(name="hub-rebuild", log_prints=True)
def hub_rebuild() -> str:
    """Rebuild the hub warehouse from every member's published file; its path."""
    hub = load_hub(check=False)
    states = last_nights(hub)
    path = build(hub, states)
    logger = get_run_logger()
    for mid in hub.members:
        st = states.get(mid)
        logger.info("%s: last nightly %s", mid, f"{st.state} at {st.at:%Y-%m-%d %H:%M}" if st else "not yet run")
    logger.info("hub warehouse rebuilt: %s", path)
    return str(path)
