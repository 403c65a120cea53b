"""The closed-management summary (封闭式管理, REQUIREMENTS 9; docs/parking.md *Daily report*) gives
"people and vehicles in and out and turned away during the closed hours": everyone refused at an
entrance then, whatever the reason, with the reasons in `turned_away_by_reason`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.passes import NewPass, create_pass
from tests.parking.conftest import T0, show
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025, CLOSED's first day (07:00-21:00 to 9 March)


def _report(gw: Gateway) -> dict[str, Any]:
    ops(gw, started=DAY).reports(DAY + 24 * H)
    return dict(json.loads(gw.conn.execute("SELECT body FROM daily_reports").fetchone()[0]))


def test_a_person_kept_out_at_the_door_in_closed_hours_is_counted_turned_away(
    make_gw: Callable[..., Gateway],
) -> None:
    """On a closed-management day (07:00-21:00) a visitor whose pass ended at 10:00 scans it at the
    door at 10:30 and is kept out (expired). The day's closed-management summary the community office
    gets said nobody was turned away on foot; it counts that person as turned away, and why."""
    gw = make_gw(extra=CLOSED)
    fields = dict(
        phone="13800138000", id_number="11010519491231002X", host_building="3栋", host_unit="2单元",
        destination="3栋2单元", reason="探亲",
    )
    at = DAY + 8 * H
    visit = NewPass(kind="visitor", name="钱七", valid_from=at, valid_to=at + 2 * H, **fields)
    pid = create_pass(gw.conn, gw.secrets, visit, at, "guard1")
    qr_sql = "SELECT value FROM credentials WHERE pass_id = ? AND kind = 'qr'"
    qr = gw.conn.execute(qr_sql, (pid,)).fetchone()[0]
    refused = gw.handle(Presented("door", "qr", qr, 1.0, DAY + 10 * H + 30 * M, "door-reader"))
    assert not refused.admitted and refused.reason == "expired"
    body = _report(gw)
    assert body["refusals"]["total"] == 1
    cm = body["closed_management"]
    assert cm["people_turned_away"] == 1, (
        f"a person kept out at the door at 10:30, in the closed hours, is not in the summary: {cm}"
    )
    assert cm["turned_away_by_reason"] == {"people": {"expired": 1}, "vehicles": {}}, cm


def test_every_entrance_refusal_in_the_closed_hours_is_turned_away_and_no_exit_refusal_is(
    make_gw: Callable[..., Gateway],
) -> None:
    """In the closed hours a stranger's car is kept out by the period (closed_management), a card
    nobody holds is refused at the car entrance and at the door (unknown); a car with no entry
    record is held at the exit for the guard (unknown, an exit: not turned away). Before 07:00 an
    unknown card at the door is not in the summary either (outside the closed hours)."""
    gw = make_gw(extra=CLOSED)
    assert show(gw, "car-in", "苏E00002", DAY + 8 * H).reason == "closed_management"
    cards = (("car-in", "F9999901", 9 * H), ("door", "F9999902", 11 * H), ("door", "F9999903", 6 * H))
    for lane, card, at in cards:
        assert gw.handle(Presented(lane, "card", card, 1.0, DAY + at, f"{lane}-reader")).reason == "unknown"
    out = show(gw, "car-out", "苏E00003", DAY + 12 * H)
    assert (out.admitted, out.reason) == (False, "unknown")
    body = _report(gw)
    assert body["refusals"]["total"] == 5
    cm = body["closed_management"]
    assert (cm["vehicles_turned_away"], cm["people_turned_away"]) == (2, 1), cm
    assert cm["turned_away_by_reason"] == {
        "people": {"unknown": 1},
        "vehicles": {"closed_management": 1, "unknown": 1},
    }, cm
