"""A driver at an exit whose barrier does not open (its relay board unplugged or without power): the
lane let the car out on record, the display tells him 道闸故障 请联系保安, and the car, still behind the
shut arm, waits until the board is mended and tries again (or turns back and parks again)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import timedelta

import pytest

from drivers.simulated import SimulatedRelay
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, report_of_t0_day, show

PLATE = "苏E12345"  # a stranger's car, pays by time
S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
EXIT_RELAY = """
[[devices]]
id = "car-out-barrier"
lane = "car-out"
kind = "relay"
driver = "simulated"
"""


@pytest.fixture
def gw(make_gw: Callable[..., Gateway]) -> Gateway:
    return make_gw(extra=EXIT_RELAY)


@pytest.fixture
def unplugged(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    yield unplug_exit(gw, monkeypatch)


def unplug_exit(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """The exit's relay board unplugged (its pulse raises, at the hardware edge); call to plug it back."""
    relay = gw.devices.lanes["car-out"].relays[0]

    def gone(seconds: float, ref: str = "") -> None:
        raise OSError("[Errno 5] Input/output error")

    monkeypatch.setattr(relay, "pulse", gone)

    def plugged_back() -> None:
        monkeypatch.undo()
        relay.health.set_online()

    return plugged_back


def _open_stays(gw: Gateway) -> int:
    sql = "SELECT count(*) FROM stays WHERE subject = ? AND exited_at IS NULL"
    return int(gw.conn.execute(sql, (f"plate:{PLATE}",)).fetchone()[0])


def _sent(gw: Gateway, topic: str) -> list[dict[str, object]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY seq", (topic,)).fetchall()
    return [json.loads(r[0]) for r in rows]


def _shown(gw: Gateway) -> str:
    return str(gw.devices.lanes["car-out"].displays[0].shown[-1][0])  # type: ignore[attr-defined]


def test_car_let_out_at_a_barrier_that_did_not_open_is_still_inside_on_its_stay(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """20 minutes inside (free), let out at the exit whose relay board is unplugged: the barrier
    stays down (道闸故障). Its stay was closed all the same: off the stays list and the occupancy,
    and back at the mended exit 20 minutes later refused as a car with no entry record. It is
    still inside on its stay, and pays its real stay (40 minutes: 5元) when it leaves."""
    assert show(gw, "car-in", PLATE, T0).admitted
    out = show(gw, "car-out", PLATE, T0 + 20 * M)
    assert out.admitted  # on record: let out
    assert _shown(gw) == "道闸故障 请联系保安"
    unplugged()
    still_inside = _open_stays(gw)
    back = show(gw, "car-out", PLATE, T0 + 40 * M)
    assert still_inside == 1 and "no_entry_record" not in back.flags, (
        f"the barrier never opened, yet the car's stay is closed (open stays: {still_inside}); back "
        f"at the exit it is {back.reason} flags={back.flags} fee={back.fee_fen}"
    )
    assert (back.reason, back.fee_fen) == ("payment_due", 500)


def test_the_stay_put_back_is_audited_and_sent_upstream(gw: Gateway, unplugged: Callable[[], None]) -> None:
    """The stay opened again is on the audit trail (stay.record by the gateway, saying why), goes
    upstream as a `stay` record `reopened` naming the exit's decision, and the exit's charge (0元
    for a free stay) as `voided`; the day's report counts no charge for it."""
    show(gw, "car-in", PLATE, T0)
    out = show(gw, "car-out", PLATE, T0 + 20 * M)
    stay_id = gw.conn.execute("SELECT id FROM stays WHERE subject = ?", (f"plate:{PLATE}",)).fetchone()[0]
    actor, action, target, detail = gw.conn.execute(
        "SELECT actor, action, target, detail FROM audit WHERE action LIKE 'stay.%'"
    ).fetchone()
    assert (actor, action, target) == ("gateway", "stay.record", f"stay:{stay_id}")
    assert detail.startswith(f"{PLATE}: not let out at car-out: its barrier did not open")
    (reopened,) = [r for r in _sent(gw, "stay") if r["change"] == "reopened"]
    assert reopened["stay_id"] == stay_id and reopened["access_event_id"] == out.event_id
    assert (reopened["plate"], reopened["lane"], reopened["class"]) == (PLATE, "car-out", "car")
    voided = [r for r in _sent(gw, "charge") if r.get("change") == "voided"]
    assert [(v["charge_id"], v["kind"], v["access_event_id"]) for v in voided] == [
        (reopened["charge_id"], "exit", out.event_id)
    ]
    assert report_of_t0_day(gw, T0 + 24 * H)["parking"]["charges"] == 0


def test_car_that_paid_at_a_lane_whose_barrier_did_not_open_is_not_asked_again(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """The guard takes 7元 at the lane, the barrier stays down. The car is inside on its stay, the
    7元 standing for it as paid: back at the mended exit within its grace it leaves free, its exit
    charged the 7元 it paid, once."""
    show(gw, "car-in", PLATE, T0)
    assert show(gw, "car-out", PLATE, T0 + 2 * H).fee_fen == 700
    assert pay(gw, PLATE, 700, T0 + 2 * H + M).admitted
    assert _shown(gw) == "道闸故障 请联系保安"
    assert _open_stays(gw) == 1
    unplugged()
    back = show(gw, "car-out", PLATE, T0 + 2 * H + 6 * M)
    assert (back.admitted, back.fee_fen, back.flags) == (True, 0, ()), (back.reason, back.flags)
    assert _open_stays(gw) == 0
    money = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    figures = (money["charges"], money["charged_fen"], money["revenue_fen"], money["unpaid_fen"])
    assert figures == (1, 700, 700, 0)
    paid_for = "SELECT c.event_id FROM payments p JOIN charges c ON c.id = p.charge_id"
    assert gw.conn.execute(paid_for).fetchall() == [(back.event_id,)]


def test_the_cameras_next_look_at_the_car_still_at_the_barrier_lets_it_out_on_its_stay(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """The camera decides the car standing at the shut barrier again a few seconds later: it was
    let through again as the passage before (flag `again`: no stay moves), and the car, gone out
    once the board was mended, stayed inside on record for good. It is decided afresh: its exit."""
    show(gw, "car-in", PLATE, T0)
    show(gw, "car-out", PLATE, T0 + 20 * M)
    unplugged()
    standing = Presented("car-out", "plate", PLATE, 0.97, T0 + 20 * M + 15 * S, "cam", again=True)
    again = gw.handle(standing)
    assert again.admitted and "again" not in again.flags
    assert _open_stays(gw) == 0


class RelayWrittenLater(SimulatedRelay):
    """A relay whose bus answers later, on a thread of its own (a Modbus module)."""

    answer_within_s = 1.0

    def __init__(self, relay: SimulatedRelay):
        super().__init__(relay.health)
        self.outcomes: list[Future[bool]] = []

    def pulse_written(self, seconds: float, ref: str = "") -> Future[bool]:
        self.outcomes.append(Future())
        return self.outcomes[-1]

    def hold_written(self) -> Future[bool]:
        raise NotImplementedError

    def release_written(self) -> Future[bool]:
        raise NotImplementedError

    def off_written(self) -> Future[bool]:
        raise NotImplementedError


def test_a_relay_that_answers_later_that_it_did_not_take_the_pulse_puts_the_stay_back(gw: Gateway) -> None:
    """A Modbus module answers on its bus's thread, after the decision: not taken, the stay is put
    back by the decision worker, the car inside again. The camera's look at the car meanwhile, let
    through again on that exit, is forgotten with it: its next look is its exit."""
    lane = gw.devices.lanes["car-out"]
    relay = RelayWrittenLater(lane.relays[0])  # type: ignore[arg-type]
    lane.relays[0] = relay
    gw.start()
    try:

        def decided(p: Presented) -> AccessEvent:
            return gw.on_worker(lambda _conn: gw.handle(p)).result(timeout=10)

        decided(Presented("car-in", "plate", PLATE, 0.97, T0, "cam"))
        assert decided(Presented("car-out", "plate", PLATE, 0.97, T0 + 20 * M, "cam")).admitted
        assert gw.on_worker(lambda _conn: _open_stays(gw)).result(timeout=10) == 0
        meanwhile = decided(Presented("car-out", "plate", PLATE, 0.97, T0 + 20 * M + S, "cam", again=True))
        assert meanwhile.flags == ("again",)
        for outcome in relay.outcomes:  # the exit's pulse, and the repeat's: neither taken
            bus = threading.Thread(target=outcome.set_result, args=(False,))
            bus.start()
            bus.join()
        assert gw.on_worker(lambda _conn: _open_stays(gw)).result(timeout=10) == 1
        later = decided(Presented("car-out", "plate", PLATE, 0.97, T0 + 20 * M + 15 * S, "cam", again=True))
        assert later.admitted and "again" not in later.flags
        assert gw.on_worker(lambda _conn: _open_stays(gw)).result(timeout=10) == 0
    finally:
        gw.stop()
