"""An entrance whose barrier did not open: no relay of the lane took the pulse (its board unplugged,
a Modbus module answering that it did not), the display said 道闸故障 请联系保安, and the car never
came in. The stay the entry opened is voided (it did nothing else): the car is not inside, its
space is free, and its next visit is a fresh entry, not refused `anti_passback`."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.conftest import TARIFF_TOML, site_toml
from tests.parking.conftest import T0, report_of_t0_day
from tests.parking.test_exit_fix49_barrier_not_opened import RelayWrittenLater
from tests.parking.test_report_figures import Clock, serving

CAR = "苏E77777"
S = timedelta(seconds=1)
H = timedelta(hours=1)
ENTRY_RELAY = """
[[devices]]
id = "car-in-barrier"
lane = "car-in"
kind = "relay"
driver = "simulated"
"""


def _gw(tmp_path: Path, **kw: object) -> Gateway:
    return Gateway(parse_config(site_toml(tmp_path / "data", **kw) + TARIFF_TOML, "site.toml"))


def _unplug(gw: Gateway) -> Callable[[], None]:
    """The entrance's relay board unplugged (its pulse raises); call to plug it back."""
    relay = gw.devices.lanes["car-in"].relays[0]
    working = relay.pulse

    def dead(seconds: float, ref: str = "") -> None:
        raise OSError("board unplugged")

    relay.pulse = dead  # type: ignore[method-assign]

    def plugged_back() -> None:
        relay.pulse = working  # type: ignore[method-assign]
        relay.health.set_online()

    return plugged_back


def _look(gw: Gateway, at: datetime, lane: str = "car-in", again: bool = False) -> AccessEvent:
    return gw.handle(Presented(lane, "plate", CAR, 0.99, at, "cam", again=again))


def _open_stays(conn_gw: Gateway) -> int:
    sql = "SELECT count(*) FROM stays WHERE plate = ? AND exited_at IS NULL"
    return int(conn_gw.conn.execute(sql, (CAR,)).fetchone()[0])


def _sent_stays(gw: Gateway) -> list[dict[str, object]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'stay' ORDER BY seq").fetchall()
    return [json.loads(row[0]) for row in rows]


@pytest.mark.parametrize("apb", ["hard", "soft"])
def test_car_turned_away_by_a_dead_entry_barrier_comes_in_fresh_next_time(tmp_path: Path, apb: str) -> None:
    """The resident's visitor was told 道闸故障 and drove off; three hours later, the board mended,
    the same car is let in as any car, not refused 禁止通行 (anti_passback) nor flagged as a car
    already inside, and it was never counted inside meanwhile."""
    gw = _gw(tmp_path, anti_passback=apb)
    try:
        plugged_back = _unplug(gw)
        t0 = gw.now() - 3 * H
        first = _look(gw, t0)
        assert first.admitted  # decided; the barrier stayed down
        assert _open_stays(gw) == 0, "the car never came in, yet it is inside on record"
        plugged_back()
        back = _look(gw, gw.now())
        assert back.admitted and "already_inside" not in back.flags, (back.reason, back.flags)
        assert _open_stays(gw) == 1
        sent = [s for s in _sent_stays(gw) if s["change"] == "voided"]
        assert len(sent) == 1 and sent[0]["access_event_id"] == first.event_id
        assert sent[0]["reason"] == "barrier_not_opened" and sent[0]["plate"] == CAR
        audited = gw.conn.execute(
            "SELECT actor, action, detail FROM audit WHERE action = 'stay.record'"
        ).fetchall()
        assert len(audited) == 1 and audited[0][0] == "gateway" and "car-in" in audited[0][2]
    finally:
        gw.conn.close()


def test_entry_not_let_in_is_no_entry_in_the_daily_report(make_gw: Callable[..., Gateway]) -> None:
    """The car turned away at a dead barrier and let in an hour later is one entry of the day."""
    gw = make_gw(extra=ENTRY_RELAY)
    plugged_back = _unplug(gw)
    assert _look(gw, T0).admitted
    plugged_back()
    assert _look(gw, T0 + H).admitted
    report = report_of_t0_day(gw, T0 + 24 * H)
    assert report["vehicles"]["entries"]["total"] == 1


def test_entry_that_closed_a_missed_exit_keeps_its_stay_and_says_so(
    make_gw: Callable[..., Gateway], caplog: pytest.LogCaptureFixture
) -> None:
    """The car came in yesterday and left unseen; today's entry at the dead barrier closed that
    stay as a missed exit. Undoing that is the admin's: the new stay stands, and the journal says
    to close it if the car did not come in."""
    gw = make_gw(extra=ENTRY_RELAY)
    assert _look(gw, T0 - 24 * H).admitted  # in, its exit missed
    _unplug(gw)
    with caplog.at_level(logging.WARNING, logger="gateway.parking.service"):
        assert _look(gw, T0).admitted
    assert _open_stays(gw) == 1
    assert not [s for s in _sent_stays(gw) if s["change"] == "voided"]
    said = [r.getMessage() for r in caplog.records if "still inside on record" in r.getMessage()]
    assert len(said) == 1 and "Admin correction" in said[0] and "missed exit" in said[0]


class Entrance:
    """The site served, its entrance's relay a Modbus module whose answers the test gives."""

    def __init__(self, gw: Gateway, clock: Clock) -> None:
        self.gw, self.clock = gw, clock
        lane = gw.devices.lanes["car-in"]
        self.relay = RelayWrittenLater(lane.relays[0])  # type: ignore[arg-type]
        lane.relays[0] = self.relay

    def look(self, at: datetime, again: bool = False) -> AccessEvent:
        self.clock.at = at
        return self.gw.on_worker(lambda _conn: _look(self.gw, at, again=again)).result(timeout=10)

    def answer(self, pulse: int, took: bool) -> None:
        """The module's answer to the `pulse`th pulse (from 0), on its bus's thread."""
        bus = threading.Thread(target=self.relay.outcomes[pulse].set_result, args=(took,))
        bus.start()
        bus.join()

    def open_stays(self) -> int:
        return int(self.gw.on_worker(lambda _conn: _open_stays(self.gw)).result(timeout=10))

    def voided(self) -> int:
        sent = self.gw.on_worker(lambda _conn: _sent_stays(self.gw)).result(timeout=10)
        return len([s for s in sent if s["change"] == "voided"])

    def in_and_repeat(self) -> None:
        """Let in at T0, decided again a second later (flag again), both pulses waiting."""
        assert self.look(T0).admitted
        repeat = self.look(T0 + S, again=True)
        assert repeat.flags == ("again",) and len(self.relay.outcomes) == 2


@pytest.fixture
def entrance(make_gw: Callable[..., Gateway]) -> Iterator[Entrance]:
    gw = make_gw(extra=ENTRY_RELAY)
    clock = Clock(T0)
    with serving(gw, clock):
        yield Entrance(gw, clock)


def test_modbus_entrance_that_took_neither_pulse_voids_the_stay_once(entrance: Entrance) -> None:
    """The module answers later, on its bus's thread: neither the entry's pulse nor its repeat's
    taken, the car did not come in (voided once, when the last is known); read again at the shut
    arm, it is decided afresh and comes in on a stay of its own."""
    entrance.in_and_repeat()
    entrance.answer(0, False)
    assert entrance.open_stays() == 1  # the repeat's pulse may yet raise the arm
    entrance.answer(1, False)
    assert entrance.open_stays() == 0
    assert entrance.voided() == 1
    fresh = entrance.look(T0 + 15 * S, again=True)  # the camera's next look
    assert fresh.admitted and "again" not in fresh.flags
    assert entrance.open_stays() == 1


def test_modbus_entrance_whose_repeat_raised_the_arm_keeps_the_stay(entrance: Entrance) -> None:
    """The entry's pulse not taken but the repeat's a second later taken: the car drove in."""
    entrance.in_and_repeat()
    entrance.answer(0, False)
    entrance.answer(1, True)
    assert entrance.open_stays() == 1
    assert entrance.voided() == 0
