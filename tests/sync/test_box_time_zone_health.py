"""/api/health on a box whose own zone (UTC, as a fresh Raspberry Pi OS image) is not the site's
(Asia/Shanghai): README says every answer of the API gives its times in the site's time zone."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.config import SiteConfig
from tests.sync.conftest import running
from tests.sync.sync_helpers import Mosquitto, wait_for


@pytest.fixture
def box_on_utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process's own zone is the box's (UTC), not the site's; put back after the test."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_health_says_since_when_the_link_is_up_in_the_sites_time(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], box_on_utc: None
) -> None:
    """The installer in Shanghai checks /api/health at 16:00 after the centre said records stopped
    arriving: mqtt.since (connected since) read 08:00+00:00 on a box left on UTC, while every other
    time the API gives (decisions, alarms, passes) is the site's +08:00; change the box's zone and
    the answer changed. It is the site's time, e.g. ...T16:00:00+08:00 (and so is last_error_at)."""
    cfg = sync_cfg(broker.port)
    with running(cfg) as (gw, service):
        api = TestClient(create_app(gw, service))
        wait_for("the link", lambda: service.link.state == "connected")
        service.link.last_error_at = time.time()  # as a refused connect leaves it
        mqtt = api.get("/api/health").json()["mqtt"]
    assert mqtt["state"] == "connected"
    assert mqtt["since"].endswith("+08:00"), mqtt["since"]
    assert mqtt["last_error_at"].endswith("+08:00"), mqtt["last_error_at"]
    since = datetime.fromisoformat(mqtt["since"])
    assert abs(since - datetime.now(ZoneInfo("Asia/Shanghai"))) < timedelta(minutes=1), mqtt["since"]
