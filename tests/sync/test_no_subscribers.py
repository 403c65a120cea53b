"""A broker restart that drops the persistent sessions: PUBACK 0x10 (no matching subscribers)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from conftest import SITE, running
from sync_helpers import Mosquitto, Subscriber, wait_for
from test_sync_uplink import CENTRE, produce, unsent

from gateway.config import SiteConfig
from gateway.sync.topics import Topics
from gateway.sync.uplink import Done, Message, NoSubscriber, Row, Uplink


def _scenario(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig], drop_sessions: bool
) -> tuple[list[str], list[str], str | None]:
    topics = CENTRE
    central = Subscriber(broker, topics, client_id="central", persistent=True)
    with running(sync_cfg(broker.port)) as (gw, service):
        ids = produce(gw, 3)
        wait_for("the first records at the centre", lambda: len(central.payloads("/test")) >= 3)
        central.close()  # the centre's consumer will reconnect after the broker is back
        broker.stop()
        if drop_sessions:  # restarted without its saved sessions (a new container, a lost volume)
            (broker.workdir / "mosquitto.db").unlink(missing_ok=True)
        ids += produce(gw, 5)  # recorded while the broker is down
        broker.start()
        # Acknowledged by the broker: marked sent, or answered "no matching subscribers".
        wait_for(
            "the offline records acknowledged",
            # The records' topic: a directory request answered "no subscriber" first named only its own.
            lambda: unsent(gw) == 0 or f"estate/{SITE}/events/test" in (service.link.last_error or ""),
            30,
        )
        shown = service.link.last_error
        time.sleep(0.5)
        central2 = Subscriber(broker, topics, client_id="central", persistent=True)
        ids += produce(gw, 2)
        try:
            with contextlib.suppress(AssertionError):  # the test's assertion says what is missing
                wait_for(
                    "every record at the centre", lambda: len(central2.payloads("/test")) >= len(ids) - 3, 15
                )
            time.sleep(1.0)
        finally:
            central2.close()
        wait_for("every record marked sent", lambda: unsent(gw) == 0, 15)
    got = [m["event_id"] for m in central.payloads("/test") + central2.payloads("/test")]
    return ids, got, shown


def test_control_records_reach_the_centre_across_a_broker_restart_that_keeps_sessions(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    ids, got, _ = _scenario(broker, sync_cfg, drop_sessions=False)
    assert sorted(set(got)) == sorted(ids)


def test_records_acked_with_no_matching_subscribers_are_not_lost(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    """The broker is restarted and loses its persistent sessions (mosquitto without its
    persistence file). The gateway reconnects first and drains the 5 records it kept while the
    broker was down; mosquitto acknowledges each with PUBACK 0x10 "no matching subscribers" and
    throws it away, since the centre's consumer has not subscribed again yet. The gateway marked
    them sent: the centre never got them (site_gaps showed them missing for ever) and nothing could
    send them again. The gateway treats 0x10 as not delivered, keeps those records pending and
    tries them again a little later, until a subscriber takes them (docs/mqtt.md: it "keeps every
    record, and sends them all ... when it returns"; "never depends on the broker's queue for
    upstream records"); /api/health says meanwhile that the centre is not subscribed."""
    ids, got, shown = _scenario(broker, sync_cfg, drop_sessions=True)
    missing = [i for i in ids if i not in got]
    assert missing == [], f"{len(missing)} of {len(ids)} records never reached the centre"
    # The records' topic among those named (a directory request held as well is named beside it).
    assert shown is not None and shown.startswith("no subscriber for ")
    assert f"estate/{SITE}/events/test" in shown, shown


def test_a_topic_nobody_subscribes_to_waits_and_is_tried_one_record_at_a_time() -> None:
    """The centre never subscribes to one record type: its records stay in the outbox, one of them
    is sent now and then (after 1 s, 2 s, ... at most a minute) to see whether anyone subscribes
    yet, and the other types' records go up meanwhile, none held up behind it."""
    rows = [(seq, f"id-{seq}", "test" if seq % 2 else "alarm", "{}") for seq in range(1, 7)]
    sent: set[int] = set()

    def fetch(after: int, limit: int) -> list[Row]:
        return [r for r in rows if r[0] > after and r[0] not in sent][:limit]

    up = Uplink(Topics("estate", SITE), fetch, 10, 10**6)
    up.start_session(10, None)
    mids = iter(range(1, 1000))

    def publish(now: float) -> list[Message]:
        messages, _ = up.take(10, now)
        for m in messages:
            up.sent(next(mids), m)
        return messages

    def answer(code: int, now: float) -> list[Done | NoSubscriber]:
        out = []
        for mid, m in list(up.in_flight.items()):
            outcome = up.acked(mid, code if m.topic.endswith("/test") else 0, now)
            assert isinstance(outcome, Done | NoSubscriber)
            if isinstance(outcome, Done):
                sent.add(outcome.seq)
                up.settled([outcome.seq])
            out.append(outcome)
        return out

    assert [m.seq for m in publish(0.0)] == [1, 2, 3, 4, 5, 6]
    nobody = [o for o in answer(0x10, 0.0) if isinstance(o, NoSubscriber)]
    assert [(o.seq, o.first, o.retry_in) for o in nobody] == [
        (1, True, 1.0),
        (3, False, 1.0),
        (5, False, 1.0),
    ]
    assert sent == {2, 4, 6}  # the alarms went up
    assert up.held_spans() == [(1, ["test"])]  # kept pending, not taken for rows put back in line
    rows.append((7, "id-7", "alarm", "{}"))
    up.wake()  # as a new record does
    assert [m.seq for m in publish(0.5)] == [7]  # other records carry on while test waits
    answer(0x10, 0.5)
    assert publish(0.9) == []
    assert [m.seq for m in publish(1.0)] == [1]  # one record tries the topic again
    assert publish(1.5) == []
    assert [(o.seq, o.retry_in) for o in answer(0x10, 1.5) if isinstance(o, NoSubscriber)] == [(1, 2.0)]
    assert publish(3.4) == []
    assert [m.seq for m in publish(3.5)] == [1]
    answer(0, 3.5)  # the centre subscribes: the records kept go up, oldest first
    assert [m.seq for m in publish(3.5)] == [3, 5]
    answer(0, 3.5)
    assert sent == set(range(1, 8)) and up.held_topics() == set()
