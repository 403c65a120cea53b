"""What the broker refuses: a topic its ACL forbids, too large a record, bad credentials, TLS."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import SITE, running
from fastapi.testclient import TestClient
from sync_helpers import Mosquitto, Subscriber, free_port, make_certs, wait_for
from test_sync_uplink import CENTRE, outbox, produce, unsent

from gateway.api.app import create_app
from gateway.config import SiteConfig
from gateway.store.set_aside import send_again

GW_ACL = f"""user gw
topic write estate/{SITE}/status
topic write estate/{SITE}/health
topic write estate/{SITE}/events/test
topic write estate/{SITE}/events/alarm
topic write estate/{SITE}/events/outbox_quarantined
topic write estate/{SITE}/events/outbox_started
topic write estate/{SITE}/sync/request
topic read estate/{SITE}/sync/#
topic read estate/{SITE}/cmd

user central
topic read estate/#
"""


def alarms(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT kind, source, message FROM alarms WHERE cleared_at IS NULL").fetchall()


def _behind_an_acl(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> tuple[Mosquitto, Subscriber, SiteConfig]:
    """A broker whose ACL lets the gateway write only GW_ACL's topics, the central side subscribed."""
    broker = brokers(users={"gw": "gw-pass", "central": "c-pass"}, acl=GW_ACL)
    broker.start()
    (tmp_path / "pw").write_text("gw-pass\n")
    sub = Subscriber(broker, CENTRE, username="central", password="c-pass")
    return broker, sub, sync_cfg(broker.port, username="gw", password_file=tmp_path / "pw")


def test_a_topic_the_acl_refuses_is_quarantined_and_the_rest_flows(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    broker, sub, cfg = _behind_an_acl(brokers, tmp_path, sync_cfg)
    with running(cfg) as (gw, service):
        before = produce(gw, 3)
        forbidden = produce(gw, 1, "forbidden")[0]
        after = produce(gw, 3)
        wait_for(
            "six records and a quarantine notice",
            lambda: len(sub.payloads("/test")) >= 6 and sub.payloads("/outbox_quarantined"),
        )
        wait_for("the row set aside", lambda: unsent(gw) == 0)
        rows = {event_id: (sent, why) for _, event_id, sent, why in outbox(gw)}
        health = TestClient(create_app(gw, service)).get("/api/health").json()
        open_alarms = alarms(gw.db_path)
    sub.close()
    broker.stop()
    assert [m["event_id"] for m in sub.payloads("/test")] == before + after
    assert rows[forbidden][0] is None and "not authorized" in rows[forbidden][1]
    notice = sub.payloads("/outbox_quarantined")[0]
    assert notice["quarantined_event_id"] == forbidden and notice["record_type"] == "forbidden"
    assert [(k, s) for k, s, _ in open_alarms] == [("outbox_quarantine", "forbidden")]
    assert health["outbox_quarantined"] == 1 and health["outbox_pending"] == 0


def test_a_record_larger_than_allowed_is_quarantined_before_sending(
    broker: Mosquitto, sync_cfg: Callable[..., SiteConfig]
) -> None:
    # events/#: the outbox_quarantined and alarm records need a subscriber to be marked sent.
    sub = Subscriber(broker, CENTRE)
    with running(sync_cfg(broker.port, max_message_bytes=2048)) as (gw, _):
        small = produce(gw, 2)
        big = produce(gw, 1, size=4000)[0]
        small += produce(gw, 2)
        wait_for("the small records", lambda: len(sub.payloads("/test")) >= 4)
        wait_for("the big one set aside", lambda: unsent(gw) == 0)
        why = {event_id: q for _, event_id, _, q in outbox(gw)}[big]
    sub.close()
    assert [m["event_id"] for m in sub.payloads("/test")] == small
    assert why is not None and why.startswith("too large")


def test_a_record_that_makes_the_broker_drop_the_connection_is_quarantined(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    # mosquitto answers a message over message_size_limit with a PUBACK code paho cannot parse, and
    # paho closes the connection: every resend of that record would loop forever.
    broker = brokers(extra="message_size_limit 3000\n")
    broker.start()
    sub = Subscriber(broker, CENTRE)  # the quarantine's records too
    with running(sync_cfg(broker.port)) as (gw, service):
        first = produce(gw, 2)
        wait_for("the first records", lambda: len(sub.payloads("/test")) >= 2)
        poison = produce(gw, 1, size=5000)[0]
        rest = produce(gw, 5)
        wait_for("every row settled", lambda: unsent(gw) == 0)
        wait_for(
            "the records after the poison one",
            lambda: set(rest) <= {m["event_id"] for m in sub.payloads("/test")},
        )
        why = {event_id: q for _, event_id, _, q in outbox(gw)}[poison]
        dropped = service.link.attempts
    sub.close()
    broker.stop()
    # Records behind the poison one may have reached the broker before it dropped the connection:
    # sent again, they arrive twice (at least once), still in order once duplicates are dropped.
    assert list(dict.fromkeys(m["event_id"] for m in sub.payloads("/test"))) == first + rest
    assert why is not None and "closed the connection each of the 3 times" in why
    assert dropped == 0  # connected again afterwards


def test_wrong_password_is_reported_and_retried_slowly(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    broker = brokers(users={"gw": "right"})
    broker.start()
    (tmp_path / "pw").write_text("wrong\n")
    cfg = sync_cfg(broker.port, username="gw", password_file=tmp_path / "pw", auth_retry_s=120)
    with running(cfg) as (gw, service):
        wait_for("the refusal", lambda: service.link.state == "refused")
        status = service.link.status()
        health = TestClient(create_app(gw, service)).get("/api/health").json()
    broker.stop()
    assert "refused the connection: not authorized" in status["last_error"]
    assert status["attempts"] == 1
    # The next attempt is a couple of minutes away (auth_retry_s with jitter), not a tight loop.
    assert status["next_attempt_in_s"] >= 0.75 * 120 - 5
    assert health["status"] == "degraded" and health["mqtt"]["state"] == "refused"
    assert "wrong" not in json.dumps(health)  # the password itself never shows


@contextlib.contextmanager
def refusing_broker(code: int) -> Iterator[tuple[int, list[float]]]:
    """A fake broker that answers every CONNECT with CONNACK `code`: mosquitto never sends 0x88
    or 0x89, which EMQX and HiveMQ send while a node starts or is overloaded."""
    srv = socket.create_server(("127.0.0.1", free_port()))
    srv.settimeout(0.1)
    attempts: list[float] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except TimeoutError:
                continue
            with c:
                attempts.append(time.monotonic())
                c.settimeout(2)
                with contextlib.suppress(OSError):
                    c.recv(4096)  # CONNECT
                    c.sendall(bytes([0x20, 3, 0, code, 0]))  # CONNACK: flags, reason, no properties

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield srv.getsockname()[1], attempts
    finally:
        stop.set()
        thread.join()
        srv.close()


@pytest.mark.parametrize("code", [0x88, 0x89, 0x9F], ids=["unavailable", "busy", "rate"])
def test_a_busy_broker_is_retried_with_the_normal_backoff(
    code: int, sync_cfg: Callable[..., SiteConfig]
) -> None:
    with refusing_broker(code) as (port, attempts):
        cfg = sync_cfg(port, auth_retry_s=120)
        with running(cfg) as (gw, service):
            # With auth_retry_s the second attempt would be 90 s or more away.
            wait_for("three attempts", lambda: len(attempts) >= 3, 20)
            states: set[str] = set()
            for _ in range(50):
                states.add(service.link.state)
                time.sleep(0.01)
            health = TestClient(create_app(gw, service)).get("/api/health").json()
    assert states <= {"offline", "connecting"}
    assert "refused the connection" in health["mqtt"]["last_error"]
    assert health["status"] == "ok"


def test_missing_password_file_is_an_error_on_the_health_page(
    broker: Mosquitto, tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    cfg = sync_cfg(broker.port, username="gw", password_file=tmp_path / "nope")
    with running(cfg) as (_, service):
        wait_for("the setup error", lambda: service.link.state == "error")
        status = service.link.status()
    assert "cannot read [mqtt] password_file" in status["last_error"]


def test_tls_with_client_certificates(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    tls = make_certs(tmp_path / "certs")
    broker = brokers(tls=tls, require_certificate=True)
    broker.start()
    sub = Subscriber(broker, [f"estate/{SITE}/events/test"], tls=tls)
    cfg = sync_cfg(broker.port, ca_file=tls.ca, cert_file=tls.client_cert, key_file=tls.client_key)
    with running(cfg) as (gw, service):
        ids = produce(gw, 20)
        wait_for("records over TLS", lambda: len(sub.payloads()) >= 20)
        assert service.link.status()["tls"] is True
    sub.close()
    broker.stop()
    assert [m["event_id"] for m in sub.payloads()] == ids


def test_tls_with_the_wrong_ca_is_reported(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    tls = make_certs(tmp_path / "certs")
    other = make_certs(tmp_path / "other")
    broker = brokers(tls=tls)
    broker.start()
    cfg = sync_cfg(broker.port, ca_file=other.ca)
    with running(cfg) as (gw, service):
        produce(gw, 3)
        wait_for("the TLS failure", lambda: service.link.last_error)
        status = service.link.status()
        pending = len(outbox(gw, "topic = 'test' AND sent_at IS NULL"))
    broker.stop()
    assert "certificate verify failed" in status["last_error"]
    assert pending == 3


def test_a_quarantined_record_is_sent_again_once_the_acl_allows_it(
    brokers: Callable[..., Mosquitto], tmp_path: Path, sync_cfg: Callable[..., SiteConfig]
) -> None:
    broker, sub, cfg = _behind_an_acl(brokers, tmp_path, sync_cfg)
    with running(cfg) as (gw, service):
        before = produce(gw, 2)
        refused = produce(gw, 1, "forbidden")[0]
        after = produce(gw, 2)
        wait_for("the refused record set aside", lambda: unsent(gw) == 0 and len(sub.payloads("/test")) >= 4)
        connected_since = service.link.state_since
        # The installer lets the gateway write that topic, and the broker reloads its ACL...
        allowed = f"topic write estate/{SITE}/events/test\ntopic write estate/{SITE}/events/forbidden\n"
        (broker.workdir / "acl").write_text(
            GW_ACL.replace(f"topic write estate/{SITE}/events/test\n", allowed)
        )
        assert broker.proc is not None
        broker.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        # ...then puts the record back in line from the command line (another process).
        with sqlite3.connect(gw.db_path, isolation_level=None) as conn:
            seqs = send_again(conn, None, gw.now(), "cli:installer")
        assert seqs == [seq for seq, event_id, _, _ in outbox(gw) if event_id == refused]
        wait_for("the record sent again", lambda: sub.payloads("/forbidden"))
        wait_for("marked sent", lambda: outbox(gw, "sent_at IS NULL") == [])
        reconnected = service.link.state_since != connected_since
    sub.close()
    broker.stop()
    assert [m["event_id"] for m in sub.payloads("/forbidden")] == [refused]
    assert not reconnected  # picked up behind the cursor, not by a new session
    assert [m["event_id"] for m in sub.payloads("/test")] == before + after  # nothing else went twice
