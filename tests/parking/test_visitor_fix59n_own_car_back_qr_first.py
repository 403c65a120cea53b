"""A visitor's own car back at the entrance after the exit camera missed it, its QR scanned before
its plate is read. Review 59n.

5e15149 made a pass's QR that lets it in again while its car is listed inside by a plate move no
stay (a QR forwarded by WeChat to a second car no longer erases the first car's stay). Its own car
back, its exit missed, the plate read 2 s after the QR was taken for that passage again: the car
stayed on its first stay and paid from its first entry (15元 at 15:30 for a car in since 09:00),
where read first its plate was a re-entry as any car's (policy.reentry = "void": 5元 for the hour
since it came back). docs/parking.md (One car, one passage): the plate read in the QR's passage
that its stay carries is the pass's own car again, decided as itself, a re-entry. Also: the QR's
entry over a car listed inside settled that car's stay as a missed exit though it left it open:
under policy.reentry = "charge" the first car on a forwarded QR paid its stay twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import open_stays
from gateway.store.passes import NewPass, create_pass, get_pass
from gateway.timefmt import from_db
from tests.parking.conftest import T0, pay

S = timedelta(seconds=1)
H = timedelta(hours=1)
CAR = "苏E99999"
BACK = T0 + 5 * H + 30 * 60 * S  # 14:30: the car back; its exit at 14:00 was missed
OUT = BACK + H  # 15:30: out by an exit that reads it


def _show(gw: Gateway, lane: str, kind: str, value: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, kind, value, 0.97, at, f"{lane}-{kind}"))  # type: ignore[arg-type]


def _car_in_at_nine(gw: Gateway, pass_plate: str) -> str:
    """The pass's car in at 09:00 (on the QR, its plate read 2 s later, for a pass registered on
    foot; on the pass's own plate for one registered with it): the pass's QR."""
    visit = NewPass(
        "visitor", "钱七", T0 - H, T0 + 48 * H, host_building="3栋", host_unit="2单元", plate=pass_plate
    )
    qr = str(get_pass(gw.conn, create_pass(gw.conn, gw.secrets, visit, T0 - H, "guard1"))["qr"])
    if not pass_plate:
        _show(gw, "car-in", "qr", qr, T0)
    _show(gw, "car-in", "plate", CAR, T0 + 2 * S)
    return qr


def _entered(gw: Gateway) -> datetime:
    (stay,) = open_stays(gw.conn)
    at = stay["entered_at"]
    entered = at if isinstance(at, datetime) else from_db(at)
    assert entered is not None
    return entered


# The test tariff (tests/conftest.py TARIFF_TOML): 5元 the first hour, 2元 each hour after. Under
# "charge" the missed exit's 5.5 h (15元) is carried to the exit.
FEES = {"void": 500, "charge": 1500 + 500}


@pytest.mark.parametrize("reentry", ["void", "charge"])
@pytest.mark.parametrize("qr_first", [True, False], ids=["qr_first", "plate_first"])
@pytest.mark.parametrize("pass_plate", ["", CAR], ids=["on_foot", "with_its_plate"])
def test_own_car_back_after_a_missed_exit_is_a_reentry_whichever_is_read_first(
    make_gw: Callable[..., Gateway], pass_plate: str, qr_first: bool, reentry: str
) -> None:
    gw = make_gw(reentry=reentry)
    qr = _car_in_at_nine(gw, pass_plate)
    first, second = ("qr", qr), ("plate", CAR)
    if not qr_first:
        first, second = second, first
    one = _show(gw, "car-in", *first, BACK)
    two = _show(gw, "car-in", *second, BACK + 2 * S)
    assert one.admitted and two.admitted
    plate_at = BACK + 2 * S if qr_first else BACK
    assert _entered(gw) == plate_at, "listed as in since 09:00: its missed exit not closed"

    out = _show(gw, "car-out", "plate", CAR, OUT)
    assert (out.reason, out.fee_fen) == ("payment_due", FEES[reentry]), "billed from 09:00"
    assert pay(gw, CAR, out.fee_fen, OUT + 30 * S).admitted
    assert open_stays(gw.conn) == []
    owed = gw.conn.execute("SELECT count(*) FROM charges WHERE settled_at IS NULL AND voided_at IS NULL")
    assert owed.fetchone()[0] == 0


def test_first_car_on_a_forwarded_qr_pays_its_stay_once_under_reentry_charge(
    make_gw: Callable[..., Gateway],
) -> None:
    """The QR forwarded to a second car at 10:30 moves no stay of the first car: it carries none
    of its fee to its exit either. Carried, the first car paid 9元 for its 3 h and 7元 more."""
    gw = make_gw(reentry="charge")
    qr = _car_in_at_nine(gw, "")
    assert _show(gw, "car-in", "qr", qr, T0 + 90 * 60 * S).flags == ("already_inside",)
    assert _show(gw, "car-in", "plate", "苏E77777", T0 + 90 * 62 * S).reason == "temporary"
    first_out = _show(gw, "car-out", "plate", CAR, T0 + 3 * H)
    assert (first_out.reason, first_out.fee_fen) == ("payment_due", 900)
    carried = gw.conn.execute("SELECT count(*) FROM charges WHERE kind = 'reentry'").fetchone()[0]
    assert carried == 0, "the first car's stay, still open, billed as a missed exit"
