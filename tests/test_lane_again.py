"""A car the lane decides a second time while it is still there: queued behind another car and decided
with it, then again when it reaches the loop; or left standing at the barrier (the lane voter's repeat).
It is the same car at the same barrier, not a new one: when it was let through it is let through again,
and nothing is charged, closed or counted twice. The presentations come from the real camera driver
and PlateReader/LaneVoter (the Lane helper of tests/lane_helpers.py: only the recognizer is fake),
through the gateway's own camera emitter."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.registry import set_blocked
from plates.reading import Reading
from tests.conftest import TARIFF_TOML, report_so_far, site_toml, write_csv
from tests.lane_helpers import BEHIND, Lane

FRONT = "皖A11111"  # the car at the barrier (any car)
QUEUED = "苏E77777"  # a stranger's car behind it


def _queue(monkeypatch: pytest.MonkeyPatch, gw: Gateway, lane_id: str) -> list[AccessEvent]:
    """The queued car's decisions: with the car in front, then at the loop once that car has gone."""
    lane = Lane(monkeypatch)
    gw.devices.lanes[lane_id].plate_readers.append(lane.reader)  # the lane's plate camera
    emit = gw._emitter(lane_id, f"{lane_id}-camera")
    decided: list[AccessEvent] = []
    monkeypatch.setattr(gw, "present", lambda p: decided.append(gw.handle(p)) or True)
    lane.on_present = lambda value: emit("plate", value, 0.99) if value == QUEUED else None
    behind = Reading(QUEUED, "blue", 0.99, BEHIND)
    lane.frames(0.0, 0.1, [FRONT])
    lane.frames(0.1, 3.0, [FRONT, behind])  # both in view; the front car drives off at 3 s
    lane.frames(3.0, 4.0, [QUEUED])
    lane.loop(4.0)  # the queued car rolls onto the loop
    lane.frames(4.0, 8.0, [QUEUED])
    assert lane.times(QUEUED) == [0.1, 4.0]  # the lane decides it twice, as its tests want
    return decided


def _gateway(tmp_path: Path, policy: str = "", **overrides: object) -> Gateway:
    text = site_toml(tmp_path / "data", **overrides).replace("[policy]\n", f"[policy]\n{policy}")
    return Gateway(parse_config(text + TARIFF_TOML, "site.toml"))


def _parked_20_minutes(gw: Gateway) -> None:
    came = gw.handle(Presented("car-in", "plate", QUEUED, 0.99, gw.now() - timedelta(minutes=20), "cam"))
    assert came.reason == "temporary"


def _stays(gw: Gateway) -> list[tuple[str, str | None]]:
    return gw.conn.execute("SELECT subject, exit_event FROM stays ORDER BY id").fetchall()


def test_queued_stranger_inside_its_free_time_is_let_out_again_at_the_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The barrier opened for it while it waited behind the car in front; at the loop it opens again."""
    gw = _gateway(tmp_path)  # exit_without_entry = "guard", the default
    _parked_20_minutes(gw)
    first, at_loop = _queue(monkeypatch, gw, "car-out")
    assert first.admitted and "again" not in first.flags
    assert at_loop.admitted, f"the car at the barrier is refused {at_loop.reason} {at_loop.flags}"
    assert (at_loop.reason, at_loop.billing, at_loop.flags) == (first.reason, first.billing, ("again",))
    assert _stays(gw) == [(f"plate:{QUEUED}", first.event_id)]  # closed once, by the first
    logged = gw.conn.execute(
        "SELECT event_id FROM access_log WHERE value = ? AND lane = 'car-out'", (QUEUED,)
    )
    assert [r[0] for r in logged] == [first.event_id, at_loop.event_id]  # both opened, both recorded
    upstream = gw.conn.execute(
        "SELECT count(*) FROM outbox WHERE topic = 'access' AND event_id = ?", (at_loop.event_id,)
    ).fetchone()[0]
    assert upstream == 1


def test_queued_stranger_is_not_charged_the_daily_cap_at_the_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gw = _gateway(tmp_path, 'exit_without_entry = "charge"\n')
    _parked_20_minutes(gw)
    first, at_loop = _queue(monkeypatch, gw, "car-out")
    assert first.admitted and first.fee_fen == 0
    assert at_loop.admitted and at_loop.fee_fen == 0, f"asked for {at_loop.fee_fen} fen at the loop"
    assert gw.conn.execute("SELECT count(*) FROM charges").fetchone()[0] <= 1


def test_queued_car_is_not_refused_anti_passback_at_the_entrance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gw = _gateway(tmp_path, anti_passback="hard")
    first, at_loop = _queue(monkeypatch, gw, "car-in")
    assert first.admitted
    assert at_loop.admitted, f"the car at the barrier is refused {at_loop.reason}"
    assert _stays(gw) == [(f"plate:{QUEUED}", None)]  # one stay, opened once


def test_the_daily_report_counts_the_queued_car_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gw = _gateway(tmp_path, anti_passback="hard")
    _queue(monkeypatch, gw, "car-in")
    assert report_so_far(gw)["vehicles"]["entries"]["total"] == 1


def test_a_refused_car_decided_again_is_decided_afresh(tmp_path: Path) -> None:
    """Refused at the entrance (unregistered cars are refused here); the guard registers it while it
    waits, and the lane's repeat lets it in: a repeat of a refusal is a new decision."""
    gw = _gateway(tmp_path, 'unknown_vehicle = "refuse"\n', no_slot="temporary")
    at = gw.now()
    refused = gw.handle(Presented("car-in", "plate", QUEUED, 0.99, at, "car-in-camera"))
    assert refused.reason == "unknown"
    resident = write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n")
    import_csv(
        gw.site.config, [resident, write_csv(tmp_path / "v.csv", f"plate,resident_ref\n{QUEUED},R1\n")]
    )
    later = gw.handle(
        Presented("car-in", "plate", QUEUED, 0.99, at + timedelta(seconds=15), "cam", again=True)
    )
    assert later.reason == "temporary" and "again" not in later.flags  # no slot: a paying car


def _resident_car(gw: Gateway, tmp_path: Path) -> None:
    import_csv(
        gw.site.config,
        [
            write_csv(tmp_path / "r.csv", "ref,building,unit,name\nR1,3栋,2单元,张三\n"),
            write_csv(tmp_path / "v.csv", f"plate,resident_ref\n{FRONT},R1\n"),
            write_csv(tmp_path / "s.csv", f"zone,number,resident_ref,plates\nmain,B001,R1,{FRONT}\n"),
        ],
    )


def test_a_car_blocked_while_it_stands_at_the_barrier_is_not_let_in_again(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The barrier opened for the car and it stopped under it; the guard sees it is the stolen car the
    police called about and presses "Block now" (the next presentation is refused). The camera's
    repeat decides the standing car again 15 s later: the barrier must not open for it again."""
    gw = _gateway(tmp_path)
    _resident_car(gw, tmp_path)
    lane = Lane(monkeypatch)
    gw.devices.lanes["car-in"].plate_readers.append(lane.reader)
    emit = gw._emitter("car-in", "car-in-camera")
    decided: list[AccessEvent] = []
    monkeypatch.setattr(gw, "present", lambda p: decided.append(gw.handle(p)) or True)
    lane.on_present = lambda value: emit("plate", value, 0.99)
    lane.frames(0.0, 5.0, [FRONT])
    assert [e.reason for e in decided] == ["resident"]
    set_blocked(gw.conn, gw.now(), "guard", ("plate", FRONT), True, "公安协查")  # "Block now"
    lane.frames(5.0, 17.0, [FRONT])  # still standing: decided again at 15 s
    assert len(decided) == 2, lane.presented
    assert (decided[1].admitted, decided[1].reason) == (False, "blocked"), decided[1].flags


def test_a_car_blocked_since_it_was_let_out_is_refused_when_decided_again(tmp_path: Path) -> None:
    """The same at the exit, as the camera's emitter presents the repeat (again=True): a block is the
    guard's word, and it holds for the next look at the car, the same car or not."""
    gw = _gateway(tmp_path)
    _resident_car(gw, tmp_path)
    at = gw.now()
    assert gw.handle(Presented("car-in", "plate", FRONT, 0.99, at - timedelta(hours=1), "cam")).admitted
    assert gw.handle(Presented("car-out", "plate", FRONT, 0.99, at, "car-out-camera")).admitted
    set_blocked(gw.conn, at, "guard", ("plate", FRONT), True, "公安协查")
    later = gw.handle(
        Presented("car-out", "plate", FRONT, 0.99, at + timedelta(seconds=15), "car-out-camera", again=True)
    )
    assert (later.admitted, later.reason) == (False, "blocked"), later.flags
