"""An LCUS board's own port health logged a device the config does not have, beside each channel's
line: `device offline device=lcus:/dev/serial/by-id/... lane=`. Only the configured devices (the
board's channels) are logged, online and offline."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.drivers.conftest import PtyDevice, lcus_two_lanes, wait_for


def _devices_logged(caplog: pytest.LogCaptureFixture, state: str) -> list[str]:
    return [
        re.search(r"device=(\S*) lane=(\S*)", r.getMessage()).group(0)  # type: ignore[union-attr]
        for r in caplog.records
        if r.name == "drivers.health" and r.getMessage().startswith(f"device {state} ")
    ]


def test_an_lcus_board_logs_only_its_channels_devices(
    tmp_path: Path, pty_device: Callable[[str], PtyDevice], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="drivers.health")
    board = pty_device("ttyUSB-relay")
    devices, entry, exit_ = lcus_two_lanes(tmp_path, board, wait=0.1)
    try:
        wait_for(lambda: entry.health.online and exit_.health.online, "both channels online")
        board.unplug()
        wait_for(lambda: not entry.health.online and not exit_.health.online, "the board missed")
    finally:
        devices.close()
    channels = ["device=entry-barrier lane=car-in", "device=exit-barrier lane=car-out"]
    # The test site's own simulated relays log too; nothing else may.
    simulated = ["device=car-in-barrier lane=car-in", "device=door-lock lane=door"]
    assert sorted(_devices_logged(caplog, "online")) == sorted(simulated + channels)
    assert sorted(_devices_logged(caplog, "offline")) == channels
    assert "lcus:" not in caplog.text
