"""Review 66 I4: a Wiegand converter writing its frames in another encoding than the gateway is set
for (the whole frame in decimal to a reader set to hex, hex padded to 8 digits, "054,15694" text)
was read as nothing and said nothing: the reader online, last_error empty, only bad_frames moving,
and every card refused as if nobody tapped. Now the reader's last_error and a WARNING in the
journal (once per shape, then at most every MISFIT_WARN_S) say what the lines look like and, where
one reads them with good parity, which wiegand_bits / wiegand_encoding does. Real ptys."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.readers.frames import wiegand_frame, wiegand_misfit
from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from tests.conftest import site_toml
from tests.drivers.conftest import PtyDevice, query, wait_for

READER = """
[[devices]]
id = "car-in-reader"
lane = "car-in"
kind = "reader"
driver = "serial-reader"
port = "{port}"
format = "wiegand"
wiegand_bits = 26
wiegand_encoding = "hex"
reconnect_max_s = 0.2
debounce_s = 0
"""
FRAME = wiegand_frame(0x36, 0x3D4E, 26)  # card 054:15694


@pytest.mark.parametrize(
    ("line", "said"),
    [
        (f"{FRAME}", 'its parity bits are good read as wiegand_encoding = "decimal"'),
        (f"{FRAME:08X}", "8 hex digits is no Wiegand 26 frame"),
        (f"{FRAME:08X}", "its leading zeros aside it is a good frame"),
        (f"{FRAME:026b}", 'read as wiegand_encoding = "bits"'),
        ("054,15694", "9 characters (digits, ',')"),
        ("0372653390", "10 decimal digits"),
    ],
)
def test_a_line_of_another_encoding_is_said_by_its_shape(line: str, said: str) -> None:
    note = wiegand_misfit(line.encode(), 26, "hex")
    assert note is not None and said in note, note
    assert line not in note and "15694" not in note  # a card's number is never in the journal


def test_a_frame_as_set_is_no_misfit() -> None:
    assert wiegand_misfit(f"{FRAME:X}".encode(), 26, "hex") is None


def test_the_reader_says_why_it_reads_nothing(
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

    def warned() -> list[str]:
        return [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.WARNING and "reads nothing" in r.getMessage()
        ]

    for _ in range(3):  # a card held on the reader: the same line again and again
        lane.write(f"{FRAME}\r\n".encode())
    wait_for(lambda: 'wiegand_encoding = "decimal"' in health.last_error, "last_error")
    wait_for(lambda: health.counters["bad_frames"] >= 3, "three lines")
    assert health.online and lane.path in health.last_error, health.last_error
    assert len(warned()) == 1 and 'wiegand_encoding = "decimal"' in warned()[0], warned()

    lane.write(f"{FRAME:08X}\r\n".encode())  # another shape: said again
    wait_for(lambda: "without padding" in health.last_error, "padded")
    assert len(warned()) == 2, warned()

    lane.write(f"{FRAME:X}\r\n".encode())  # a frame as set: read, and last_error cleared
    wait_for(lambda: query(gw, "SELECT value FROM access_log"), "the card read")
    assert query(gw, "SELECT value FROM access_log") == [("054:15694",)]
    wait_for(lambda: health.last_error == "", "last_error cleared")
    assert not any("15694" in r.getMessage() for r in caplog.records if "reads nothing" in r.getMessage())
