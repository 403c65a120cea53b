"""A lane held open across a restart: the reason the live page shows names since when it was held,
in the site's time, whatever the box's own zone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from gpiozero.pins.mock import MockFactory

from gateway.runtime.gateway import Gateway
from tests.drivers.conftest import (  # noqa: F401  (fixtures)
    gateways,
    gpio_io,
    mock_pins,
    no_leaked_threads,
    query,
    restart_with_barrier_up,
    start_gateway,
)

GPIO_IO = gpio_io(held_open_s=0.3)


@pytest.fixture
def box_on_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's own zone is the box's (UTC), not the site's; put back after the test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_held_again_reason_names_the_holds_time_in_the_sites_zone(
    tmp_path: Path,
    mock_pins: MockFactory,  # noqa: F811
    gateways: Callable[[Gateway], Gateway],  # noqa: F811
    box_on_utc: None,
) -> None:
    """A guard held the car gate open for a convoy at, say, 09:12 Beijing time; the power failed
    and the box came back. The live page's lane list (live.js shows each action's reason) and the
    audit page read "held again after a restart (held by 保安 王 since 2026-11-23T01:12:..+00:00)":
    a UTC time, eight hours off every other time on the page, so the guard read the hold as made
    at 01:12 in the night. docs/guard-app.md: the reason says by whom and since when; times the
    pages and the API show are the site's (README, docs/guard-app.md). It says 09:12."""
    gw = start_gateway(tmp_path, GPIO_IO)
    gw.start()
    try:
        gw.by_hand.hold_lane("car-in", "保安 王", "车队")
        mock_pins.pin(6).drive_low()
    finally:
        gw.stop()
    again = restart_with_barrier_up(tmp_path, mock_pins, gateways, GPIO_IO)
    [(held_at,)] = query(again, "SELECT at FROM audit WHERE action = 'lane.hold' AND actor != 'gateway'")
    local = datetime.fromisoformat(held_at).astimezone(ZoneInfo("Asia/Shanghai"))
    [(reason,)] = query(again, "SELECT detail FROM audit WHERE action = 'lane.hold' AND actor = 'gateway'")
    assert reason == f"held again after a restart (held by 保安 王 since {local:%Y-%m-%d %H:%M})", reason
