"""forced_open's words for a pedestrian lane's door: a door has no arm nor limit switch to check."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from gateway.alarm_texts import render_stored
from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    gateways,
    gpio_io,
    mock_pins,
    no_leaked_threads,
    open_alarms,
    query,
    start_gateway,
    wait_for,
)

DOOR_CONTACT = """
[[devices]]
id = "door-contact"
lane = "door"
kind = "sensor"
driver = "gpio"
inputs = { barrier_open = 6 }
bounce_s = 0
"""


def _forced_open_words(gw: Gateway) -> tuple[str, str, dict[str, object]]:
    """The forced_open alarm's stored message in Chinese and English, and its raised record upstream."""
    [(stored,)] = query(gw, "SELECT message FROM alarms WHERE kind = 'forced_open'")
    records = [json.loads(p) for (p,) in query(gw, "SELECT payload FROM outbox WHERE topic = 'alarm'")]
    [raised] = [r for r in records if r["kind"] == "forced_open"]
    return render_stored(stored, "zh"), render_stored(stored, "en"), raised


def test_a_door_forced_open_is_worded_as_a_door_with_its_contact_and_lock(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """Someone pulls the pedestrian door open with no card (its door contact reports it): the guard's
    alarm said the lane's 道闸 (barrier) was opened and to check 道闸及其限位开关接线 / "the arm and its
    limit switch wiring", a fix that cannot be followed at a door, which has neither. It speaks of the
    door (门), its door contact and lock; the alarm is still a forced_open (records, acknowledge)."""
    gw = gateways(start_gateway(tmp_path, DOOR_CONTACT))
    mock_pins.pin(6).drive_low()  # the door opened, nothing told it to
    wait_for(lambda: open_alarms(gw, "forced_open") == ["door"], "the forced_open alarm on the door")
    zh, en, record = _forced_open_words(gw)
    assert "道闸" not in zh and "限位开关" not in zh and "门磁" in zh and "门锁" in zh, zh
    assert "arm" not in en.split() and "limit switch" not in en, en
    assert "door on lane door" in en and "door contact and lock wiring" in en, en
    assert record["kind"] == "forced_open" and record["source"] == "door", record
    assert (record["message"], record["message_en"]) == (zh, en), record
    assert record["text"] == {"key": "forced_open.door", "params": {"lane": "door", "device": "door-contact"}}


def test_a_barrier_forced_open_still_points_at_the_arm_and_its_limit_switch(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw = gateways(start_gateway(tmp_path, gpio_io()))
    mock_pins.pin(6).drive_low()  # the arm went up, nothing told it to
    wait_for(lambda: open_alarms(gw, "forced_open") == ["car-in"], "the forced_open alarm on the barrier")
    zh, en, record = _forced_open_words(gw)
    assert "道闸及其限位开关接线" in zh and "the arm and its limit switch wiring" in en, (zh, en)
    assert record["text"] == {"key": "forced_open", "params": {"lane": "car-in", "device": "car-in-io"}}
