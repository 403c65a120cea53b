"""A broker whose ACL refuses the gateway's subscription to one of the centre's topics (a SUBACK
of 0x87, as EMQX, HiveMQ or AWS IoT answer): the centre's commands never reached the gateway and
nothing said so, since the link was 'connected' and /api/health showed no error. The installer is
now told, with the fix, and once the ACL is fixed the gateway subscribes again without a restart."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from conftest import SITE, running
from fastapi.testclient import TestClient
from suback_link import SubackRefusingLink
from sync_helpers import Central, Mosquitto, Subscriber, wait_for
from test_sync_commands import KEY, command

from gateway.api.app import create_app
from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.sync import subscription
from gateway.sync.service import SyncService


def _refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR and "refuses this gateway's subscription" in r.getMessage()
    ]


@contextmanager
def _refused(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> Iterator[tuple[SubackRefusingLink, Gateway, SyncService]]:
    """A gateway whose subscription to its commands (the last downlink topic) the broker refuses."""
    link = SubackRefusingLink(broker.port)
    cfg = sync_cfg(link.port)
    (cfg.site.data_dir / "command.key").write_text(KEY.decode() + "\n")
    try:
        with running(cfg) as (gw, service):
            wait_for("the refusal told", lambda: _refusals(caplog), 15)
            yield link, gw, service
    finally:
        link.close()


def test_a_refused_subscription_to_commands_is_told_with_its_fix(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], caplog: pytest.LogCaptureFixture
) -> None:
    watch = Subscriber(broker, [f"estate/{SITE}/#"], client_id="central-watch")  # takes every record
    try:
        with _refused(broker, sync_cfg, caplog) as (_, gw, service):
            health = TestClient(create_app(gw, service)).get("/api/health").json()
            listening = service.link.listening
    finally:
        watch.close()
    error = health["mqtt"]["last_error"] or ""
    assert f"estate/{SITE}/cmd" in error and "commands do not reach this gateway" in error, error
    assert f"topic read estate/{SITE}/cmd" in error, error
    assert "sync/snapshot" not in error  # the topics granted are not named
    assert len(_refusals(caplog)) == 1
    assert not listening


def test_commands_reach_the_gateway_once_the_acl_is_fixed_without_a_restart(
    broker: Mosquitto,
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(subscription, "ASK_AGAIN_S", 1.0)
    watch = Subscriber(broker, [f"estate/{SITE}/#"], client_id="central-watch")
    central = Central(broker, SITE)
    body = command("resync", {"reason": "after the ACL fix"})
    try:
        with _refused(broker, sync_cfg, caplog) as (link, gw, service):
            wait_for("asked again, refused again", lambda: link.subacks >= 2, 10)
            link.refusing = False  # the installer fixed the ACL
            wait_for("the subscription granted", lambda: service.link.listening, 10)
            central.publish("cmd", json.dumps(body).encode())
            replies = wait_for(
                "the reply",
                lambda: [r for r in watch.payloads("/cmd/reply") if r.get("id") == body["id"]],
            )
            last_error = service.link.last_error
    finally:
        central.close()
        watch.close()
    assert [r["ok"] for r in replies] == [True]
    assert last_error is None
    assert len(_refusals(caplog)) == 1  # asked again and refused again: not told again


def test_a_reconnect_after_a_long_outage_reads_each_suback_against_its_own_topics(
    broker: Mosquitto,
    sync_cfg: Callable[..., SiteConfig],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Down longer than ASK_AGAIN_S after a refusal, then a broker a SUBACK round trip away: the
    connect's SUBSCRIBE (three topics) and the timer's (the refused one) overlapped, the first
    SUBACK was read against the second's topics, and the journal said the broker let the gateway
    subscribe again (last_error cleared, then the refusal told a second time) though it never had."""
    caplog.set_level(logging.INFO, logger="gateway.sync.subscription")
    monkeypatch.setattr(subscription, "ASK_AGAIN_S", 1.0)  # stands for the 10 min
    listening: list[bool] = []
    with _refused(broker, sync_cfg, caplog) as (link, _, service):
        link.go_offline()
        wait_for("the link down", lambda: service.link.state != "connected", 10)
        time.sleep(2.0)  # past ASK_AGAIN_S
        link.suback_delay = 0.4
        link.offline = False
        wait_for("connected again", lambda: service.link.state == "connected", 15)
        before = link.subacks
        deadline = time.monotonic() + 15
        while link.subacks < before + 2 and time.monotonic() < deadline:  # the connect's, a timer's
            listening.append(service.link.listening)
            time.sleep(0.01)
        assert link.subacks >= before + 2, "the refused topic was not asked for again"
    granted = [r for r in caplog.records if "lets this gateway subscribe" in r.getMessage()]
    assert granted == []
    assert len(_refusals(caplog)) == 1
    assert not any(listening)
