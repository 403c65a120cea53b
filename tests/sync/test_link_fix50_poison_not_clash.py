"""A record the broker closes the connection over, sent three times: what the journal and
/api/health say."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from conftest import running
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_uplink import CENTRE, outbox, produce, unsent

from gateway.config import SiteConfig

CLASH = "is unique on the broker: another box may use it"
QUARANTINED = "closed the connection each of the 3 times this record was sent"


def test_a_record_the_broker_will_not_take_is_not_blamed_on_a_second_box_with_the_client_id(
    brokers: Callable[..., Mosquitto],
    sync_cfg: Callable[..., SiteConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One record is over the broker's message_size_limit: mosquitto drops the connection each
    time it is sent, and the gateway quarantines it after the third drop (it knows that record
    did it). On the same drop the journal warned, and /api/health's last_error said, to check that
    the client id is unique because another box may use it: the installer went looking for a
    second box that does not exist. A drop the gateway puts down to a record is not a client id
    clash, and last_error gives the quarantine's reason."""
    broker = brokers(extra="message_size_limit 3000\n")
    broker.start()
    sub = Subscriber(broker, CENTRE)
    errors: list[str] = []
    cfg = sync_cfg(broker.port, reconnect_min_s=0.2, reconnect_max_s=2.0)
    with caplog.at_level(logging.INFO), running(cfg) as (gw, service):
        produce(gw, 2)
        wait_for("the first records", lambda: len(sub.payloads("/test")) >= 2)
        poison = produce(gw, 1, size=5000)[0]
        produce(gw, 3)

        def settled() -> bool:
            errors.append(service.link.last_error or "")
            return unsent(gw) == 0

        wait_for("every row settled", settled)
        rows = {event_id: (seq, q) for seq, event_id, _, q in outbox(gw)}
    sub.close()
    seq, why = rows[poison]
    assert why is not None and QUARANTINED in why  # the record did it
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    told = [m for m in warned if CLASH in m]
    assert not told, f"a record the broker would not take was blamed on a client id clash: {told}"
    shown = sorted({e for e in errors if CLASH in e})
    assert not shown, f"/api/health's last_error blamed a client id clash: {shown}"
    said = [e for e in errors if QUARANTINED in e]
    assert said and f"seq={seq}" in said[0], sorted(set(errors))
