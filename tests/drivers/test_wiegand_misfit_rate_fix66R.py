"""Review 66 fix R2: the WARNING of a Wiegand converter writing another encoding than set is kept to
once per shape of line, then at most every MISFIT_WARN_S, as docs/hardware.md says. The note names
which other settings read the line with good parity, which changes card to card, and a good read
reset it: 711 WARNINGs for 1,000 lines in 25 s. Now the limit is kept by the line's shape, and a
card read clears last_error but not the limit. Real ptys."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.readers.frames import wiegand_frame
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import PtyDevice, query, wait_for
from tests.drivers.test_wiegand_wrong_encoding_fix66I import FRAME, READER


def test_many_cards_and_reads_between_warn_once_per_shape(
    tmp_path: Path,
    pty_device: Callable[[str], PtyDevice],
    gateways: Callable[[Gateway], Gateway],
    caplog: pytest.LogCaptureFixture,
) -> None:
    lane = pty_device("ttyUSB-lane")
    caplog.set_level(logging.DEBUG)
    gw = gateways(
        Gateway(parse_config(site_toml(tmp_path / "data") + READER.format(port=lane.path), "site.toml"))
    )
    (health,) = [h for h in gw.devices.health if h.device == "car-in-reader"]
    wait_for(lambda: health.online, "online")
    rng = random.Random(1)
    # Decimal frames of 8 digits, one shape: 40 residents' cards, a good hex frame between each.
    frames = [wiegand_frame(rng.randrange(256), rng.randrange(65536), 26) for _ in range(400)]
    lines = [f for f in frames if len(str(f)) == 8][:40]
    for frame in lines:
        lane.write(f"{frame}\r\n".encode())
        time.sleep(0.03)
        lane.write(f"{FRAME:X}\r\n".encode())
        time.sleep(0.03)
    wait_for(lambda: health.counters["bad_frames"] >= len(lines), "every line")
    wait_for(lambda: len(query(gw, "SELECT 1 FROM access_log")) >= 1, "a read")
    warned = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and "reads nothing" in r.getMessage()
    ]
    notes = {r.getMessage() for r in caplog.records if "reads nothing" in r.getMessage()}
    assert len(notes) > 1  # the note changes card to card
    assert len(warned) == 1 and "8 decimal digits" in warned[0], warned
