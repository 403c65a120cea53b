"""A car recorded inside since a time it was seen leaving after is refused (409 `left_since`); an
admin's close is not a car seen leaving; a stay closed on another tablet meanwhile is said so (409
`already_done`). docs/parking.md, Cars already inside; docs/guard-app.md on two tablets."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from gateway.parking.inside import _LEFT_BY_EXIT
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving, show

H = timedelta(hours=1)


def typed(gw: Gateway, at: datetime) -> str:
    """A time as an admin types it: the site's time, to the minute."""
    return at.astimezone(gw.site.tz).strftime("%Y-%m-%d %H:%M")


def record(client: TestClient, auth: dict[str, str], **body: Any) -> Any:
    return client.post("/api/parking/stays", headers=auth, json={"reason": "day one: parked before", **body})


def cars_inside(client: TestClient) -> int:
    return sum(r["inside"] for r in client.get("/api/parking/occupancy").json() if r["class"] == "car")


def test_a_car_the_exit_let_out_with_no_entry_record_is_not_recorded_inside_from_before(
    make_gw: Callable[..., Gateway],
) -> None:
    """Day one: the old system's list says 皖B33333 (李四, slot B002) came in at 07:00. At 09:00 it
    drove out; the gateway's exit let it out (a registered car always leaves, flagged
    no_entry_record). At 10:00 the installer records the list. The gateway was told the car left
    at 09:00, after the 07:00 given: the docs say such a car is refused, 409 `left_since` ("one
    recorded leaving after the entered_at given"). What the installer saw: it was recorded inside,
    occupancy counted a car that left, and its slot B002 read taken."""
    with serving(make_gw()) as (gw, client, auth):
        now = gw.now()
        out = show(gw, "car-out", "皖B33333", now - H)
        assert out.admitted and "no_entry_record" in out.flags
        made = record(client, auth, plate="皖B33333", entered_at=typed(gw, now - 3 * H))
        assert made.status_code == 409, made.text
        assert made.json()["error"]["code"] == "left_since"
        assert cars_inside(client) == 0
        # in since after it left: recorded
        after = record(client, auth, plate="皖B33333", entered_at=typed(gw, now - H / 2))
        assert after.status_code == 200, after.text


def test_a_stranger_let_out_with_no_entry_record_is_not_recorded_inside_from_before(
    make_gw: Callable[..., Gateway],
) -> None:
    """A stranger let out under exit_without_entry = "open" at 09:00, recorded inside since 07:00 at
    10:00: refused 409 `left_since`, not a phantom stay its next entry closes as a missed exit."""
    with serving(make_gw(exit_without_entry="open")) as (gw, client, auth):
        now = gw.now()
        out = show(gw, "car-out", "沪C99999", now - H)
        assert out.admitted and "no_entry_record" in out.flags
        made = record(client, auth, plate="沪C99999", entered_at=typed(gw, now - 3 * H))
        assert (made.status_code, made.json()["error"]["code"]) == (409, "left_since"), made.text
        assert cars_inside(client) == 0


def test_the_exits_looked_at_are_found_on_an_index(gw: Gateway) -> None:
    """The access log's exits of a car after a time are read on their own index, not the whole log
    (a busy estate's box holds months of decisions)."""
    named = {"plate": "苏E12345", "subject": "plate:苏E12345", "entered": "2025-03-01T00:00:00+00:00"}
    plan = " ".join(str(r[-1]) for r in gw.conn.execute(f"EXPLAIN QUERY PLAN {_LEFT_BY_EXIT}", named))
    assert "USING INDEX access_log_exits (car=? AND at>?)" in plan, plan


def test_a_stay_recorded_with_a_wrong_time_can_be_closed_and_recorded_again_at_the_right_time(
    make_gw: Callable[..., Gateway],
) -> None:
    """The admin records 苏E12345 as in since 2 hours ago, then sees on the old system's screen it
    came in 5 hours ago (a typo). The API's own advice for a wrong stay is "close it first
    (POST /api/parking/stays/{id}/close), then record the car", and docs/parking.md says a car
    recorded by mistake is closed as any other (已离场). What the admin saw: recording it again at
    the true time was refused 409 left_since, "give the time it came in after <now>": the only way
    left recorded it from now, and the car paid for none of its 5 hours. The stay the admin closed
    was never a car seen leaving."""
    with serving(make_gw()) as (gw, client, auth):
        now = gw.now()
        made = record(client, auth, plate="苏E12345", entered_at=typed(gw, now - 2 * H))
        assert made.status_code == 200, made.text
        stay_id = made.json()["stay_id"]
        closed = client.post(
            f"/api/parking/stays/{stay_id}/close", headers=auth, json={"reason": "wrong time typed"}
        )
        assert closed.status_code == 200, closed.text
        again = record(client, auth, plate="苏E12345", entered_at=typed(gw, now - 5 * H))
        assert again.status_code == 200, again.text
        assert cars_inside(client) == 1


def test_a_car_marked_as_left_on_another_tablet_meanwhile_is_said_so(
    make_gw: Callable[..., Gateway],
) -> None:
    """Two admins at two tablets have the 车位 page open; both see 苏E12345 in 场内车辆 and press
    已离场 on it. The first closes its stay. The second was answered 409 `refused` ("no car is
    inside on stay N; pick a stay from the open stays list"): the page showed it as a failure and
    kept the car listed. guard-app.md's rule for the same race (an alarm acknowledged, a pass
    checked out on another tablet meanwhile) is 409 `already_done`, which the pages word as
    已由他人处理 and reload to show what is stored; the car has left, which is what the second admin
    wanted."""
    with serving(make_gw()) as (gw, client, auth):
        made = record(client, auth, plate="苏E12345")
        stay_id = made.json()["stay_id"]
        url = f"/api/parking/stays/{stay_id}/close"
        first = client.post(url, headers=auth, json={"reason": "left unseen, camera down"})
        assert first.status_code == 200, first.text
        second = client.post(url, headers=auth, json={"reason": "left unseen"})
        assert (second.status_code, second.json()["error"]["code"]) == (409, "already_done"), second.text
        stays = gw.conn.execute("SELECT count(*) FROM audit WHERE action = 'stay.close'").fetchone()[0]
        assert stays == 1
