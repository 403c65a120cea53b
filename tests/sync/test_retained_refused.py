"""A retained topic (health) the broker's ACL refuses with a PUBACK reason code: the installer is
told on /api/health, and it goes up again once the ACL is fixed."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import SITE, running
from fastapi.testclient import TestClient
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_uplink import produce

from gateway.api.app import create_app
from gateway.config import SiteConfig
from gateway.sync import retained

ACL_NO_HEALTH = f"""user gw
topic write estate/{SITE}/status
topic write estate/{SITE}/events/#
topic write estate/{SITE}/sync/state
topic read estate/{SITE}/sync/#
topic read estate/{SITE}/cmd

user central
topic read estate/#
"""
ACL_FIXED = ACL_NO_HEALTH.replace(
    f"topic write estate/{SITE}/status\n",
    f"topic write estate/{SITE}/status\ntopic write estate/{SITE}/health\n",
)


def _setup(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> tuple[Mosquitto, SiteConfig]:
    broker = brokers(users={"gw": "gw-pass", "central": "c-pass"}, acl=ACL_NO_HEALTH)
    broker.start()
    (tmp_path / "pw").write_text("gw-pass\n")
    cfg = sync_cfg(broker.port, username="gw", password_file=tmp_path / "pw", health_interval_s=0.5)
    return broker, cfg


def test_health_refused_by_the_acl_is_shown_on_api_health(
    brokers: Callable[..., Mosquitto],
    tmp_path: Path,
    sync_cfg: Callable[..., SiteConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The installer's ACL forgets `health`: mosquitto refuses it (PUBACK 0x87). The installer
    looked at /api/health and saw status ok, no mqtt.last_error: nothing said the centre gets no
    health reports. docs/mqtt.md says a retained message the broker will not take is reported in
    mqtt.last_error on /api/health with the fix; a plain ACL refusal is too."""
    broker, cfg = _setup(brokers, tmp_path, sync_cfg)
    # The centre takes the gateway's records (its first, `outbox_started`, among them): none is
    # held for want of a subscriber, which /api/health would show instead.
    central = Subscriber(broker, [f"estate/{SITE}/events/#"], username="central", password="c-pass")
    with running(cfg) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        wait_for("the broker refusing health", lambda: "the broker refuses" in caplog.text, 15)
        time.sleep(1.0)
        health = TestClient(create_app(gw, service)).get("/api/health").json()
    central.close()
    broker.stop()
    error = health["mqtt"]["last_error"]
    assert error and f"estate/{SITE}/health" in error and "ACL" in error, health["mqtt"]


def test_health_goes_up_again_once_the_acl_is_fixed(
    brokers: Callable[..., Mosquitto],
    tmp_path: Path,
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After the installer fixes the ACL (mosquitto reloads it on SIGHUP), the centre gets this
    gateway's health reports again, as records set aside go up again once their cause is fixed and
    a retained topic the broker dropped the link over is tried again after a while
    (RETAINED_HOLD_S, shortened here to 1 s). Health was never published again by this process:
    the centre's monitoring showed the gateway's health missing until someone restarted it."""
    monkeypatch.setattr(retained, "RETAINED_HOLD_S", 1.0)
    broker, cfg = _setup(brokers, tmp_path, sync_cfg)
    with running(cfg) as (gw, service):
        wait_for("the link", lambda: service.link.state == "connected")
        wait_for("the broker refusing health", lambda: "the broker refuses" in caplog.text, 15)
        (broker.workdir / "acl").write_text(ACL_FIXED)
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        sub = Subscriber(broker, [f"estate/{SITE}/health"], username="central", password="c-pass")
        produce(gw, 3)  # records still flow meanwhile
        try:
            got = wait_for("a health report after the fix", lambda: sub.messages, 20)
        finally:
            sub.close()
    broker.stop()
    assert json.loads(got[-1][1])["type"] == "health"
