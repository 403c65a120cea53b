"""A morning rush at the parking tests' site: relays at both car lanes, and the real camera driver and
PlateReader/LaneVoter (only the recognizer is fake, as in tests/lane_helpers.py) presenting
through the gateway's own camera emitter and decision worker batches."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.worker import Job
from tests.lane_helpers import Lane
from tests.parking.conftest import PARKING_TOML, seed

RELAYS = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"

[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"
"""


def parking_gw(tmp_path: Path, anti_passback: str = "soft", **overrides: object) -> Gateway:
    """The parking tests' site (tests/parking/conftest.py, seeded the same), relays at both car lanes."""
    d = tmp_path / "site"
    d.mkdir(exist_ok=True)
    values: dict[str, object] = {
        "data_dir": d / "data",
        "reentry": "void",
        "shared": "temporary",
        "exit_without_entry": "guard",
        "capacity": 6,
        "extra": RELAYS,
    }
    values.update(overrides)
    text = textwrap.dedent(PARKING_TOML.format(**values))
    text = text.replace('anti_passback = "soft"', f'anti_passback = "{anti_passback}"')
    cfg = parse_config(text, "site.toml")
    seed(cfg, d)
    return Gateway(cfg)


def pulses(gw: Gateway, lane: str) -> int:
    """How often the lane's barrier was told to open."""
    return sum(len(r.pulses) for r in gw.devices.lanes[lane].relays)  # type: ignore[attr-defined,misc]


def camera_lane(
    monkeypatch: pytest.MonkeyPatch, gw: Gateway, lane_id: str, **camera: object
) -> tuple[Lane, list[AccessEvent]]:
    """A plate camera on the lane (its settings: `camera`, e.g. read_mode="trigger"): each decision
    it presents goes to the worker's decide_batch, as Gateway.present would hand it over; the events
    decided are returned in order."""
    lane = Lane(monkeypatch, **camera)
    gw.devices.lanes[lane_id].plate_readers.append(lane.reader)
    emit = gw._emitter(lane_id, f"{lane_id}-camera")
    decided: list[AccessEvent] = []

    def present(p: object) -> bool:
        decided.extend(gw.decide_batch([Job(p, time.perf_counter())]))  # type: ignore[arg-type]
        return True

    monkeypatch.setattr(gw, "present", present)
    lane.on_present = lambda value: emit("plate", value, 0.99)
    return lane, decided
