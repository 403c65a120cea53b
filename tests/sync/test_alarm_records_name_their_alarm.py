"""The centre's operator desk knows alarms only from their `alarm` records (docs/mqtt.md): each
record names its alarm by `alarm_id`, and the desk matches an acknowledgement or a clearing to the
raise of the same id. A guard who acknowledges an older alarm of a lane, already cleared, from the
alarms page's "Show all" list must not make the desk show the lane's *current* open alarm as
acknowledged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from gpiozero.pins.mock import MockFactory

from gateway.api.app import create_app
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    gateways,
    gpio_io,
    mock_pins,
    open_alarms,
    query,
    start_gateway,
    wait_for,
)


def centre_desk(records: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """What a centre reading the alarm records in seq order shows as open, by kind and source."""
    desk: dict[object, dict[str, Any]] = {}
    for r in records:
        alarm = r.get("alarm_id")
        if r["state"] == "raised":
            desk.setdefault(alarm, {"kind": r["kind"], "source": r["source"], "acknowledged_by": None})
        elif r["state"] == "acknowledged" and alarm in desk:
            desk[alarm]["acknowledged_by"] = r["by"]
        elif r["state"] == "cleared":
            desk.pop(alarm, None)
    return {(a["kind"], a["source"]): a for a in desk.values()}


def alarm_records(gw: Gateway) -> list[dict[str, Any]]:
    rows = query(gw, "SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    return [json.loads(p) for (p,) in rows]


def test_acknowledging_a_cleared_alarm_does_not_acknowledge_the_open_one_at_the_centre(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw = gateways(start_gateway(tmp_path, gpio_io()))
    contact = mock_pins.pin(6)
    # 1st forcing of the barrier: raised, then it closes: cleared (not acknowledged).
    contact.drive_low()
    wait_for(lambda: open_alarms(gw, "forced_open") == ["car-in"], "the first forced_open")
    contact.drive_high()
    wait_for(lambda: open_alarms(gw, "forced_open") == [], "the first forced_open cleared")
    # 2nd forcing, still up: open, nobody has seen it.
    contact.drive_low()
    wait_for(lambda: open_alarms(gw, "forced_open") == ["car-in"], "the second forced_open")

    client = TestClient(create_app(gw))
    _, token = gw.on_worker(lambda c: create_token(c, gw.now(), "t", "booth", "guard", None)).result(10)
    auth = {"Authorization": f"Bearer {token}"}
    listed = client.get("/api/alarms?all=true", headers=auth).json()
    first = min((a for a in listed if a["kind"] == "forced_open"), key=lambda a: a["id"])
    assert first["cleared_at"] is not None and first["acknowledged_at"] is None
    # The guard, going through "Show all", acknowledges the old, closed one.
    r = client.post(f"/api/alarms/{first['id']}/acknowledge", json={"note": "看过录像"}, headers=auth)
    assert r.status_code == 200, r.text

    on_box = query(gw, "SELECT acknowledged_at FROM alarms WHERE kind='forced_open' AND cleared_at IS NULL")
    assert on_box == [(None,)]  # on the box the barrier still forced up is not acknowledged
    desk = centre_desk(alarm_records(gw))
    assert desk[("forced_open", "car-in")]["acknowledged_by"] is None, (
        "the centre's desk now shows the lane's open forced_open acknowledged by the guard, though "
        f"the guard acknowledged the earlier, cleared one; records: {alarm_records(gw)}"
    )
    acknowledged = [a for a in alarm_records(gw) if a["state"] == "acknowledged"]
    assert [a["alarm_id"] for a in acknowledged] == [first["id"]]
