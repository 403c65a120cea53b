"""A day the gateway crash-looped still reaches the centre (Review 65 Rd3, F3).

Each start keeps the stretch since the last heartbeat (gateway/store/gateway_down.py): a service
dying ~25 s after each start, started again by systemd 2 s later, kept 2,879 of them in a day, and
the day's `report` record listed every one: 304,779 bytes, past mqtt.max_message_bytes, so the
uplink set it aside and the centre got no report for exactly that day. Stretches less than a minute
apart are given as one (`parts`), and the record sent lists at most the first of them
(`stretches_more` the rest); the seconds stay exact."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.runtime.gateway import Gateway
from gateway.store.gateway_down import beat, came_up
from tests.parking.conftest import show
from tests.parking.test_closed_management_report import report_of
from tests.parking.test_gateway_down_fix65d3 import DAY, _first
from tests.parking.test_operations import Steady, ops

S = timedelta(seconds=1)
BOOT = "the boot"


def _up(at: datetime) -> float:
    """The monotonic clock at `at`: the box is up all day, only the service restarts."""
    return (at - DAY).total_seconds() + 3600


def _sent(gw: Gateway) -> tuple[int, dict[str, Any]]:
    """The last `report` record queued for the centre: its size and its report."""
    payloads = [
        p for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'report' ORDER BY seq")
    ]
    return len(payloads[-1].encode()), json.loads(payloads[-1])["report"]


def test_a_crash_looping_days_report_is_sent_with_its_downtime_as_one_stretch(tmp_path: Path) -> None:
    """Started every 30 s all day (up ~25 s, RestartSec=2, the start itself), never a heartbeat
    after the start's own: 2,879 stretches of 30 s, touching. The report reads one stretch
    00:00:00-23:59:30 of 2,879 parts, 86,370 s, and the record is sent."""
    gw, _ = _first(tmp_path)
    try:
        at = DAY
        while at < DAY + timedelta(days=1):
            came_up(gw.conn, at, BOOT, _up(at))  # what each start writes (Operations._alive)
            if at == DAY + timedelta(hours=9):
                assert show(gw, "car-in", "皖B33333", at + 5 * S).admitted  # lanes work between crashes
            at += 30 * S
        ops(gw, started=DAY + timedelta(days=1), steady=Steady()).reports(DAY + timedelta(days=1, minutes=5))
        body = report_of(gw, "2025-03-03")
        size, sent = _sent(gw)
        limit = gw.site.config.mqtt.max_message_bytes
    finally:
        gw.conn.close()
    down = {
        "seconds": 2879 * 30,
        "stretches": [
            {
                "from": "2025-03-03T00:00:00+08:00",
                "to": "2025-03-03T23:59:30+08:00",
                "seconds": 2879 * 30,
                "clean": False,
                "parts": 2879,
            }
        ],
    }
    assert body["gateway_down"] == down
    assert body["closed_management"]["gateway_down_s"] == 14 * 3600
    assert size <= limit, "the report record is set aside, not sent"
    assert sent["day"] == "2025-03-03" and sent["gateway_down"] == {**down, "stretches_more": 0}
    assert sent["vehicles"]["entries"]["total"] == 1


def test_a_day_of_thousand_stretches_apart_sends_the_first_and_counts_the_rest(tmp_path: Path) -> None:
    """Started every 80 s, each run living 65 s (one heartbeat a minute in): 1,079 stretches of
    15 s, 65 s apart, none joined. The report kept lists every one; the record sent lists the first
    and says how many more, and its seconds are all of them."""
    gw, _ = _first(tmp_path)
    try:
        at = DAY
        while at < DAY + timedelta(days=1):
            came_up(gw.conn, at, BOOT, _up(at))
            beat(gw.conn, at + 65 * S, BOOT, _up(at + 65 * S))  # a minute into the run; it dies 15 s later
            if at == DAY + timedelta(hours=9, minutes=20):
                assert show(gw, "car-in", "皖B33333", at + 5 * S).admitted
            at += 80 * S
        ops(gw, started=DAY + timedelta(days=1), steady=Steady()).reports(DAY + timedelta(days=1, minutes=5))
        body = report_of(gw, "2025-03-03")
        size, sent = _sent(gw)
        limit = gw.site.config.mqtt.max_message_bytes
    finally:
        gw.conn.close()
    kept = body["gateway_down"]["stretches"]
    assert len(kept) == 1079 and body["gateway_down"]["seconds"] == 1079 * 15
    assert kept[0] == {
        "from": "2025-03-03T00:01:05+08:00",
        "to": "2025-03-03T00:01:20+08:00",
        "seconds": 15,
        "clean": False,
        "parts": 1,
    }
    assert size <= limit
    listed = sent["gateway_down"]["stretches"]
    assert listed == kept[: len(listed)] and 0 < len(listed) < 1079
    assert sent["gateway_down"]["stretches_more"] == 1079 - len(listed)
    assert sent["gateway_down"]["seconds"] == 1079 * 15
