"""Review 52d: two records the broker will not take, a good record between them, on a fast link."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable

import pytest
from conftest import running
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_uplink import CENTRE, outbox, produce, unsent

from gateway.config import SiteConfig
from gateway.runtime.gateway import Gateway
from gateway.store.outbox import enqueue

CLASH = "is unique on the broker: another box may use it"


def _queue(gw: Gateway, sizes: list[int]) -> list[str]:
    def write(conn: sqlite3.Connection) -> list[str]:
        conn.execute("BEGIN IMMEDIATE")
        ids = [enqueue(conn, "test", {"n": i, "pad": "x" * s}, gw.now()) for i, s in enumerate(sizes)]
        conn.execute("COMMIT")
        return ids

    return gw.on_worker(write).result(timeout=10)


def _sent_again_by_gateway(gw: Gateway) -> list[str]:
    with sqlite3.connect(gw.db_path) as conn:
        return [
            d
            for (d,) in conn.execute(
                "SELECT detail FROM audit WHERE action = 'outbox.send_again' AND actor = 'gateway'"
            )
        ]


def test_a_second_poison_record_after_a_good_one_does_not_put_the_first_back_nor_name_a_clash(
    brokers: Callable[..., Mosquitto],
    sync_cfg: Callable[..., SiteConfig],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two records over mosquitto's message_size_limit with a good record between them (a lane's
    record between two oversized ones). The first is set aside after three drops; on the next
    connection the good record is acknowledged and the broker closes the connection over the
    second. That drop has a message unacknowledged at it (docs/mqtt.md: only 'nothing after one
    was put down to a message' makes the run the connection's), yet the link took it as the
    connection's: the first poison record was put back in line (audited as the gateway's
    send_again), sent again and set aside a second time, and the journal and /api/health told the
    installer to look for a second box using the client id."""
    broker = brokers(extra="message_size_limit 3000\n")
    broker.start()
    sub = Subscriber(broker, CENTRE)
    errors: list[str] = []
    cfg = sync_cfg(broker.port, reconnect_min_s=0.2, reconnect_max_s=1.0)
    with caplog.at_level(logging.INFO), running(cfg) as (gw, service):
        produce(gw, 2)
        wait_for("the first records", lambda: len(sub.payloads("/test")) >= 2)
        p1, good, p2, good2 = _queue(gw, [5000, 0, 5000, 0])

        def settled() -> bool:
            errors.append(service.link.last_error or "")
            return unsent(gw) == 0 and good in {m["event_id"] for m in sub.payloads("/test")}

        wait_for("every row settled", settled, 60)
        for _ in range(40):  # a few more seconds: does anything come back?
            errors.append(service.link.last_error or "")
            time.sleep(0.1)
        rows = {event_id: (seq, q) for seq, event_id, _, q in outbox(gw)}
        again = _sent_again_by_gateway(gw)
        delivered = [m["event_id"] for m in sub.payloads("/test")]
    sub.close()
    warned = sorted(
        {r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and CLASH in r.getMessage()}
    )
    shown = sorted({e for e in errors if CLASH in e})
    assert rows[p1][1] is not None and rows[p2][1] is not None, (rows[p1], rows[p2])
    assert good in delivered and good2 in delivered
    assert not again, (
        f"the first poison record seq={rows[p1][0]} was put back in line by the gateway ({again}) when "
        f"the broker closed the connection over the second one (seq={rows[p2][0]}); journal: {warned[:1]}"
    )
    assert not warned and not shown, (
        f"two records the broker will not take were blamed on a client id clash: journal {warned[:1]}, "
        f"/api/health {shown[:1]}"
    )
