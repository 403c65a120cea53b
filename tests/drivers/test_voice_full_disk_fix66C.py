"""A car standing at the exit barrier while the disk is full: the camera decides it again every
15 s. On a disk with room its driver is told once; on a full disk he heard 禁止通行 系统故障 请联系保安
at every repeat, four prompts in 45 s, each cutting the last short (Review 66C): the decision that
could not be stored dropped the repeat's flag, so the lane took each for news. docs/hardware.md
Voice prompts: a message is said once. Real gateway on a real SQLite file that takes no writes,
a real voice program."""

from __future__ import annotations

import sqlite3
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, parking_toml, seed

SPEAKER = 'import sys; open(sys.argv[1], "a", encoding="utf-8").write(sys.argv[2] + chr(10))'
CAR = "苏E12345"


def _said(path: Path, n: int, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text(encoding="utf-8").splitlines()) >= n:
            break
        time.sleep(0.05)
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def _fill(gw: Gateway) -> None:
    """Every write from here on finds the disk full (SQLITE_FULL), as on a card with no room."""
    with sqlite3.connect(gw.db_path) as c:
        c.execute("CREATE TABLE ballast (b BLOB)")
        for table in ("access_log", "audit", "outbox"):
            c.execute(
                f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} "
                "BEGIN INSERT INTO ballast VALUES (zeroblob(1000000)); END"
            )
    gw.conn.execute("PRAGMA max_page_count = 1")


@pytest.mark.parametrize("full", [False, True], ids=["room", "full"])
def test_a_car_standing_at_the_barrier_is_told_once_whatever_the_disk(tmp_path: Path, full: bool) -> None:
    said = tmp_path / "said.txt"
    voice = f"""
[[devices]]
id = "car-out-voice"
lane = "car-out"
kind = "display"
driver = "voice"
command = [{sys.executable!r}, "-c", {SPEAKER!r}, {str(said)!r}, "{{text}}"]
"""
    cfg = parse_config(parking_toml(tmp_path / "data", extra=voice, capacity=20), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        gw.handle(Presented("car-in", "plate", CAR, 0.99, T0 - timedelta(hours=2), "cam"))
        if full:
            _fill(gw)
        for k in range(4):  # the car stands at the exit; the camera decides it again every 15 s
            at = T0 + timedelta(seconds=15 * k)
            ev = gw.handle(Presented("car-out", "plate", CAR, 0.99, at, "cam", again=k > 0))
            assert ev.reason == ("storage_failed" if full else "payment_due")
            if k == 0:
                first = _said(said, 1, 30.0)
        prompts = _said(said, 2, 2.0)
        assert prompts == first and len(prompts) == 1, f"the driver heard {len(prompts)} prompts: {prompts}"
        if full:
            assert prompts == ["禁止通行 系统故障 请联系保安 苏E 1 2 3 4 5"]
    finally:
        for display in gw.devices.lanes["car-out"].displays:
            display.close()
        gw.conn.close()
