"""An admin records a car already inside that no entry of the gateway's let in (POST
/api/parking/stays): the stay an entry of that plate then would have opened, counted at once, and
closed by its exit as any other (docs/parking.md, Cars already inside)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.parking.test_api import serving, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
EAST = """
[[zones]]
id = "east"
name = "东区"
capacity = { car = 3, motorcycle = 0, bicycle = 0 }
"""

Served = tuple[Gateway, TestClient, dict[str, str]]


@pytest.fixture
def charging(make_gw: Callable[..., Gateway]) -> Iterator[Served]:
    """A site that charges a car leaving with no entry record a day's fee (按一天收费)."""
    with serving(make_gw(exit_without_entry="charge")) as served:
        yield served


def typed(gw: Gateway, at: datetime) -> str:
    """A time as an admin types it: the site's time, to the minute."""
    return at.astimezone(gw.site.tz).strftime("%Y-%m-%d %H:%M")


def cars_inside(client: TestClient) -> int:
    return sum(r["inside"] for r in client.get("/api/parking/occupancy").json() if r["class"] == "car")


def record(client: TestClient, auth: dict[str, str], **body: Any) -> Any:
    return client.post("/api/parking/stays", headers=auth, json={"reason": "day one: parked before", **body})


def test_a_temporary_car_recorded_inside_pays_from_its_old_entry_not_a_days_fee(charging: Served) -> None:
    gw, client, auth = charging
    came_in = gw.now() - 2 * H - 30 * M
    assert cars_inside(client) == 0
    made = record(client, auth, plate="苏E12345", entered_at=typed(gw, came_in), actor="王经理")
    assert made.status_code == 200, made.text
    stay = made.json()
    assert (stay["plate"], stay["zone"], stay["class"], stay["billing"], stay["slot_id"]) == (
        "苏E12345",
        "main",
        "car",
        "temporary",
        None,
    )
    assert cars_inside(client) == 1  # counted at once
    listed = client.get("/api/parking/stays", headers=auth).json()
    assert [(s["plate"], s["recorded_by"]) for s in listed] == [("苏E12345", "token:booth for 王经理")]
    assert listed[0]["entered_at"].startswith(came_in.astimezone(gw.site.tz).strftime("%Y-%m-%dT%H:%M"))

    audited = gw.conn.execute(
        "SELECT actor, target, detail FROM audit WHERE action = 'stay.record'"
    ).fetchall()
    assert audited == [
        (
            "token:booth for 王经理",
            f"stay:{stay['stay_id']}",
            f"苏E12345: inside since {typed(gw, came_in)}, main: day one: parked before",
        )
    ]
    sent = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'stay'")]
    assert len(sent) == 1
    up = sent[0]
    assert {
        k: up[k] for k in ("change", "stay_id", "plate", "zone", "class", "slot_id", "reason", "actor")
    } == {
        "change": "recorded_by_admin",
        "stay_id": stay["stay_id"],
        "plate": "苏E12345",
        "zone": "main",
        "class": "car",
        "slot_id": None,
        "reason": "day one: parked before",
        "actor": "token:booth for 王经理",
    }
    assert datetime.fromisoformat(up["entered_at"]) == came_in.replace(second=0, microsecond=0)

    # Its exit finds it: 2.5 hours by the tariff (5元 + 2元 + 2元), not the day's 30元 of a car
    # with no entry record, and no no_entry_record flag.
    out = show(gw, "car-out", "苏E12345", gw.now())
    assert (out.reason, out.fee_fen, "no_entry_record" in out.flags) == ("payment_due", 900, False)


def test_a_car_on_its_own_slot_takes_the_slot_and_leaves_free(charging: Served) -> None:
    """皖A11111 and 皖A22222 share slot B001 (一位多车): the first recorded inside is on the slot, so
    the second coming in is the slot's second car (temporary), and the first leaves free."""
    gw, client, auth = charging
    made = record(client, auth, plate="皖A11111", entered_at=typed(gw, gw.now() - 5 * H))
    assert made.status_code == 200, made.text
    assert (made.json()["billing"], made.json()["slot"]) == ("slot", "B001")
    second = show(gw, "car-in", "皖A22222", gw.now())
    assert second.admitted and second.billing == "temporary" and "shared_slot" in second.flags
    out = show(gw, "car-out", "皖A11111", gw.now())
    assert (out.reason, out.fee_fen, "no_entry_record" in out.flags) == ("resident", 0, False)


def test_a_car_with_no_slot_at_a_site_of_several_zones_needs_its_zone(
    make_gw: Callable[..., Gateway],
) -> None:
    with serving(make_gw(extra=EAST)) as (gw, client, auth):
        asked = record(client, auth, plate="苏E12345")
        assert asked.status_code == 422 and asked.json()["error"]["code"] == "zone_needed"
        assert "main" in asked.json()["error"]["fix"] and "east" in asked.json()["error"]["fix"]
        # A car with a fixed slot is in its slot's zone.
        assert record(client, auth, plate="皖B33333").json()["zone"] == "main"
        made = record(client, auth, plate="苏E12345", zone="east")
        assert made.status_code == 200 and made.json()["zone"] == "east"
        east = next(r for r in client.get("/api/parking/occupancy").json() if r["zone"] == "east")
        assert east["inside"] == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"plate": "皖X"}, 422, "invalid_plate"),
        ({"plate": "苏E12345", "zone": "moon"}, 422, "unknown_zone"),
        ({"plate": "苏E12345", "vehicle_class": "truck"}, 422, "unknown_class"),
        ({"plate": "皖A11111", "vehicle_class": "motorcycle"}, 422, "wrong_class"),  # registered a car
        ({"plate": "苏E12345", "entered_at": "20250303"}, 422, "bad_time"),
        ({"plate": "苏E12345", "entered_at": "yesterday"}, 422, "bad_time"),
        ({"plate": "苏E12345", "entered_at": "FUTURE"}, 422, "bad_time"),
    ],
    ids=["bad-plate", "unknown-zone", "unknown-class", "not-its-class", "old-system-date", "words", "future"],
)
def test_a_car_that_cannot_be_recorded_is_refused_and_nothing_is_written(
    charging: Served, body: dict[str, str], status: int, code: str
) -> None:
    gw, client, auth = charging
    if body.get("entered_at") == "FUTURE":
        body = {**body, "entered_at": typed(gw, gw.now() + 2 * H)}
    refused = record(client, auth, **body)
    assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), refused.text
    assert refused.json()["error"]["fix"]
    assert gw.conn.execute("SELECT count(*) FROM stays").fetchone()[0] == 0
    assert gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'stay'").fetchone()[0] == 0
    assert cars_inside(client) == 0


def test_a_car_inside_already_is_named_not_recorded_twice(charging: Served) -> None:
    gw, client, auth = charging
    entered = show(gw, "car-in", "苏E12345", gw.now() - H)
    assert entered.admitted
    stay_id = gw.conn.execute("SELECT id FROM stays WHERE exited_at IS NULL").fetchone()[0]
    again = record(client, auth, plate="苏E 12345")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_inside"
    assert f"stay {stay_id}" in again.json()["error"]["message"]
    assert cars_inside(client) == 1
    # Seen leaving after the time given: that stay and this one would overlap (counted twice).
    now = gw.now()
    assert show(gw, "car-in", "皖B33333", now - 3 * H).admitted
    assert show(gw, "car-out", "皖B33333", now - H).admitted
    overlap = record(client, auth, plate="皖B33333", entered_at=typed(gw, now - 2 * H))
    assert overlap.status_code == 409 and overlap.json()["error"]["code"] == "left_since"
    assert record(client, auth, plate="皖B33333", entered_at=typed(gw, now - 30 * M)).status_code == 200


def test_only_an_admin_records_a_car_inside(charging: Served) -> None:
    gw, client, _ = charging
    _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "test", "tablet", "guard", None)).result()
    refused = record(client, {"Authorization": f"Bearer {token}"}, plate="苏E12345")
    assert refused.status_code == 403
    assert gw.conn.execute("SELECT count(*) FROM stays").fetchone()[0] == 0


def test_a_car_its_lane_would_refuse_is_recorded_as_temporary_and_still_held_at_the_exit(
    charging: Served,
) -> None:
    """R2's car, blocked at the office (欠费), was inside before the gateway: it is inside all the
    same, recorded paying by time (its own slot is for a car the lane lets in), and the exit keeps
    it in until the block is dealt with."""
    gw, client, auth = charging
    block = {"kind": "plate", "value": "皖B33333", "reason": "欠费"}
    assert client.post("/api/credentials/block", headers=auth, json=block).status_code == 200
    made = record(client, auth, plate="皖B33333")
    assert made.status_code == 200, made.text
    assert (made.json()["billing"], made.json()["slot_id"], made.json()["lane_would_refuse"]) == (
        "temporary",
        None,
        "blocked",
    )
    assert cars_inside(client) == 1
    assert show(gw, "car-out", "皖B33333", gw.now()).reason == "blocked"
