"""A device moved to another lane in the site config while it is offline: its open offline alarm
must name the lane it is on now. The alarms page sends the technician there, and the record
upstream sends the centre there; nothing else would ever correct it while the device stays broken."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import open_alarms
from tests.conftest import site_toml
from tests.drivers.conftest import query, start_gateway, wait_for


def reader_at(lane: str, port: str) -> str:
    return f"""
[[devices]]
id = "gate-reader"
lane = "{lane}"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "em4100"
reconnect_max_s = 0.2
"""


def offline_alarm(gw: Gateway) -> dict[str, object] | None:
    def read(conn):  # type: ignore[no-untyped-def]
        return [
            a
            for a in open_alarms(conn, "en")
            if a["kind"] == "device_offline" and a["source"] == "gate-reader"
        ]

    rows = gw.on_worker(read).result(10)
    return rows[0] if rows else None


def upstream_raised(gw: Gateway) -> list[dict[str, object]]:
    """The reader's `raised` alarm records queued for the centre, oldest first."""
    payloads = [
        json.loads(p) for (p,) in query(gw, "SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    ]
    return [p for p in payloads if p["source"] == "gate-reader" and p["state"] == "raised"]


def test_a_device_moved_to_another_lane_has_its_offline_alarm_name_the_new_lane(
    tmp_path: Path, gateways: Callable[[Gateway], Gateway]
) -> None:
    port = str(tmp_path / "ttyUSB-never-plugged")
    first = gateways(start_gateway(tmp_path, reader_at("car-in", port)))
    wait_for(
        lambda: "car-in" in str((offline_alarm(first) or {}).get("message")), "the reader's offline alarm"
    )
    before = offline_alarm(first)
    first.stop()
    assert before is not None

    # The installer mounts the (still broken) reader at the exit instead and restarts.
    second = gateways(
        Gateway(parse_config(site_toml(tmp_path / "data") + reader_at("car-out", port), "site.toml"))
    )
    query(second, "SELECT 1")  # the start's settling of alarms is done
    after = offline_alarm(second)
    assert after is not None
    said = str(after["message"])
    assert "car-out" in said and "car-in" not in said, (
        f"the reader is configured at lane car-out now, but its open alarm says: {said!r}"
    )
    # Still the same fault: its age, and the repair deadline counted from it, hold.
    assert after["raised_at"] == before["raised_at"]
    # The centre gets the raise again, dated when it was raised, with the new lane.
    raised = upstream_raised(second)
    assert len(raised) == 2 and "car-out" in str(raised[-1]["message_en"]), raised
    assert datetime.fromisoformat(str(raised[-1]["at"])) == datetime.fromisoformat(str(raised[0]["at"]))
