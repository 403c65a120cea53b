"""Fixtures for the guard app: a running gateway with simulated readers the test drives, accounts,
API tokens, a resident with a card, a car and a slot, and the app over a temporary database."""

from __future__ import annotations

import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import expect

from drivers.simulated import Chooser
from gateway.accounts.passwords import hash_password
from gateway.api.app import create_app
from gateway.config import SiteConfig, parse_config
from gateway.config.models import Device
from gateway.runtime.gateway import Gateway
from gateway.runtime.http_protocol import RequestsWaitedFor
from gateway.store import registry
from gateway.store.accounts import create_account, create_token
from tests.conftest import TARIFF_TOML, site_toml  # tests/conftest.py, the shared fixtures

# What a browser test waits for appears in a second or two; on a CI machine running four test
# workers (each maybe with a Chromium) it can take several. Waiting longer costs nothing when it
# passes, and these are no speed checks (the benches measure speed).
expect.set_options(timeout=15_000)

ADMIN = ("admin", "admin-pass-123")
GUARD = ("guard1", "guard-pass-123")
CARD = "0A1B2C3D4E"
PLATE = "皖A12345"
PHONE = "13912345678"

# Readers and cameras the tests drive: they poll a queue every ~10 ms (6000 a minute).
DRIVEN = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "simulated"
per_minute = 6000

[[devices]]
id = "car-in-camera"
lane = "car-in"
kind = "camera"
driver = "simulated"
per_minute = 6000
"""


class Traffic:
    """What each simulated reader or camera shows next: the test puts, the device presents."""

    def __init__(self) -> None:
        self._queues: dict[str, queue.Queue[tuple[str, str, float]]] = {}

    def chooser_for(self, device: Device) -> Chooser:
        q = self._queues.setdefault(device.id, queue.Queue())

        def choose() -> tuple[str, str, float] | None:
            try:
                return q.get_nowait()
            except queue.Empty:
                return None

        return choose

    def show(self, device: str, kind: str, value: str, confidence: float = 1.0) -> None:
        self._queues[device].put((kind, value, confidence))


@lru_cache(maxsize=4)
def password_hash(password: str) -> str:
    """Argon2 is slow on purpose; the tests hash each password once."""
    return hash_password(password)


@dataclass
class Site:
    gw: Gateway
    traffic: Traffic
    admin_token: str
    guard_token: str
    resident_id: int
    vehicle_id: int


def seed(gw: Gateway) -> tuple[str, str, int, int]:
    def run(conn):  # type: ignore[no-untyped-def]
        now = gw.now()
        create_account(conn, now, "test", ADMIN[0], "管理员", "admin", password_hash(ADMIN[1]))
        create_account(conn, now, "test", GUARD[0], "张师傅", "guard", password_hash(GUARD[1]))
        _, admin_token = create_token(conn, now, "test", "admin-bot", "admin", None)
        _, guard_token = create_token(conn, now, "test", "guard-bot", "guard", None)
        rid = registry.upsert_resident(
            conn,
            gw.secrets,
            now,
            "test",
            {
                "ref": "R1",
                "building": "3栋",
                "unit": "2单元",
                "room": "301",
                "name": "张三丰",
                "phone": PHONE,
            },
        )
        vid = registry.add_vehicle(conn, now, "test", PLATE, rid, "car", None)
        registry.add_card(conn, now, "test", CARD, rid, None, None, None, "")
        registry.add_slot(conn, now, "test", "main", "B001", rid, [PLATE])
        return admin_token, guard_token, rid, vid

    return gw.on_worker(run).result(timeout=10)


def make_config(data_dir: Path, extra: str = "") -> SiteConfig:
    return parse_config(site_toml(data_dir) + DRIVEN + extra, "site.toml")


def start_site(cfg: SiteConfig) -> Site:
    traffic = Traffic()
    gw = Gateway(cfg, chooser_for=traffic.chooser_for)
    gw.start()
    admin_token, guard_token, rid, vid = seed(gw)
    return Site(gw, traffic, admin_token, guard_token, rid, vid)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data"))
    yield s
    s.gw.stop()


@pytest.fixture
def berlin_site(tmp_path: Path) -> Iterator[Site]:
    """The site of an estate abroad, whose timezone has summer time: the nights the clocks change."""
    text = (site_toml(tmp_path / "data") + DRIVEN).replace(
        'name = "测试小区"\n', 'name = "测试小区"\ntimezone = "Europe/Berlin"\n', 1
    )
    s = start_site(parse_config(text, "site.toml"))
    yield s
    s.gw.stop()


@pytest.fixture
def app(site: Site) -> FastAPI:
    return create_app(site.gw)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def screen_token(client: TestClient, site: Site, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A live screen's guard API token (its id and token), made by the admin, with the live stream
    checking its caller again every 0.2 s rather than every KEEPALIVE_S."""
    monkeypatch.setattr("gateway.api.lanes.KEEPALIVE_S", 0.2)
    made = client.post(
        "/api/tokens", json={"name": "screen", "role": "guard"}, headers=bearer(site.admin_token)
    )
    return made.json()  # type: ignore[no-any-return]


def log_in(client: TestClient, who: tuple[str, str]) -> dict[str, str]:
    """Log in with the cookie; returns the header the session's changes must carry."""
    r = client.post("/api/session", json={"username": who[0], "password": who[1]})
    assert r.status_code == 200, r.text
    return {"X-CSRF-Token": r.json()["csrf"]}


class LiveServer:
    """The app on a real socket (uvicorn in a thread), for the browser and the live stream."""

    def __init__(self, app: FastAPI, keep_alive_s: int = 5):
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=0,
                log_config=None,
                lifespan="off",
                access_log=False,
                timeout_graceful_shutdown=0.5,  # type: ignore[arg-type]  # live streams are cut, not waited for (uvicorn takes a float; its hint says int)
                http=RequestsWaitedFor,  # as gateway run serves
                timeout_keep_alive=keep_alive_s,  # uvicorn's default, as gateway run serves
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@contextmanager
def served(cfg: SiteConfig) -> Iterator[tuple[Site, str]]:
    """A site started from `cfg` and its app on a real socket (for a browser); stopped after."""
    site = start_site(cfg)
    try:
        with LiveServer(create_app(site.gw)) as url:
            yield site, url
    finally:
        site.gw.stop()


@pytest.fixture
def fresh_site(tmp_path: Path) -> Iterator[tuple[Site, str]]:
    """A site with the tests' tariff on a real socket, started for one test alone (the module's
    browser_site is shared): for a test that leaves the site changed."""
    with served(make_config(tmp_path / "data", TARIFF_TOML)) as served_site:
        yield served_site


@pytest.fixture
def live_url(app: FastAPI) -> Iterator[str]:
    with LiveServer(app) as url:
        yield url


# How long a helper waits for the decision worker's turn: a bound on a hang, not a speed (a worker
# writing a slice of kept records, under four test workers on two cores, took over 5 s in CI).
_WORKER_TURN_S = 60


def wait_for(predicate, timeout: float = _WORKER_TURN_S) -> None:  # type: ignore[no-untyped-def]
    """Until `predicate()` holds; the timeout bounds a hang (5 s was less than a loaded CI
    machine's worker took), it is not a speed asked of the gateway."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def stored(site: Site, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """The rows of `sql` once the decision worker has done what was queued before, read on a
    read-only connection of the test's own."""
    site.gw.on_worker(lambda c: None).result(timeout=_WORKER_TURN_S)
    with closing(sqlite3.connect(f"file:{site.gw.db_path}?mode=ro", uri=True)) as conn:
        return conn.execute(sql, args).fetchall()


def decided(
    site: Site, device: str, kind: str, value: str, timeout: float = _WORKER_TURN_S
) -> dict[str, object]:
    """Show a credential on a simulated device; the decision the gateway recorded for it."""
    with sqlite3.connect(f"file:{site.gw.db_path}?mode=ro", uri=True) as conn:
        last = conn.execute("SELECT coalesce(max(id), 0) FROM access_log").fetchone()[0]
    site.traffic.show(device, kind, value)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{site.gw.db_path}?mode=ro", uri=True) as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute(
                "SELECT * FROM access_log WHERE id > ? AND value = ? ORDER BY id", (last, value)
            ).fetchone()
        if row is not None:
            return dict(row)
        time.sleep(0.02)
    raise AssertionError(f"no decision for {kind} {value} within {timeout} s")


# Where a full disk is felt first: decisions, guards' actions and corrections, and their upstream records.
_FILLED = ("access_log", "audit", "outbox", "plate_corrections")


def fill_the_disk(site: Site) -> None:
    """A full disk as SQLite reports it (SQLITE_FULL, an OperationalError): each insert into those
    tables also writes a megabyte, and the worker's connection may not grow the file. (A trigger's
    RAISE would be a constraint error, which the API answers with 409.)"""
    with sqlite3.connect(site.gw.db_path) as conn:
        conn.execute("CREATE TABLE ballast (b BLOB)")
        for table in _FILLED:
            conn.execute(
                f"CREATE TRIGGER full_{table} BEFORE INSERT ON {table} "
                "BEGIN INSERT INTO ballast VALUES (zeroblob(1000000)); END"
            )
    site.gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1")).result(timeout=_WORKER_TURN_S)


def free_the_disk(site: Site) -> None:
    """The disk has room again (after fill_the_disk)."""
    with sqlite3.connect(site.gw.db_path) as conn:
        for table in _FILLED:
            conn.execute(f"DROP TRIGGER full_{table}")
    site.gw.on_worker(lambda c: c.execute("PRAGMA max_page_count = 1073741823")).result(
        timeout=_WORKER_TURN_S
    )


def script_errors(page) -> list[str]:  # type: ignore[no-untyped-def]
    """A browser page's script errors (page_at collects them), less Chromium's console line for
    each answer of 4xx or 5xx: a test that provokes a refusal expects that."""
    return [e for e in page.errors if not e.startswith("Failed to load resource")]


def block_on_lookup(page, kind: str, value: str, reason: str) -> str:  # type: ignore[no-untyped-def]
    """Type a credential into the lookup page's 立即禁用 form, as a guard does, and read the toast
    it answers with (a refusal expected: the toast marked bad)."""
    with page.expect_navigation(wait_until="load"):
        page.click("#nav-lookup")
    page.select_option("#block-form select[name=kind]", kind)
    page.fill("#block-form input[name=value]", value)
    page.fill("#block-form input[name=reason]", reason)
    page.click("#block-form button[type=submit]")
    page.wait_for_selector("#toast.bad")
    return str(page.inner_text("#toast"))
