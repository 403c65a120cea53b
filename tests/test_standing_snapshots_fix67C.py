"""A car standing in a lane's region is decided again every 15 s (flags `again`): each repeat
stored a new JPEG snapshot and its plate crop on the SD card, 1.7 GB a day for a car parked in
the lane. A repeat keeps at most one snapshot a minute; a new passage always has its own."""

from __future__ import annotations

from pathlib import Path

import pytest

import gateway.runtime.gateway_inputs as gateway_inputs
from gateway.core import Presented
from tests.conftest import registered_plates_site

A = "皖A11111"


def test_a_car_standing_in_the_lane_keeps_one_snapshot_a_minute_not_one_per_repeat(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gw = registered_plates_site(tmp_path, f"{A},R1\n")
    try:
        clock = [1000.0]
        monkeypatch.setattr(gateway_inputs.time, "monotonic", lambda: clock[0])
        taken: list[str] = []

        def snapshot(lane: str, device: str) -> str:
            taken.append(f"snap{len(taken)}.jpg")
            return taken[-1]

        presented: list[Presented] = []
        standing = [False]
        monkeypatch.setattr(gw, "_snapshot", snapshot)
        monkeypatch.setattr(gw, "standing", lambda lane, plate: standing[0])
        monkeypatch.setattr(gw, "present", lambda p: presented.append(p) or True)
        emit = gw._emitter("car-in", "car-in-camera")
        emit("plate", A, 0.99)  # the car arrives: its passage's snapshot
        standing[0] = True
        for _ in range(8):  # two minutes standing, decided again every 15 s
            clock[0] += 15.0
            emit("plate", A, 0.99)
        kept = [p.snapshot for p in presented if p.snapshot]
        assert presented[0].snapshot and len(presented) == 9
        assert len(kept) <= 3, f"{len(kept)} snapshots for one car standing 2 minutes"
        standing[0] = False
        clock[0] += 1.0
        emit("plate", A, 0.99)  # a new passage: its own snapshot, whatever the last repeat kept
        assert presented[-1].snapshot
    finally:
        gw.conn.close()
