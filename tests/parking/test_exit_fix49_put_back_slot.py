"""A car on its own slot let out at an exit whose barrier did not open (道闸故障), after the exit
handed its slot to the household's second car waiting in the shared spaces (docs/parking.md, *Let out
by hand*: a shared slot handed on at that exit stays with the car it was handed to)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store.database import transaction
from gateway.store.occupancy import occupancy
from tests.parking.conftest import T0, pay, show
from tests.parking.test_exit_fix49_barrier_not_opened import EXIT_RELAY, unplug_exit

M = timedelta(minutes=1)


@pytest.fixture
def gw(make_gw: Callable[..., Gateway]) -> Gateway:
    return make_gw(extra=EXIT_RELAY)


@pytest.fixture
def unplugged(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], None]]:
    yield unplug_exit(gw, monkeypatch)


def _on_b001(gw: Gateway) -> list[str]:
    rows = gw.conn.execute(
        "SELECT s.plate FROM stays s JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.exited_at IS NULL AND sl.number = 'B001' ORDER BY s.plate"
    ).fetchall()
    return [p for (p,) in rows]


def _cars(gw: Gateway) -> tuple[int, int, int, int]:
    (car,) = [r for r in occupancy(gw.conn, gw.site.capacity) if r["class"] == "car"]
    return car["inside"], car["on_slots"], car["shared_occupied"], car["shared_free"]


def _reopened(gw: Gateway) -> list[dict[str, object]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'stay' ORDER BY seq").fetchall()
    return [p for p in (json.loads(r[0]) for r in rows) if p["change"] == "reopened"]


def test_slot_not_held_by_two_cars_after_exit_barrier_failed(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """皖A11111 parks on B001, 皖A22222 (same slot) comes in paying in the shared spaces. A11111's
    exit barrier does not open: the exit handed B001 to A22222, and A11111 is put back on its stay.
    The slot stays with the car it was handed to, so A11111 is in the shared spaces; the 车位 page
    must not show B001 under both cars, nor the shared spaces one car emptier."""
    assert show(gw, "car-in", "皖A11111", T0).slot_id is not None
    second = show(gw, "car-in", "皖A22222", T0 + 10 * M)
    assert second.admitted and "shared_slot" in second.flags
    out = show(gw, "car-out", "皖A11111", T0 + 60 * M)
    assert out.admitted
    assert _on_b001(gw) == ["皖A22222"], f"B001 held by {_on_b001(gw)}"
    assert _cars(gw) == (2, 1, 1, 3)
    (said,) = _reopened(gw)
    assert (said["plate"], said["slot_id"]) == ("皖A11111", None)


def test_put_back_car_off_its_handed_slot_still_leaves_free(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """Moved off B001 by the handover, 皖A11111 keeps its billing: it is still the resident's car,
    and leaves free once the exit's barrier works again."""
    show(gw, "car-in", "皖A11111", T0)
    show(gw, "car-in", "皖A22222", T0 + 10 * M)
    assert show(gw, "car-out", "皖A11111", T0 + 60 * M).admitted
    unplugged()
    again = show(gw, "car-out", "皖A11111", T0 + 5 * 60 * M)
    assert (again.admitted, again.fee_fen) == (True, 0), f"{again.reason} {again.fee_fen}"
    assert _on_b001(gw) == ["皖A22222"]


def test_put_back_car_moves_back_onto_its_slot_when_the_other_car_leaves(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """In the shared spaces after its put-back, 皖A11111 is handed B001 again when 皖A22222 leaves."""
    show(gw, "car-in", "皖A11111", T0)
    show(gw, "car-in", "皖A22222", T0 + 10 * M)
    assert show(gw, "car-out", "皖A11111", T0 + 60 * M).admitted
    unplugged()
    held = show(gw, "car-out", "皖A22222", T0 + 120 * M)
    assert (held.reason, held.fee_fen) == ("payment_due", 500)  # its 50 minutes before the handover
    assert pay(gw, "皖A22222", 500, T0 + 121 * M).admitted
    assert _on_b001(gw) == ["皖A11111"]
    assert _cars(gw) == (1, 1, 0, 4)


def test_put_back_car_keeps_its_slot_when_no_car_was_handed_it(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """With no second car inside, nothing was handed B001 at the exit: the car is back on it, and
    the upstream record names it."""
    show(gw, "car-in", "皖A11111", T0)
    assert show(gw, "car-out", "皖A11111", T0 + 60 * M).admitted
    assert _on_b001(gw) == ["皖A11111"]
    assert _cars(gw) == (1, 1, 0, 4)
    (said,) = _reopened(gw)
    slot_id = gw.conn.execute("SELECT id FROM slots WHERE number = 'B001'").fetchone()[0]
    assert said["slot_id"] == slot_id


def test_slot_not_held_by_two_cars_when_the_second_car_was_recorded_by_hand(
    gw: Gateway, unplugged: Callable[[], None]
) -> None:
    """The reverse: 皖A22222 on B001, 皖A11111 recorded inside by an admin (found in the garage) as
    the slot's second car. A22222's exit barrier does not open: B001 went to A11111 at that exit,
    and A22222 is back on its stay in the shared spaces."""
    assert show(gw, "car-in", "皖A22222", T0).slot_id is not None
    with transaction(gw.conn):
        record_inside(gw.conn, gw.site, CarInside("皖A11111"), "发现场内车辆", "admin1", T0 + 10 * M)
    assert _on_b001(gw) == ["皖A22222"]
    assert show(gw, "car-out", "皖A22222", T0 + 60 * M).admitted
    assert _on_b001(gw) == ["皖A11111"], f"B001 held by {_on_b001(gw)}"
    assert _cars(gw) == (2, 1, 1, 3)


def test_full_car_park_still_refuses_a_stranger_after_exit_barrier_failed(
    make_gw: Callable[..., Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """4 spaces, 2 of them fixed (B001, B002). 皖A11111 on B001, 皖A22222 (B001's second car) and a
    stranger fill the 2 shared spaces. A11111's exit barrier does not open: it is still inside,
    A22222 now on B001, so the shared spaces are still full and the next stranger is refused
    车位已满 (zone_full); he was let in and took R2's reserved space."""
    gw = make_gw(extra=EXIT_RELAY, capacity=4)
    show(gw, "car-in", "皖A11111", T0)
    show(gw, "car-in", "皖A22222", T0 + 10 * M)
    assert show(gw, "car-in", "苏E10001", T0 + 20 * M).admitted
    assert show(gw, "car-in", "苏E10002", T0 + 25 * M).reason == "zone_full"
    relay = gw.devices.lanes["car-out"].relays[0]

    def gone(seconds: float, ref: str = "") -> None:
        raise OSError("[Errno 5] Input/output error")

    monkeypatch.setattr(relay, "pulse", gone)
    assert show(gw, "car-out", "皖A11111", T0 + 60 * M).admitted  # 道闸故障: the car never left
    monkeypatch.undo()
    relay.health.set_online()
    late = show(gw, "car-in", "苏E10002", T0 + 70 * M)
    inside = gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert (late.admitted, late.reason) == (False, "zone_full"), (
        f"a full car park (A11111 still behind its shut exit) let 苏E10002 in: {late.reason}; "
        f"{inside} cars now recorded inside 4 spaces"
    )
