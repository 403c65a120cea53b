"""The evening rush's site: the test site's entrance and exit (car-in, car-out) and a second exit
(car-out2, 出口2), a relay at each exit; cameras are played by Presented, as tests/ui does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gateway.config import parse_config
from tests.conftest import TARIFF_TOML, site_toml
from tests.ui.conftest import DRIVEN, Site, served

SECOND_EXIT = """
[[lanes]]
id = "car-out2"
name = "出口2"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"

[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"

[[devices]]
id = "car-out2-barrier"
lane = "car-out2"
kind = "relay"
driver = "simulated"
"""


@contextmanager
def rush(data_dir: Path, policy: str = "") -> Iterator[tuple[Site, str]]:
    """The site served; `policy`: more [policy] lines (e.g. exit_without_entry = "charge")."""
    text = site_toml(data_dir)
    if policy:
        text = text.replace('anti_passback = "soft"\n', f'anti_passback = "soft"\n{policy}\n', 1)
        assert policy in text
    with served(parse_config(text + DRIVEN + TARIFF_TOML + SECOND_EXIT, "site.toml")) as s:
        yield s


def pulses(site: Site, lane: str) -> int:
    """How often the lane's barrier was told to open."""
    return sum(len(r.pulses) for r in site.gw.devices.lanes[lane].relays)  # type: ignore[attr-defined]
