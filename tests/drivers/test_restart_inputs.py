"""Lane inputs report their state as the gateway starts, so a barrier found up at start is judged:
forced open only with no decision or guard command behind it in the last few seconds, before the
restart too; and an alarm only a barrier contact could clear goes with the contact."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import (
    gpio_io,
    left_propped_open,
    open_alarms,
    query,
    restart_with_barrier_up,
    start_gateway,
)

GPIO_IO = gpio_io()


def test_a_restart_while_the_barrier_is_up_for_a_guards_opening_raises_no_forced_open(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    gw = start_gateway(tmp_path, GPIO_IO)
    gw.start()
    try:
        gw.by_hand.open_lane("car-in", "保安 王", "救护车")  # audited, the relay pulses
        mock_pins.pin(6).drive_low()  # the arm goes up for it
        time.sleep(0.3)
        assert open_alarms(gw, "forced_open") == []
    finally:
        gw.stop()  # an upgrade, `systemctl restart`, the watchdog: a second or two
    # The arm is still up: the ambulance is passing under it.
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)
    time.sleep(0.5)
    opened = query(again, "SELECT at FROM audit WHERE action LIKE 'lane.open%' ORDER BY id DESC LIMIT 1")
    assert open_alarms(again, "forced_open") == [], (
        f"a barrier opened by a guard {opened} a moment before the restart was reported forced open"
    )


def test_a_held_open_alarm_on_a_lane_whose_barrier_contact_was_taken_out_clears_at_start(
    tmp_path: Path,
    mock_pins: MockFactory,
    gateways: Callable[[Gateway], Gateway],
) -> None:
    """The barrier contact is unwired and taken out of the config (the loop detector on the same
    device stays). Nothing reports the barrier any more: the alarm it left must not stay open for
    ever (lanes.py: "Only a lane no longer watched ... has nothing to judge it by: cleared now")."""
    left_propped_open(tmp_path, mock_pins, gpio_io("{ barrier_open = 6, car_present = 5 }", held_open_s=0.3))
    again = gateways(start_gateway(tmp_path, gpio_io("{ car_present = 5 }")))
    time.sleep(0.5)
    assert open_alarms(again, "held_open") == [], (
        "a held_open alarm on a lane with no barrier contact any more stays open: nothing can clear it"
    )
