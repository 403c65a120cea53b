"""The centre's side of a running parking gateway: the parking tests' estate (tests/parking/conftest.py,
seeded the same, relays at both car lanes) with its MQTT link on to a real Mosquitto of the test's
own, a subscriber that takes every record as a central consumer does (docs/mqtt.md, Running the
central side), a clock the test moves, and an admin's API client."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sync_helpers import Mosquitto, Subscriber, wait_for

from gateway.api.app import create_app
from gateway.config import SiteConfig, parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.accounts import create_token
from gateway.store.admin import import_csv
from gateway.sync.service import SyncService
from tests.conftest import write_csv
from tests.parking.conftest import PARKING_TOML, T0, seed
from tests.rush_helpers import RELAYS

ROOT = Path(__file__).resolve().parents[2]

H = timedelta(hours=1)
M = timedelta(minutes=1)
SITE = "park-site"


def mqtt_toml(port: int) -> str:
    return textwrap.dedent(
        f"""
        [mqtt]
        enabled = true
        host = "127.0.0.1"
        port = {port}
        reconnect_min_s = 0.05
        reconnect_max_s = 0.5
        gap_wait_s = 0.3
        health_interval_s = 3600
        """
    )


class Centre:
    """The estate's gateway as the centre sees it."""

    def __init__(self, gw: Gateway, service: SyncService, sub: Subscriber, start: datetime) -> None:
        self.gw, self.service, self.sub = gw, service, sub
        self.now = start
        gw.now = lambda: self.now  # type: ignore[method-assign]
        self.client = TestClient(create_app(gw, service))
        _, token = gw.on_worker(lambda c: create_token(c, self.now, "test", "booth", "admin", None)).result()
        self.auth = {"Authorization": f"Bearer {token}"}

    # ---- at the gate -----------------------------------------------------------------------------
    def look(self, lane: str, plate: str, at: datetime) -> AccessEvent:
        """The lane's camera reads `plate` at `at` (the clock moved there)."""
        self.now = at
        p = Presented(lane, "plate", plate, 0.97, at, f"{lane}-camera")
        return self.gw.on_worker(lambda _: self.gw.handle(p)).result(timeout=10)

    def post(self, path: str, body: dict[str, Any], at: datetime | None = None) -> Any:
        if at is not None:
            self.now = at
        r = self.client.post(path, headers=self.auth, json=body)
        return r

    def read(self, sql: str, *args: object) -> list[Any]:
        return self.gw.on_worker(lambda c: c.execute(sql, args).fetchall()).result(10)

    # ---- the centre ------------------------------------------------------------------------------
    def drain(self) -> None:
        """Wait until every record queued is acknowledged by the broker and received."""

        def unsent() -> int:
            with sqlite3.connect(self.gw.db_path) as conn:
                return int(
                    conn.execute(
                        "SELECT count(*) FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL"
                    ).fetchone()[0]
                )

        wait_for("every record sent", lambda: unsent() == 0, 30)
        with sqlite3.connect(self.gw.db_path) as conn:
            ids = {r[0] for r in conn.execute("SELECT event_id FROM outbox WHERE sent_at IS NOT NULL")}

        def got_all() -> bool:
            seen = {m.get("event_id") for m in self.sub.payloads()}
            return ids <= seen

        wait_for("every record at the centre", got_all, 30)

    def records(self, record_type: str | None = None) -> list[dict[str, Any]]:
        """What the centre files: each event_id once (docs/mqtt.md: duplicates dropped by event_id),
        in seq order."""
        seen: dict[str, dict[str, Any]] = {}
        for m in self.sub.payloads():
            if "event_id" in m and "seq" in m:
                seen.setdefault(m["event_id"], m)
        got = sorted(seen.values(), key=lambda m: m["seq"])
        return [m for m in got if record_type is None or m["type"] == record_type]

    def report(self, day: str) -> dict[str, Any]:
        r = self.client.post(f"/api/parking/reports/{day}/build", headers=self.auth)
        assert r.status_code == 200, r.text
        return dict(r.json())


@contextmanager
def centre(
    tmp_path: Path, start: datetime = T0, more: dict[str, str] | None = None, **overrides: object
) -> Iterator[Centre]:
    """`more`: CSV files (name: text) imported after the parking tests' seed (a third car, ...)."""
    broker, sub = _broker_and_centre(tmp_path)
    cfg = _seeded_site(tmp_path, broker, overrides)
    d = tmp_path / "site"
    if more:
        import_csv(cfg, [write_csv(d / name, text) for name, text in more.items()])
    gw = Gateway(cfg)
    service = SyncService(gw)
    gw.now = lambda: start  # type: ignore[method-assign]
    gw.start()
    service.start()
    c = Centre(gw, service, sub, start)
    try:
        yield c
    finally:
        service.stop()
        gw.stop()
        sub.close()
        broker.stop()
        gw.conn.close()


def _broker_and_centre(tmp_path: Path) -> tuple[Mosquitto, Subscriber]:
    """A broker of the test's own, and the centre's persistent subscriber to the site's topics."""
    broker = Mosquitto(tmp_path / "broker")
    broker.start()
    return broker, Subscriber(broker, [f"estate/{SITE}/#"], client_id="centre", persistent=True)


def _seeded_site(tmp_path: Path, broker: Mosquitto, overrides: dict[str, object]) -> SiteConfig:
    """The parking tests' site, its register seeded, its [mqtt] link on to `broker`."""
    d = tmp_path / "site"
    d.mkdir(exist_ok=True)
    values: dict[str, object] = {
        "data_dir": d / "data",
        "reentry": "void",
        "shared": "temporary",
        "exit_without_entry": "guard",
        "capacity": 6,
        "extra": "",
    }
    values.update(overrides)
    values["extra"] = RELAYS + str(values["extra"]) + mqtt_toml(broker.port)
    cfg = parse_config(textwrap.dedent(PARKING_TOML.format(**values)), "site.toml")
    seed(cfg, d)
    return cfg


def dump(records: list[dict[str, Any]]) -> str:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in records)


class Uplink:
    """A gateway made with its [mqtt] link on to a broker of the test's own, not started: the test
    drives it as the parking tests do (on its connection, its clock given), then `deliver()` starts
    it, with its link, and returns what the centre's subscriber took, as the centre files it."""

    def __init__(self, tmp_path: Path, **overrides: object) -> None:
        self.broker, self.sub = _broker_and_centre(tmp_path)
        self.gw = Gateway(_seeded_site(tmp_path, self.broker, overrides))

    def deliver(self, now: datetime) -> list[dict[str, Any]]:
        gw = self.gw
        gw.now = lambda: now  # type: ignore[method-assign]
        gw.start()
        service = SyncService(gw)
        service.start()
        try:
            c = Centre.__new__(Centre)
            c.gw, c.sub = gw, self.sub
            c.drain()
            return c.records()
        finally:
            service.stop()
            gw.stop()

    def close(self) -> None:
        self.sub.close()
        self.broker.stop()
        self.gw.conn.close()
