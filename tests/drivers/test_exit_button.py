"""A door's exit button (出门按钮) on an input of the door's GPIO module: someone inside presses it
and the door opens for them, on record as an exit, with no 强行开门 (forced_open) alarm for the door
opening that follows. Without it, everyone leaving by the button raised that alarm."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.config import ConfigError, parse_config
from gateway.core import BUTTON, Facts, LaneRules, Policy, Presented, Reason, decide
from gateway.core.windows import Window
from gateway.runtime.exit_buttons import ExitButtons
from gateway.runtime.gateway import Gateway
from tests.conftest import report_so_far, site_toml
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    gateways,
    mock_pins,
    no_leaked_threads,
    open_alarms,
    query,
    start_gateway,
    wait_for,
)

BUTTON_PIN, CONTACT_PIN = 5, 6

DOOR_IO = f"""
[[devices]]
id = "door-io"
lane = "door"
kind = "sensor"
driver = "gpio"
inputs = {{ barrier_open = {CONTACT_PIN}, exit_button = {BUTTON_PIN} }}
bounce_s = 0
"""


def door_pulses(gw: Gateway) -> list[tuple[float, float]]:
    [lock] = gw.devices.lanes["door"].relays
    return list(lock.pulses)  # type: ignore[attr-defined]


def press(pins: MockFactory) -> None:
    pins.pin(BUTTON_PIN).drive_low()  # pulled up: the button closes the pin to ground
    pins.pin(BUTTON_PIN).drive_high()


def button_records(gw: Gateway) -> list[tuple[Any, ...]]:
    return query(
        gw,
        "SELECT kind, value, admitted, reason, direction, lane_type FROM access_log WHERE kind = 'button'",
    )


def test_a_press_opens_the_door_on_record_and_the_door_opening_is_no_forced_open(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw = gateways(start_gateway(tmp_path, DOOR_IO))
    press(mock_pins)
    wait_for(lambda: door_pulses(gw), "the door's lock pulsed")
    mock_pins.pin(CONTACT_PIN).drive_low()  # the person pushes the door open
    wait_for(lambda: gw.lane_io.barriers.is_open("door"), "the door contact heard open")
    mock_pins.pin(CONTACT_PIN).drive_high()
    wait_for(lambda: not gw.lane_io.barriers.is_open("door"), "the door contact heard shut")
    assert open_alarms(gw, "forced_open") == []
    # The door is an entrance (its reader outside): the button lets someone out through it.
    assert button_records(gw) == [("button", "door-io", 1, "exit_button", "exit", "pedestrian")]
    [payload] = [json.loads(p) for (p,) in query(gw, "SELECT payload FROM outbox WHERE topic = 'access'")]
    assert payload["credential"]["kind"] == "button" and payload["reason"] == "exit_button"
    assert payload["direction"] == "exit" and payload["admitted"] is True and payload["holder"] is None
    # Nobody known went out: the people-inside count has no one called "button:door-io".
    assert query(gw, "SELECT count(*) FROM presence") == [(0,)]


def test_the_door_opened_with_no_press_is_still_forced_open(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw = gateways(start_gateway(tmp_path, DOOR_IO))
    mock_pins.pin(CONTACT_PIN).drive_low()
    wait_for(lambda: open_alarms(gw, "forced_open") == ["door"], "the forced_open alarm")
    assert door_pulses(gw) == [] and button_records(gw) == []


def test_a_button_stuck_on_at_start_opens_nothing_until_it_is_pressed(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A button stuck in, or its wires shorted, as the gateway starts: the door is not opened (nor
    recorded) at every start; once it is let go, a press opens the door."""
    mock_pins.pin(BUTTON_PIN).drive_low()
    gw = gateways(start_gateway(tmp_path, DOOR_IO))
    assert gw.on_worker(lambda conn: None).result(timeout=10) is None  # start's reports decided
    assert door_pulses(gw) == [] and button_records(gw) == []
    mock_pins.pin(BUTTON_PIN).drive_high()
    press(mock_pins)
    wait_for(lambda: len(button_records(gw)) == 1, "the press recorded")
    assert len(door_pulses(gw)) == 1


def test_presses_while_the_door_is_still_open_are_one_exit() -> None:
    """An impatient finger presses four times in the second the lock is open: one record and one
    pulse. A press after the lock shut again is another exit."""
    pressed: list[tuple[str, str]] = []
    buttons = ExitButtons(lambda lane, device: pressed.append((lane, device)), {"door": 1.0})
    assert not buttons.reported("door", "door-io", False, now=0.0)  # as first reported
    results = []
    for t in (10.0, 10.3, 10.6, 10.9):
        results.append(buttons.reported("door", "door-io", True, now=t))
        buttons.reported("door", "door-io", False, now=t + 0.1)
    assert results == [True, False, False, False] and pressed == [("door", "door-io")]
    assert buttons.reported("door", "door-io", True, now=11.2)
    assert len(pressed) == 2


@pytest.mark.parametrize(
    "facts",
    [
        Facts(lane=LaneRules("door", "entrance", "pedestrian"), lane_closed=True),
        Facts(lane=LaneRules("door", "entrance", "pedestrian", hours=(Window.parse("07:00-08:00"),))),
    ],
    ids=["lane closed by a guard", "outside the lane's hours"],
)
def test_nobody_is_kept_in_by_the_lane_s_state(facts: Facts) -> None:
    p = Presented("door", BUTTON, "door-io", 1.0, datetime.fromisoformat("2026-11-25T23:00:00+08:00"))
    decision = decide(p, facts, Policy())
    assert decision.admitted and decision.reason == Reason.EXIT_BUTTON


def test_a_press_opens_the_door_when_its_record_cannot_be_written(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    """A full SD card keeps every gate shut to cards (nothing opens off the record), but nobody
    inside is locked in: the exit button still opens the door."""
    gw = start_gateway(tmp_path, DOOR_IO)
    gw.conn.execute(
        "CREATE TRIGGER full BEFORE INSERT ON access_log "
        "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
    )
    gateways(gw)
    press(mock_pins)
    wait_for(lambda: door_pulses(gw), "the door's lock pulsed")
    assert gw.storage_failures == 1 and button_records(gw) == []


def test_the_daily_report_counts_people_let_out_by_the_button(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
) -> None:
    gw = gateways(start_gateway(tmp_path, DOOR_IO))
    press(mock_pins)
    wait_for(lambda: len(button_records(gw)) == 1, "the press recorded")
    # On the worker, whose connection it is (the gateway runs).
    people = gw.on_worker(lambda conn: report_so_far(gw)).result(timeout=10)["people"]
    assert people["exits"]["total"] == 1 and people["exits"]["by_kind"]["exit_button"] == 1
    assert people["entries"]["total"] == 0


def test_an_exit_button_on_a_vehicle_lane_is_refused_with_what_to_do(tmp_path: Path) -> None:
    car_lane_button = DOOR_IO.replace('lane = "door"', 'lane = "car-in"')
    with pytest.raises(ConfigError) as caught:
        parse_config(site_toml(tmp_path / "data") + car_lane_button, "site.toml")
    said = str(caught.value)
    assert "exit_button" in said and "pedestrian lane" in said, said


def test_the_press_record_keeps_the_door_camera_s_snapshot(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Who went out at 02:13: the picture the door's camera gave for the press is on its record
    (Review 59e: the JPEG was written and left unlinked)."""
    shot = "snapshots/2026-11-25/door-cam-button.jpg"
    gw = start_gateway(tmp_path, DOOR_IO)
    monkeypatch.setattr(gw, "_snapshot", lambda lane, device: shot if lane == "door" else None)
    gateways(gw)
    press(mock_pins)
    wait_for(lambda: len(button_records(gw)) == 1, "the press recorded")
    assert query(gw, "SELECT snapshot FROM access_log WHERE kind = 'button'") == [(shot,)]
