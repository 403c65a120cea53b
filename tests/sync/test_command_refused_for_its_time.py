"""A signed command refused for its time (`not_yet_valid`, `expired`: the box's clock wrong) never
runs later, in whatever spelling it comes again (docs/mqtt.md, Remote commands: "a captured command
cannot be replayed"). Found by reviewer 59d: the copy check compared bytes, while the signature
covers the canonical form, and such a refusal left the command's id unused."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sync_helpers import Mosquitto
from test_sync_commands import command, pulses, send, write_key
from test_sync_downlink import _site

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway


@pytest.fixture
def slow_clock(monkeypatch: pytest.MonkeyPatch) -> list[timedelta]:
    """The box's clock behind by offset[0] (a Pi without RTC whose NTP has not caught up)."""
    offset = [timedelta(seconds=-90)]
    real_now = Gateway.now
    monkeypatch.setattr(Gateway, "now", lambda self: real_now(self) + offset[0])
    return offset


def _copy_handled(
    site: Any, copy: bytes, answered_before: tuple[dict[str, Any], ...] = ()
) -> list[dict[str, Any]]:
    """`copy` published; the replies to its id since (commands are handled in turn: once the next
    one is answered, the copy was handled), but for `answered_before`: the reply to the command
    itself, which a restarted gateway may deliver again from its outbox (at least once), the same
    record (its stream and seq), no answer to the copy."""
    cid = json.loads(copy)["id"]
    before = len(site.upstream("/cmd/reply"))
    site.central.publish("cmd", copy)
    assert send(site, command("resync", {"reason": "after the copy"}))["ok"] is True
    known = {(r.get("stream"), r.get("seq")) for r in answered_before}
    return [
        r
        for r in site.upstream("/cmd/reply")[before:]
        if r.get("id") == cid and (r.get("stream"), r.get("seq")) not in known
    ]


def test_a_command_refused_not_yet_valid_does_not_open_the_gate_once_the_clock_is_right(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], slow_clock: list[timedelta]
) -> None:
    """The operator's open_lane is refused `not_yet_valid` and he sends a guard instead. Whoever
    captured it on the broker publishes it again with one space added 40 s later, valid by then:
    the barrier opened, on the record as the operator's, after the centre was told it did not."""
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    body = command("open_lane", {"lane": "car-in", "reason": "访客"}, life=120)
    with _site(broker, cfg) as site:
        first = send(site, body)
        assert (first["ok"], first["code"]) == (False, "not_yet_valid")
        slow_clock[0] = timedelta(seconds=-50)  # within the skew now
        assert _copy_handled(site, (" " + json.dumps(body)).encode()) == []
        assert _copy_handled(site, json.dumps(body, indent=1).encode()) == []
        assert pulses(site) == []


def test_a_command_refused_not_yet_valid_does_not_open_the_gate_after_a_restart(
    broker: Mosquitto,
    sync_cfg: Callable[..., SiteConfig],
    slow_clock: list[timedelta],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its id is kept on record as an accepted command's is, not only in memory: a restart
    between the refusal and the copy lets it in no more."""
    caplog.set_level(logging.INFO, logger="gateway.sync.commands")
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    body = command("open_lane", {"lane": "car-in", "reason": "访客"}, life=120)
    with _site(broker, cfg) as site:
        refused = send(site, body)
        assert refused["code"] == "not_yet_valid"
    slow_clock[0] = timedelta(seconds=-50)
    with _site(broker, cfg) as site:
        assert _copy_handled(site, json.dumps(body).encode(), (refused,)) == []
        assert pulses(site) == []
        assert any("received again" in r.getMessage() for r in caplog.records)


def test_a_command_refused_expired_is_not_run_when_the_clock_steps_back(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], slow_clock: list[timedelta]
) -> None:
    """A box whose clock ran ten minutes fast refuses the command `expired`; NTP sets it right, and
    a copy with its keys in another order, valid by then, is not run either."""
    slow_clock[0] = timedelta(minutes=10)
    cfg = sync_cfg(broker.port)
    write_key(cfg)
    body = command("open_lane", {"lane": "car-in", "reason": "访客"}, life=120)
    with _site(broker, cfg) as site:
        assert send(site, body)["code"] == "expired"
        slow_clock[0] = timedelta(0)
        reordered = json.dumps(dict(reversed(list(body.items())))).encode()
        assert _copy_handled(site, reordered) == []
        assert pulses(site) == []
