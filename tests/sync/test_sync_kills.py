"""10,000 records while the broker is stopped and restarted twice and the gateway is SIGKILLed once.

The gateway runs as its own process (`gateway run`), as under systemd; the records are written to
its database by this test, like records the gateway itself makes, while it drains them upstream.
A subscriber with a persistent session must get every event id at least once, and in seq order once
duplicates are dropped.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from pathlib import Path

from conftest import SITE
from sync_helpers import Mosquitto, Subscriber, wait_for

from gateway.config import SiteConfig
from gateway.store.database import DB_NAME, open_database
from gateway.store.outbox import enqueue

TOTAL = 10_000


class GatewayProcess:
    def __init__(self, config: Path, workdir: Path):
        self.config = config
        self.log_path = workdir / "gateway.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "run", "-c", str(self.config)],
                stdout=log,
                stderr=log,
                env=env,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def test_ten_thousand_records_survive_broker_restarts_and_a_gateway_kill(
    brokers: Callable[..., Mosquitto],
    tmp_path: Path,
    sync_cfg: Callable[..., SiteConfig],
    record_property: Callable[[str, object], None],
) -> None:
    broker = brokers()
    broker.start()
    sub = Subscriber(
        broker,
        # and what a new gateway sends as it starts (its stream's first record, a snapshot request)
        [f"estate/{SITE}/events/{t}" for t in ("test", "outbox_started")]
        + [f"estate/{SITE}/status", f"estate/{SITE}/sync/request"],
        client_id="central-test",
        persistent=True,
    )
    cfg = sync_cfg(broker.port, keepalive_s=5)
    config = tmp_path / "site.toml"
    config.write_text(_toml(cfg, tmp_path))
    gateway = GatewayProcess(config, tmp_path)
    db_path = cfg.site.data_dir / DB_NAME
    open_database(db_path).conn.close()  # migrated before the producer writes
    producer = sqlite3.connect(db_path, isolation_level=None, timeout=30)
    produced: list[str] = []

    def produce(n: int) -> None:
        for start in range(0, n, 100):
            producer.execute("BEGIN IMMEDIATE")
            for i in range(start, min(n, start + 100)):
                produced.append(enqueue(producer, "test", {"n": len(produced), "i": i}, _now()))
            producer.execute("COMMIT")

    # The event ids the subscriber has, parsed once each as they come: parsing all of them every few
    # ms (with the subscriber's lock held, its network thread kept waiting) starved the drain on a
    # loaded CI machine ("gave up waiting for the drain to get going").
    ids: set[str] = set()
    parsed = 0

    def received() -> int:
        nonlocal parsed
        new = sub.messages[parsed:]
        parsed += len(new)
        ids.update(json.loads(p)["event_id"] for t, p, _ in new if t.endswith("/events/test"))
        return len(ids)

    def midway(more: int) -> None:
        """Wait until the subscriber has `more` records beyond now: the gateway is draining."""
        target = received() + more
        wait_for("the drain to get going", lambda: received() >= target, 60, 0.05)

    try:
        gateway.start()
        _wait_ready(cfg.http.port)
        produce(2500)
        midway(300)
        broker.stop()  # 1st broker stop, records in flight
        produce(1500)
        broker.start()
        produce(2000)
        midway(300)
        gateway.kill()  # SIGKILL while draining
        produce(1500)
        gateway.start()
        _wait_ready(cfg.http.port)
        produce(1500)
        midway(300)
        broker.stop()  # 2nd broker stop, records in flight
        produce(1000)
        broker.start()
        assert len(produced) == TOTAL
        wanted = set(produced)
        wait_for("every event id at the subscriber", lambda: received() and wanted <= ids, 120, 0.2)
        wait_for("the outbox drained", lambda: _unsent(db_path) == 0, 30, 0.1)
        gateway.stop()
        wait_for("the clean stop's status", lambda: b'"stopped"' in sub.messages[-1][1])
    finally:
        gateway.stop()
        sub.close()
        broker.stop()
        producer.close()

    got = sub.payloads("/events/test")
    seen: set[str] = set()
    first_seqs = []
    for m in got:
        if m["event_id"] not in seen:
            seen.add(m["event_id"])
            first_seqs.append(m["seq"])
    duplicates = len(got) - len(seen)
    record_property(
        "sync_figure",
        f"kill test: {TOTAL} records, {len(got)} deliveries to the subscriber, {duplicates} duplicates",
    )
    assert seen == set(produced)
    assert first_seqs == sorted(first_seqs), "after dropping duplicates the seqs must be in order"
    seq_of = {m["event_id"]: m["seq"] for m in got}
    assert [seq_of[e] for e in produced] == sorted(seq_of.values())
    statuses = [json.loads(p) for t, p, _ in sub.messages if t.endswith("/status")]
    # The broker published the last will when the killed gateway's connection dropped.
    assert any(s["state"] == "offline" and s.get("reason") == "connection lost" for s in statuses)
    assert statuses[-1]["state"] == "offline" and statuses[-1]["reason"] == "stopped"


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _unsent(db_path: Path) -> int:
    with sqlite3.connect(db_path, timeout=30) as conn:
        return int(
            conn.execute(
                "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL"
            ).fetchone()[0]
        )


def _wait_ready(port: int) -> None:
    def up() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1) as r:
                return json.load(r)["mqtt"]["state"] == "connected"
        except OSError:
            return False

    wait_for("the gateway process to connect", up, 60, 0.1)


def _toml(cfg: SiteConfig, tmp_path: Path) -> str:
    from conftest import SITE_TOML, mqtt_section

    m = cfg.mqtt
    return (
        SITE_TOML.format(data_dir=cfg.site.data_dir, http_port=cfg.http.port, site_id=SITE)
        + "\n"
        + mqtt_section(m.port, keepalive_s=m.keepalive_s)
    )
