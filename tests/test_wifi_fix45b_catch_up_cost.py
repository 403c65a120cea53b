"""What the live page's catch-up (/api/live/recent?per_lane=8&actions=true, fetched each time its
stream opens and after every resync) costs the box, counted in SQLite's steps as
tests/test_retention_query_plans.py counts them (not timed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.api.lanes import recent_per_lane
from gateway.api.views import RECENT_ON_LANE
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import parking_config, seed
from tests.test_retention_query_plans import BIG, SMALL, _fill_history, _vm_steps


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Gateway]]:
    made: dict[int, Gateway] = {}
    for rows in (SMALL, BIG):
        d = tmp_path_factory.mktemp(f"history{rows}")
        cfg = parking_config(d / "data")
        seed(cfg, d)
        made[rows] = gw = Gateway(cfg)
        _fill_history(gw, rows)  # every record at the entrance; the exit and the door are quiet
    yield made
    for gw in made.values():
        gw.conn.close()


def test_the_live_pages_catch_up_costs_the_same_however_long_the_access_log(
    stores: dict[int, Gateway],
) -> None:
    """A tablet on a flaky Wi-Fi fetches each lane's newest eight every time its stream opens and
    after each resync. A lane with fewer than eight records (a quiet exit, a side door, a lane just
    added) is looked for through the whole access log (newest id down, not by the lane's index):
    on a box keeping 1,000,000 records each reconnect reads them all. It should cost what it lists."""
    lanes = [lane.id for lane in stores[SMALL].site.config.lanes]
    cost = {}
    for rows, gw in stores.items():
        listed: list[object] = []

        def catch_up(gw: Gateway = gw, listed: list[object] = listed) -> None:
            listed.extend(recent_per_lane(gw, gw.conn, lanes, 8, True))

        cost[rows] = _vm_steps(gw.conn, catch_up)
        assert listed, "the entrance's records are listed"
    assert cost[BIG] < 2 * cost[SMALL], (
        f"the catch-up took {cost[SMALL]} steps over {SMALL} records and {cost[BIG]} over {BIG}: "
        "it reads the whole access log for each quiet lane"
    )


def test_one_lanes_recent_decisions_are_read_by_the_lanes_index(stores: dict[int, Gateway]) -> None:
    """Why it costs what it lists: one lane's records are looked up in access_log_lane (lane, id),
    newest first, not found by walking every record down from the newest id."""
    args = {"after": 0, "before": 2**63 - 1, "lane": "car-out", "kind": None, "refused": 0, "limit": 8}
    steps = stores[BIG].conn.execute(f"EXPLAIN QUERY PLAN {RECENT_ON_LANE}", args)
    plan = " ".join(str(row[-1]) for row in steps)
    assert "SEARCH a USING INDEX access_log_lane (lane=?" in plan, plan
