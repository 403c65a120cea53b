"""A box whose own (system) time zone is not the site's: Raspberry Pi OS ships Europe/London, a fresh
image UTC, and the installer in China never changed it. The site config says Asia/Shanghai
(docs/config.md: `site.timezone`). What the estate sees must not change with the box's own zone:
the folder and name a snapshot is filed under, and the time on each line of the gateway's log."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from drivers.cameras.frame import Frame
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOX_ZONE = "UTC"  # a fresh Raspberry Pi OS image

CAMERA = """
[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "opencv"
url = "rtsp://127.0.0.1:1/none"
"""


@pytest.fixture
def box_zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's own zone is the box's (UTC), not the site's; put back after the test."""
    monkeypatch.setenv("TZ", BOX_ZONE)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_snapshot_of_a_morning_car_is_filed_under_the_sites_day(tmp_path: Path, box_zone: None) -> None:
    """A car comes in at 07:30 on 3 March (Beijing time). The installer, asked by the police for
    that morning's footage, opens data_dir/snapshots/2026-03-03/ (docs/hardware.md: snapshots are
    kept under data_dir/snapshots/YYYY-MM-DD/) and finds nothing of it: on a box left on UTC the
    picture was filed under 2026-03-02 as 233000-...jpg, the previous day at a time nobody at the
    estate lived through. It is filed under the site's day and clock: 2026-03-03/073000-."""
    cfg = parse_config(site_toml(tmp_path / "data") + CAMERA, "site.toml")
    gw = Gateway(cfg)
    try:
        assert gw.snapshots is not None, "the camera's lane keeps snapshots"
        wall = datetime(2026, 3, 3, 7, 30, 0, tzinfo=SHANGHAI).timestamp()
        frame = Frame(np.zeros((48, 64, 3), np.uint8), 1, time.monotonic(), wall)
        name = gw.snapshots.submit(frame, "car-in-camera")
        assert name is not None
        assert name.startswith("snapshots/2026-03-03/073000-"), name
    finally:
        if gw.snapshots is not None:
            gw.snapshots.close()
        gw.conn.close()


def test_the_log_line_time_is_the_sites_clock(tmp_path: Path) -> None:
    """The installer in Shanghai runs `journalctl -u estate-gateway -f` (README) while a guard says
    a car was just turned away, and looks for the decision line of that minute. On a box left on
    UTC every line of the gateway's log was stamped with the box's clock: the demo's decisions that
    the guard pages show at 16:15:53 were logged at 08:15:53, eight hours off the pages, the
    records and the times written inside the messages (an opening's at=..., a let-out at HH:MM).
    The log line carries the site's clock, as everything else the estate reads does."""
    env = {**os.environ, "TZ": BOX_ZONE}
    before = datetime.now(SHANGHAI).replace(microsecond=0)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "demo",
            "--port",
            str(_free_port()),
            "--data-dir",
            str(tmp_path / "demo"),
            "--stop-after",
            "4",
        ],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    after = datetime.now(SHANGHAI)
    assert done.returncode == 0, done.stderr[-2000:]
    stamps = [
        line.split(" ", 1)[0]
        for line in done.stdout.splitlines()
        if " INFO gateway.runtime.gateway: " in line
    ]
    assert stamps, done.stdout[-2000:]
    if after.date() != before.date():
        pytest.skip("the demo ran across the site's midnight: the HH:MM:SS stamps do not sort")
    allowed = f"{before:%H:%M:%S} to {after:%H:%M:%S}"
    assert all(f"{before:%H:%M:%S}" <= s <= f"{after:%H:%M:%S}" for s in stamps), (stamps, allowed)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
