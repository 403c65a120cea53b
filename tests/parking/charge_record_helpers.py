"""A running gateway with two gates (the south gate's lanes: tests/parking/test_lookalike_pair_corrected.py)
and missed exits charged (reentry = "charge"), on a clock the test moves, and the records it sent
upstream: what the property company's central server files charges and reports by."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_lookalike_pair_corrected import SOUTH
from tests.parking.test_report_figures import Clock, serving
from tests.rush_helpers import RELAYS, parking_gw

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025 00:00, Shanghai; reports.hour is 0
LET_OUT = {"reason": "业主确认访客，已线下处理"}  # the guard's reason for opening by hand

Look = Callable[[str, str, datetime], AccessEvent]


@contextmanager
def running(tmp_path: Path) -> Iterator[tuple[Gateway, Clock, TestClient, dict[str, str], Look]]:
    """The gateway, its clock, an admin's API client and headers, and `look(lane, plate, at)`: the
    lane's camera reads the plate then (the clock moved to it)."""
    gw = parking_gw(tmp_path, extra=RELAYS + SOUTH, reentry="charge")
    clock = Clock(DAY + 8 * H)
    with serving(gw, clock) as (client, auth):

        def look(lane: str, plate: str, at: datetime) -> AccessEvent:
            clock.at = at
            p = Presented(lane, "plate", plate, 0.97, at, f"{lane}-camera")
            return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)

        yield gw, clock, client, auth, look


def sent(gw: Gateway, topic: str) -> list[dict[str, Any]]:
    """The records of `topic` queued upstream, in the order they go."""
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY seq", (topic,)).fetchall()
    return [json.loads(p) for (p,) in rows]


def reports_sent(gw: Gateway) -> list[dict[str, Any]]:
    return [r["report"] for r in sent(gw, "report")]
