"""Review 66 I2: the central server's snapshot carrying a card number no reader of the site gives
(the hex id 0016363D4E as 16363D4E, its zeros lost) is refused (`sync_error` naming the entry and
the padded number), as `gateway import` refuses it; it was taken, and its resident refused at every
reader."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import SITE_TOML, mqtt_section
from sync_helpers import Mosquitto, free_port, wait_for
from test_sync_downlink import Site, _site, card, resident

from gateway.config import parse_config

HEX_DOOR = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
format = "em4100"
"""


@pytest.fixture
def hex_site(broker: Mosquitto, tmp_path: Path) -> Iterator[Site]:
    data = tmp_path / "data"
    data.mkdir()
    text = SITE_TOML.format(data_dir=data, http_port=free_port(), site_id="test-site") + HEX_DOOR
    cfg = parse_config(text + "\n" + mqtt_section(broker.port), "site.toml", base_dir=tmp_path)
    with _site(broker, cfg) as s:
        yield s


def test_a_snapshot_card_no_reader_gives_is_refused(hex_site: Site) -> None:
    hex_site.snapshot(1, [resident("R1"), card("16363D4E", "R1")])
    wait_for("the snapshot refused", lambda: hex_site.upstream("/sync/error"), 30)
    (error,) = hex_site.upstream("/sync/error")
    said = " ".join(error["problems"])
    assert error["code"] == "invalid" and "has 8 hex digits" in said and "0016363D4E" in said, error
    assert hex_site.rows("SELECT value FROM credentials WHERE kind = 'card'") == []
