"""A booth payment around an entry corrected to another plate and back (docs/parking.md, *Misread
plates*, *Admin correction*, *Paid, then free*, *Daily report*). Every fen taken stands against a
charge once: the day's report's revenue is what was charged less what is unpaid, plus what was
paid ahead by a car not seen leaving; and every charge names the tariff version its stay pays."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from gateway.store.parking import ParkingError
from tests.conftest import TARIFF_TOML
from tests.parking.conftest import T0, parking_toml, pay, report_of_t0_day, seed, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
REAL, MISREAD = "苏E12345", "苏E12346"
_OPEN_STAY = "SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL"


def test_booth_payment_on_the_stay_given_back_is_counted_against_a_charge_when_corrected_back(
    gw: Gateway,
) -> None:
    """苏E12345 comes in at 09:00 and, its exit missed, again at 12:00 (already_inside, policy
    reentry = "void": the 09:00 stay is closed with its fee dropped). The guard takes the 12:00
    reading for a misread and corrects it to 苏E12346, which gives the 09:00 stay back, open. At
    13:00 the driver pays at the booth what the quote for 苏E12345 asks: 11元 (09:00-13:00). At
    13:02 the guard sees the camera was right and corrects the entry back; the car leaves at 13:05
    free (it paid).

    The accountant's report of the day then says 11元 taken, 5元 charged, nothing unpaid and
    nothing paid ahead: 6元 stand against no charge (the 11元 payment, made for the 09:00 stay,
    was linked to the 12:00 stay's 5元 exit charge; the 09:00 stay has no charge at all). Money
    kept with no refund stands against a charge of what was paid (*Paid, then free*, *Admin
    correction*), so the report adds up: revenue = charged - unpaid + paid ahead."""
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    assert back.admitted and "already_inside" in back.flags
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    due = gw.parking.quote(gw.conn, REAL, T0 + 4 * H)["due_fen"]
    assert due == 1100
    with gw.conn:
        gw.parking.prepay(gw.conn, REAL, due, "qr", "WX4300001", "guard1", T0 + 4 * H)
    again = correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 2 * M)
    assert again.taken_back is not None
    out = show(gw, "car-out", REAL, T0 + 4 * H + 5 * M)
    assert out.admitted and not out.fee_fen, (out.reason, out.fee_fen)
    money = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    figures = {k: money[k] for k in ("revenue_fen", "charged_fen", "unpaid_fen", "paid_ahead_not_left_fen")}
    assert money["revenue_fen"] == due
    assert (
        money["charged_fen"] - money["unpaid_fen"] + money["paid_ahead_not_left_fen"] == money["revenue_fen"]
    ), f"the day's money does not add up: {figures}"


def test_booth_payment_kept_at_a_correction_back_names_the_tariff_version(gw: Gateway) -> None:
    """苏E12345 comes in at 09:00 and again at 12:00 (already_inside). The guard corrects the 12:00
    reading to 苏E12346 (the 09:00 stay is open again); the driver pays 5元 at the booth at 13:00
    under 苏E12346; at 13:01 the admin closes the 09:00 stay (the car was seen to leave, camera
    down); at 13:02 the guard corrects the 12:00 entry back to 苏E12345. The 12:00 stay ends with
    the 09:00 one and its 5元 is kept against a settled exit charge (parking.md, *Misread plates*).

    That charge goes upstream, and into the day's report's tariff versions, as version "" (none):
    the 09:00 stay it copies the version from had no charge. Every charge is stamped with the
    version its stay pays (*Fees*: "that version is stamped on its charge"); an admin's close keeps
    a booth payment under the stay's version (t1), and the receipt of the 5元 named t1."""
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    assert back.admitted and "already_inside" in back.flags
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    with gw.conn:
        paid = gw.parking.prepay(gw.conn, MISREAD, 500, "qr", "WX4300002", "guard1", T0 + 4 * H)
    assert paid["tariff_version"] == "t1"
    first = gw.conn.execute(_OPEN_STAY, (REAL,)).fetchone()[0]
    with gw.conn:
        gw.parking.close_stay(gw.conn, first, "camera down, car seen leaving", "admin1", T0 + 4 * H + M)
    again = correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 2 * M)
    assert again.taken_back is not None and again.taken_back.kept is not None
    sent = [
        json.loads(p)
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq")
    ]
    kept = [m for m in sent if m.get("charge_id") == again.taken_back.kept]
    report = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    assert [m["tariff_version"] for m in kept] == ["t1"], kept
    assert report["tariff_versions"] == ["t1"], report


def test_the_booth_payment_sent_again_after_the_correction_back_is_answered_already_paid(gw: Gateway) -> None:
    """As in the first test, the driver pays the 11元 at the booth while the 09:00 stay is open
    again, and the guard then corrects the 12:00 entry back. The booth tablet lost the answer and
    sends the payment again, same receipt: it went through, and nothing is owed (409
    `already_paid`). The payment was left naming the 09:00 stay, closed again, while the car was
    inside on the 12:00 one: the receipt was taken for an old one typed again (`receipt_used`)."""
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    with gw.conn:
        gw.parking.prepay(gw.conn, REAL, 1100, "qr", "WX4300003", "guard1", T0 + 4 * H)
    correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 2 * M)
    with pytest.raises(ParkingError) as sent_again, gw.conn:
        gw.parking.prepay(gw.conn, REAL, 1100, "qr", "WX4300003", "guard1", T0 + 4 * H + 3 * M)
    assert sent_again.value.http_code == "already_paid", sent_again.value
    assert gw.parking.quote(gw.conn, REAL, T0 + 4 * H + 3 * M)["due_fen"] == 0


def test_books_add_up_when_the_missed_exit_is_carried(make_gw: Callable[..., Gateway]) -> None:
    """The first test under policy reentry = "charge": the 09:00 stay's fee to 12:00 (9元) is
    carried; the correction to 苏E12346 undoes it; the driver pays the 11元 the quote asks
    (09:00-13:00); the correction back restores the 9元 charge, unpaid. At 13:30 the car owes that
    and its 12:00 stay (7元) less the 11元: 5元, taken at the lane. Every fen taken stands against a
    charge: 16元 taken, 16元 charged, nothing unpaid or paid ahead."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    correct_plate(gw.conn, back.event_id, MISREAD, "guard1", T0 + 3 * H + 2 * M)
    due = gw.parking.quote(gw.conn, REAL, T0 + 4 * H)["due_fen"]
    assert due == 1100
    with gw.conn:
        gw.parking.prepay(gw.conn, REAL, due, "qr", "WX4300004", "guard1", T0 + 4 * H)
    again = correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 2 * M)
    assert again.taken_back is not None and again.taken_back.restored is not None
    held = show(gw, "car-out", REAL, T0 + 4 * H + 30 * M)
    assert not held.admitted and held.fee_fen == 500, (held.reason, held.fee_fen)
    assert pay(gw, REAL, 500, T0 + 4 * H + 31 * M).admitted
    money = report_of_t0_day(gw, T0 + 24 * H)["parking"]
    figures = {k: money[k] for k in ("revenue_fen", "charged_fen", "unpaid_fen", "paid_ahead_not_left_fen")}
    assert figures == {
        "revenue_fen": 1600,
        "charged_fen": 1600,
        "unpaid_fen": 0,
        "paid_ahead_not_left_fen": 0,
    }, figures


# t2, published ahead from the Tuesday: dearer (first hour 10元).
T2 = """
[[parking.tariffs]]
version = "t2"
effective_from = 2025-03-04

[parking.tariffs.car]
free_minutes = 30
first_period_minutes = 60
first_period_fen = 1000
period_minutes = 60
period_fen = 400
daily_cap_fen = 6000
"""


def test_the_kept_charge_names_the_entry_stays_version_not_the_stay_given_backs(tmp_path: Path) -> None:
    """苏E12345 comes in on Monday at 09:00 (tariff t1) and again on Tuesday at 09:00, its exit
    missed (t2 is in force from Tuesday, published ahead). The guard corrects the Tuesday reading
    to 苏E12346; 10元 is paid at the booth under 苏E12346 at 10:00 (its receipt names t2), and what
    the quote asks under 苏E12345 for the Monday stay, open again; the admin then closes the Monday
    stay (that money kept against a t1 charge) and the guard corrects the entry back. The Tuesday
    stay's 10元 is kept against a charge of that stay: it names t2, the version that stay pays,
    not t1 (the Monday stay's charge's)."""
    data = tmp_path / "data"
    cfg = parse_config(parking_toml(data).replace(TARIFF_TOML, TARIFF_TOML + T2), "site.toml")
    seed(cfg, tmp_path)
    gw = Gateway(cfg)
    try:
        tuesday = T0 + 24 * H
        show(gw, "car-in", REAL, T0)
        back = show(gw, "car-in", REAL, tuesday)
        assert back.admitted and "already_inside" in back.flags
        correct_plate(gw.conn, back.event_id, MISREAD, "guard1", tuesday + 2 * M)
        with gw.conn:
            paid = gw.parking.prepay(gw.conn, MISREAD, 1000, "qr", "WX4300005", "guard1", tuesday + H)
            due = gw.parking.quote(gw.conn, REAL, tuesday + H)["due_fen"]
            gw.parking.prepay(gw.conn, REAL, due, "cash", "", "guard1", tuesday + H)
        assert paid["tariff_version"] == "t2"
        first = gw.conn.execute(_OPEN_STAY, (REAL,)).fetchone()[0]
        with gw.conn:
            gw.parking.close_stay(gw.conn, first, "camera down, car seen leaving", "admin1", tuesday + H + M)
        again = correct_plate(gw.conn, back.event_id, REAL, "guard1", tuesday + H + 2 * M)
        assert again.taken_back is not None and again.taken_back.kept is not None
        versions = dict(gw.conn.execute("SELECT stay_id, tariff_version FROM charges").fetchall())
        assert versions == {first: "t1", again.taken_back.entry_closed: "t2"}, versions
    finally:
        gw.conn.close()
