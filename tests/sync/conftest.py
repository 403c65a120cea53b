"""Fixtures of the sync tests: a broker of the test's own, a gateway with its MQTT link running."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from sync_helpers import Mosquitto, free_port  # noqa: E402

from gateway.config import SiteConfig, parse_config  # noqa: E402
from gateway.runtime.gateway import Gateway  # noqa: E402
from gateway.sync.service import SyncService  # noqa: E402

SITE = "test-site"

SITE_TOML = """
[site]
id = "{site_id}"
name = "测试小区"
data_dir = "{data_dir}"

[[zones]]
id = "main"
name = "车库"
capacity = {{ car = 100, motorcycle = 5, bicycle = 5 }}

[[gates]]
id = "north"
name = "北门"

[[lanes]]
id = "car-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "door"
gate = "north"
direction = "entrance"
type = "pedestrian"

[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
pulse_log = "{data_dir}/pulses.log"

[[devices]]
id = "door-lock"
lane = "door"
kind = "relay"
driver = "simulated"

[http]
port = {http_port}
"""


def mqtt_section(port: int, **settings: object) -> str:
    values: dict[str, object] = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "reconnect_min_s": 0.05,
        "reconnect_max_s": 0.5,
        "gap_wait_s": 0.3,
        "health_interval_s": 3600,
    }
    values.update(settings)
    lines = ["[mqtt]"]
    for key, value in values.items():
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, str | Path):
            lines.append(f'{key} = "{value}"')
        else:
            lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Make brokers (not started) that are stopped after the test, whatever happens in it."""
    made: list[Mosquitto] = []

    def make(**kwargs: object) -> Mosquitto:
        b = Mosquitto(tmp_path / f"broker{len(made)}", **kwargs)  # type: ignore[arg-type]
        made.append(b)
        return b

    yield make
    for b in made:
        b.stop()


@pytest.fixture
def broker(brokers: Callable[..., Mosquitto]) -> Mosquitto:
    b = brokers()
    b.start()
    return b


@pytest.fixture
def sync_cfg(tmp_path: Path) -> Callable[..., SiteConfig]:
    """A site config with [mqtt] pointing at `port`; keyword arguments go into [mqtt]."""

    def make(port: int, site_id: str = SITE, **settings: object) -> SiteConfig:
        data = tmp_path / ("data" if site_id == SITE else f"data-{site_id}")
        data.mkdir(exist_ok=True)
        text = SITE_TOML.format(data_dir=data, http_port=free_port(), site_id=site_id)
        text += "\n" + mqtt_section(port, **settings)
        return parse_config(text, "site.toml", base_dir=tmp_path)

    return make


@contextmanager
def running(cfg: SiteConfig) -> Iterator[tuple[Gateway, SyncService]]:
    gw = Gateway(cfg)
    service = SyncService(gw)
    gw.start()
    service.start()
    try:
        yield gw, service
    finally:
        service.stop()
        gw.stop()
