"""The runtime on a real SQLite file: decisions recorded with their outbox rows, then gates opened."""

from __future__ import annotations

import json
import logging
import threading
import time
import types
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import gateway.runtime.gateway as gateway_module
import gateway.runtime.gateway_base as gateway_base
import gateway.runtime.gateway_deciding as gateway_deciding
from drivers.simulated import SimulatedRelay
from gateway.api.app import create_app
from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.runtime.worker import Job
from gateway.store.admin import import_csv
from gateway.sync.health import health_report
from tests.conftest import site_toml, write_csv


def make_gateway(tmp_path: Path, **overrides: object) -> Gateway:
    tmp_path.mkdir(parents=True, exist_ok=True)
    cfg = parse_config(site_toml(tmp_path / "data", **overrides), "site.toml")
    files = [
        write_csv(
            tmp_path / "r.csv",
            """
            ref,building,unit,name
            R1,3栋,2单元,张三
            R2,5栋,1单元,李四
            """,
        ),
        write_csv(
            tmp_path / "v.csv",
            """
            plate,resident_ref
            皖A11111,R1
            皖A22222,R1
            皖B33333,R2
            """,
        ),
        write_csv(
            tmp_path / "c.csv",
            """
            card,resident_ref,blocked
            AAAA0001,R1,0
            AAAA0002,R2,1
            """,
        ),
        write_csv(
            tmp_path / "s.csv",
            """
            zone,number,resident_ref,plates
            main,B001,R1,皖A11111;皖A22222
            """,
        ),
    ]
    import_csv(cfg, files)
    return Gateway(cfg)


def show(gw: Gateway, lane: str, kind: str, value: str, at: datetime | None = None) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.98, at or gw.now(), "test"))  # type: ignore[arg-type]


def relay(gw: Gateway, lane: str) -> SimulatedRelay:
    found = gw.devices.lanes[lane].relays[0]
    assert isinstance(found, SimulatedRelay)
    return found


def test_card_decision_is_logged_with_its_outbox_row_before_the_lock_opens(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    ev = show(gw, "door", "card", "AAAA0001")
    assert ev.admitted and ev.reason == "resident" and ev.holder_name == "张*"
    log = gw.conn.execute("SELECT event_id, admitted, reason FROM access_log").fetchall()
    assert log == [(ev.event_id, 1, "resident")]
    topic, payload = gw.conn.execute(
        "SELECT topic, payload FROM outbox WHERE event_id = ?", (ev.event_id,)
    ).fetchone()
    body = json.loads(payload)
    assert topic == "access" and body["reason"] == "resident" and body["v"] == 1
    assert "张" not in payload  # no names upstream
    assert len(relay(gw, "door").pulses) == 1


def test_refused_card_does_not_open(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    assert show(gw, "door", "card", "AAAA0002").reason == "blocked"
    assert show(gw, "door", "card", "FFFF9999").reason == "unknown"
    assert relay(gw, "door").pulses == []
    assert gw.conn.execute("SELECT count(*) FROM access_log WHERE admitted = 0").fetchone()[0] == 2


def test_shared_slot_second_car_pays_and_stays_are_kept(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, shared="temporary")
    # Both cars came in a minute ago: an exit read within SAME_PASSAGE of the car's entry is the
    # exit camera seeing the car in the entrance lane beside it, no passage (docs/parking.md).
    came = gw.now() - timedelta(minutes=1)
    first = show(gw, "car-in", "plate", "皖A11111", came)
    assert (first.reason, first.billing, first.slot_id) == ("resident", "slot", 1)
    second = show(gw, "car-in", "plate", "皖A22222", came)
    assert (second.reason, second.billing, second.flags) == (
        "temporary",
        "temporary",
        ("shared_slot",),
    )
    open_stays = gw.conn.execute(
        "SELECT plate, slot_id, billing FROM stays WHERE exited_at IS NULL ORDER BY id"
    ).fetchall()
    assert open_stays == [("皖A11111", 1, "slot"), ("皖A22222", None, "temporary")]
    show(gw, "car-out", "plate", "皖A11111")
    assert gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0] == 1


def test_shared_slot_policy_refuse(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, shared="refuse")
    show(gw, "car-in", "plate", "皖A11111")
    assert show(gw, "car-in", "plate", "皖A22222").reason == "slot_occupied"
    assert len(relay(gw, "car-in").pulses) == 1


def test_zone_full_refuses_temporary_cars_but_not_a_car_with_a_free_slot(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path, capacity=3, no_slot="temporary")  # 3 spaces, 1 of them a fixed slot
    # The cars came a minute ago: an exit read within SAME_PASSAGE of the car's entry is the exit
    # camera seeing the car in the entrance lane beside it, no passage (docs/parking.md).
    came = gw.now() - timedelta(minutes=1)
    assert show(gw, "car-in", "plate", "沪C00001", came).reason == "temporary"
    assert show(gw, "car-in", "plate", "沪C00002", came).reason == "temporary"
    assert show(gw, "car-in", "plate", "沪C00003", came).reason == "zone_full"
    assert show(gw, "car-in", "plate", "皖B33333", came).reason == "zone_full"  # R2's car has no slot
    assert show(gw, "car-in", "plate", "皖A11111", came).reason == "resident"
    show(gw, "car-out", "plate", "沪C00001")
    assert show(gw, "car-in", "plate", "沪C00003").reason == "temporary"


def test_anti_passback(tmp_path: Path) -> None:
    hard = make_gateway(tmp_path / "hard", anti_passback="hard")
    assert show(hard, "car-in", "plate", "皖A11111").admitted
    assert show(hard, "car-in", "plate", "皖A11111").reason == "anti_passback"
    soft = make_gateway(tmp_path / "soft", anti_passback="soft")
    show(soft, "door", "card", "AAAA0001")
    again = show(soft, "door", "card", "AAAA0001")
    assert again.admitted and again.flags == ("already_inside",)


def test_queued_presentations_are_decided_in_arrival_order(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    seen: list[AccessEvent] = []
    done = threading.Event()

    def listen(ev: AccessEvent) -> None:
        seen.append(ev)
        if len(seen) == 200:
            done.set()

    gw.subscribe(listen)
    values = [f"CARD{i:04d}" if i % 3 else "AAAA0001" for i in range(200)]
    for v in values:  # queued before the worker starts: they are committed in groups
        gw.present(Presented("door", "card", v, 1.0, gw.now(), "test"))
    gw.start()
    assert done.wait(20)
    gw.stop()
    assert [ev.value for ev in seen] == values
    logged = [r[0] for r in _read(gw, "SELECT value FROM access_log ORDER BY id")]
    assert logged == values


def _read(gw: Gateway, sql: str) -> list[tuple[object, ...]]:
    import sqlite3

    conn = sqlite3.connect(gw.db_path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_decision_that_cannot_be_stored_never_opens_the_gate(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    gw.conn.execute(
        "CREATE TRIGGER full BEFORE INSERT ON access_log "
        "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
    )
    ev = show(gw, "door", "card", "AAAA0001")
    assert ev.reason == "storage_failed" and not ev.admitted
    assert relay(gw, "door").pulses == [] and gw.storage_failures == 1
    assert gw.conn.execute("SELECT count(*) FROM outbox WHERE topic = 'access'").fetchone()[0] == 0
    gw.conn.execute("DROP TRIGGER full")
    assert show(gw, "door", "card", "AAAA0001").admitted  # the lane works again once it can store


def test_a_fault_deciding_one_presentation_shuts_only_its_gate_and_the_lanes_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gw = make_gateway(tmp_path)
    real_lookup = gateway_base.lookup

    def lookup(conn, p, lane, capacity, *rest):  # type: ignore[no-untyped-def]  # a bug, for one card only
        if p.value == "BADBAD01":
            raise RuntimeError("a bug")
        return real_lookup(conn, p, lane, capacity, *rest)

    # Where the gateway's parts look it up: the facts of a presentation, and a refusal's.
    monkeypatch.setattr(gateway_base, "lookup", lookup)
    monkeypatch.setattr(gateway_deciding, "lookup", lookup)
    now = gw.now()
    cards = ("AAAA0001", "BADBAD01", "AAAA0001")
    jobs = [Job(Presented("door", "card", v, 1.0, now, "r"), 0.0) for v in cards]
    events = gw.decide_batch(jobs)  # one transaction for the three, as the worker groups them
    assert [ev.reason for ev in events] == ["resident", "storage_failed", "resident"]
    assert len(relay(gw, "door").pulses) == 2 and not gw.conn.in_transaction
    assert [r[0] for r in _read(gw, "SELECT value FROM access_log")] == ["AAAA0001", "AAAA0001"]
    assert show(gw, "door", "card", "AAAA0001").admitted  # and the next one is decided as ever


def test_a_presentation_for_a_lane_the_site_does_not_have_is_refused_at_the_door(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    assert not gw.present(Presented("nowhere", "card", "AAAA0001", 1.0, gw.now(), "x"))
    assert gw.rejected == 1 and gw.backlog() == 0


def test_device_offline_raises_one_alarm_and_online_clears_it(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    gw.start()
    health = relay(gw, "door").health
    health.set_offline("USB relay unplugged")
    health.set_offline("USB relay unplugged")  # a repeated fault is one alarm
    gw.on_worker(lambda conn: None).result(60)
    rows = gw.conn.execute("SELECT kind, source, cleared_at FROM alarms").fetchall()
    assert rows == [("device_offline", "door-lock", None)]
    health.set_online()
    gw.on_worker(lambda conn: None).result(60)
    # open until it has stayed back [alarms] clear_after_s (300): a loose cable is one fault
    assert gw.conn.execute("SELECT cleared_at IS NOT NULL FROM alarms").fetchone() == (0,)
    assert gw.operations.returns(gw.now() + timedelta(seconds=300)) == ["door-lock"]
    assert gw.conn.execute("SELECT cleared_at IS NOT NULL FROM alarms").fetchone() == (1,)
    states = [
        json.loads(p)["state"]
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'alarm' ORDER BY seq")
    ]
    assert states == ["raised", "cleared"]
    gw.stop()


def test_the_health_report_names_the_alarms_open_now_and_drops_them_once_cleared(tmp_path: Path) -> None:
    """A centre that subscribes after a device went offline gets no `raised` record of it; the
    retained health report (and /api/health, by kind) says which alarms are open now, until the
    device is back (docs/mqtt.md: health)."""
    gw = make_gateway(tmp_path)
    gw.start()
    try:
        health = relay(gw, "door").health
        health.set_offline("USB relay unplugged")
        gw.on_worker(lambda conn: None).result(60)
        (alarm_id,) = gw.conn.execute("SELECT id FROM alarms").fetchone()
        upstream = health_report(gw, {}, 0, "test", gw.now())["alarms_open"]
        assert upstream["count"] == 1
        assert upstream["by_kind"] == {"device_offline": 1}
        [named] = upstream["newest"]
        assert named["alarm_id"] == alarm_id
        assert (named["kind"], named["source"], named["acknowledged"]) == (
            "device_offline",
            "door-lock",
            False,
        )
        assert datetime.fromisoformat(named["raised_at"]).utcoffset() == gw.now().utcoffset()
        with TestClient(create_app(gw)) as client:
            assert client.get("/api/health").json()["alarms_open"] == {"device_offline": 1}
        health.set_online()
        gw.on_worker(lambda conn: None).result(60)
        gw.operations.returns(gw.now() + timedelta(seconds=300))  # back for [alarms] clear_after_s
        after = health_report(gw, {}, 0, "test", gw.now())["alarms_open"]
        assert after == {"count": 0, "by_kind": {}, "newest": []}
    finally:
        gw.stop()


def test_visitor_pass_validity_is_enforced_by_time(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    now = gw.now()
    gw.conn.execute(
        "INSERT INTO passes (kind, name, valid_from, valid_to, created_at) VALUES "
        "('visitor', '王五', ?, ?, ?)",
        (
            (now - timedelta(hours=1)).isoformat(),
            (now + timedelta(hours=1)).isoformat(),
            now.isoformat(),
        ),
    )
    gw.conn.execute("INSERT INTO credentials (kind, value, pass_id) VALUES ('plate', '浙A99999', 1)")
    assert show(gw, "car-in", "plate", "浙A99999").reason == "visitor"
    assert show(gw, "car-in", "plate", "浙A99999", now + timedelta(hours=2)).reason == "expired"


@pytest.mark.parametrize("lane", ["nowhere"])
def test_unknown_lane_is_an_error_not_a_decision(tmp_path: Path, lane: str) -> None:
    gw = make_gateway(tmp_path)
    with pytest.raises(ValueError, match="unknown lane"):
        show(gw, lane, "card", "AAAA0001")


def test_values_no_credential_can_have_are_counted_not_decided(tmp_path: Path) -> None:
    gw = make_gateway(tmp_path)
    assert not gw.present(Presented("car-in", "plate", "皖A1234I", 0.9, gw.now(), "cam"))
    assert not gw.present(Presented("door", "barcode", "123", 1.0, gw.now(), "x"))  # type: ignore[arg-type]
    assert not gw.present(Presented("door", "card", "no!", 1.0, gw.now(), "x"))
    assert gw.rejected == 3 and gw.backlog() == 0
    assert gw.present(Presented("car-in", "plate", "皖a·11111", 0.9, gw.now(), "cam"))  # normalized
    gw.start()
    gw.on_worker(lambda conn: None).result(60)
    gw.stop()
    assert _read(gw, "SELECT value, reason FROM access_log") == [("皖A11111", "resident")]


def test_uptime_after_ntp_sets_the_clock_is_the_time_since_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The gateway starts on fake-hwclock's time, three days behind; NTP sets the clock a minute
    later. GET /api/health (and the `health` message upstream, docs/mqtt.md: uptime) says the
    gateway has been up about a minute: the centre tells a reboot after a power cut by it."""
    real = time.time()
    stale_clock = types.SimpleNamespace(
        time=lambda: real - 3 * 86400 - 60,  # the wall clock as the gateway starts, a minute ago
        monotonic=lambda: time.monotonic() - 60,
        perf_counter=time.perf_counter,
        sleep=time.sleep,
    )
    monkeypatch.setattr(gateway_module, "time", stale_clock)
    gw = Gateway(parse_config(site_toml(tmp_path / "data"), "site.toml"))
    monkeypatch.setattr(gateway_module, "time", time)  # NTP has set the clock since
    try:
        with TestClient(create_app(gw)) as client:
            health = client.get("/api/health").json()
        upstream = health_report(gw, {}, 0, "test", gw.now())
    finally:
        gw.conn.close()
    assert 60 <= health["uptime_s"] < 120, f"uptime_s = {health['uptime_s']} s"
    assert 60 <= upstream["uptime_s"] < 120, f"uptime_s = {upstream['uptime_s']} s"


def test_a_card_value_refused_as_malformed_is_logged_masked(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A reader that sends a card number with a stray character: the log names the fault, and the
    number by its last four characters only, as decisions are logged."""
    gw = make_gateway(tmp_path)
    with caplog.at_level(logging.WARNING, logger="gateway.runtime.gateway"):
        assert not gw.present(Presented("door", "card", "0A1B2C3D99!", 1.0, gw.now(), "reader"))
    assert "presentation ignored" in caplog.text
    assert "0A1B2C3D99" not in caplog.text and "D99!" in caplog.text, caplog.text
