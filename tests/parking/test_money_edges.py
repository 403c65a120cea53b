"""Money at the edges, from a review of the fees, payments and report: a booth payment follows its stay
to a new owner, a carried charge paid at the exit is linked, a day's report says the same whenever it
is built, a paid stay is not made free, and a paid-up monthly car is not billed on a shared slot."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.core import TYPED_BY, Presented
from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.parking import ParkingError
from gateway.store.passes import NewPass, create_pass
from gateway.timefmt import from_db
from tests.parking.conftest import T0, add_visitor, pay, show

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_the_central_server_hears_that_a_carried_charge_was_paid_at_the_next_exit(
    make_gw: Callable[..., Gateway],
) -> None:
    """reentry = "charge": the charge of a stay whose exit was missed goes upstream unsettled at the
    re-entry; paid at the next exit, the central server is told it is settled. Every message has an
    event id of its own: the central side drops a second message with an event id as a duplicate."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", "苏E12345", T0)
    show(gw, "car-in", "苏E12345", T0 + 3 * H + 30 * M)  # left unseen, came back: 11元 carried
    held = show(gw, "car-out", "苏E12345", T0 + 4 * H + 30 * M)
    out = pay(gw, "苏E12345", held.fee_fen, T0 + 4 * H + 31 * M)
    sent = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox ORDER BY seq")]
    assert len({m["event_id"] for m in sent}) == len(sent)
    charges = [(m["charge_id"], m["amount_fen"], m["settled"]) for m in sent if m["type"] == "charge"]
    assert charges == [(1, 1100, False), (2, 500, True), (1, 1100, True)]
    settled = [m for m in sent if m["type"] == "charge"][-1]
    assert (settled["change"], settled["access_event_id"]) == ("settled", out.event_id)


def test_prepaid_visitor_is_not_charged_again_after_its_visit_is_extended(gw: Gateway) -> None:
    """A visitor pays 7元 at the booth; the host then extends the visit with a new pass (the stay
    follows the plate to it). Leaving within the grace period, the car owes nothing more."""
    add_visitor(gw, "苏E99999")
    assert show(gw, "car-in", "苏E99999", T0).reason == "visitor"
    gw.parking.prepay(gw.conn, "苏E99999", 700, "cash", "", "booth", T0 + 90 * M)
    visit = NewPass(
        "visitor", "钱七", T0 + 90 * M, T0 + 8 * H, host_building="3栋", host_unit="2单元", plate="苏E99999"
    )
    create_pass(gw.conn, gw.secrets, visit, T0 + 91 * M, "guard1")
    out = show(gw, "car-out", "苏E99999", T0 + 100 * M)  # within the 15 minutes of grace
    assert (out.admitted, out.fee_fen) == (True, 0)


def test_a_carried_charge_paid_at_the_exit_is_not_reported_as_paid_ahead(
    make_gw: Callable[..., Gateway],
) -> None:
    """reentry = "charge": a shared slot's second car whose exit was missed is billed at its re-entry
    (5元, up to the handover) and pays it at its next exit, parked on its own slot. The payment then
    settles that charge: the report must not count it as paid ahead by a car not seen leaving."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", "皖A11111", T0)  # on slot B001
    show(gw, "car-in", "皖A22222", T0 + H)  # second car: temporary, shared spaces
    show(gw, "car-out", "皖A11111", T0 + 2 * H)  # 皖A22222 (exit missed later) moves onto the slot
    back = show(gw, "car-in", "皖A22222", T0 + 5 * H)  # its exit was missed: re-entry
    assert back.admitted and back.billing == "slot"
    held = show(gw, "car-out", "皖A22222", T0 + 6 * H)
    assert (held.reason, held.fee_fen) == ("payment_due", 500)
    assert pay(gw, "皖A22222", 500, T0 + 6 * H + M).admitted
    unlinked = gw.conn.execute("SELECT count(*) FROM payments WHERE charge_id IS NULL").fetchone()[0]
    o = Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), T0)
    o.build_report(T0.date(), T0 + 24 * H)
    body = json.loads(gw.conn.execute("SELECT body FROM daily_reports").fetchone()[0])
    p = body["parking"]
    assert (p["revenue_fen"], p["charged_fen"], p["unpaid_fen"]) == (500, 500, 0)
    assert p["paid_ahead_not_left_fen"] == 0, p
    assert unlinked == 0


def _report(gw: Gateway, at) -> dict:  # type: ignore[no-untyped-def]
    o = Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), T0)
    return o.build_report(T0.date(), at)["parking"]


def test_a_days_money_figures_do_not_change_when_its_report_is_built_later(
    make_gw: Callable[..., Gateway],
) -> None:
    """Report day 3 March (00:00-24:00). At 23:50 a car pays ahead at the booth and another car's missed
    exit is billed at its re-entry (unpaid). Both are settled at 00:05 on the 4th. The report of the
    3rd says the same whether it is built at 00:01 (as the operations thread does) or rebuilt at
    00:30 (POST .../build, or a report backfilled after the gateway was off)."""
    gw = make_gw(reentry="charge")
    midnight = T0.replace(hour=0) + 24 * H
    show(gw, "car-in", "苏E00001", T0)
    show(gw, "car-in", "苏E00002", T0)
    gw.parking.prepay(gw.conn, "苏E00001", 3000, "cash", "", "booth", midnight - 10 * M)
    show(gw, "car-in", "苏E00002", midnight - 10 * M)  # its exit was missed: 30元 carried, unpaid
    first = _report(gw, midnight + M)
    assert (first["paid_ahead_not_left_fen"], first["unpaid_fen"]) == (3000, 3000)
    assert show(gw, "car-out", "苏E00001", midnight + 4 * M).admitted  # within the grace period
    held = show(gw, "car-out", "苏E00002", midnight + 5 * M)
    pay(gw, "苏E00002", held.fee_fen, midnight + 5 * M)
    again = _report(gw, midnight + 30 * M)
    assert again == first


def test_a_stay_paid_at_the_booth_cannot_then_be_validated_free(gw: Gateway) -> None:
    """A visitor pays 7元 at the booth, then the host unit would validate the stay (2 hours free)."""
    add_visitor(gw, "浙A99999")
    show(gw, "car-in", "浙A99999", T0)
    gw.parking.prepay(gw.conn, "浙A99999", 700, "cash", "", "booth", T0 + 90 * M)
    stay = gw.conn.execute("SELECT id FROM stays WHERE plate = '浙A99999'").fetchone()[0]
    with pytest.raises(ParkingError, match="has paid 7 already") as refused:
        gw.parking.validate(gw.conn, stay, "3栋", "2单元", "guard1", T0 + 92 * M)
    assert refused.value.http_code == "already_paid"
    # There is no refund: free now, the 7元 taken would stand against no charge, and the day's
    # revenue would no longer be its charges plus what cars not seen leaving paid ahead.
    out = show(gw, "car-out", "浙A99999", T0 + 95 * M)
    assert (out.admitted, out.fee_fen) == (True, 0)  # it paid for its stay at the booth
    p = _report(gw, T0.replace(hour=0) + 24 * H + M)
    assert p["revenue_fen"] == p["charged_fen"] + p["paid_ahead_not_left_fen"] == 700, p


def test_a_paid_up_monthly_car_of_a_shared_slot_is_not_billed_by_time(gw: Gateway) -> None:
    """皖A22222 shares slot B001 with 皖A11111 and has its own paid-up monthly period: while the slot
    is taken it parks in the shared spaces as a monthly car, free. It was billed by time."""
    gw.conn.execute(
        "UPDATE vehicles SET monthly_until = '2026-12-31T16:00:00.000000+00:00' WHERE plate = '皖A22222'"
    )
    show(gw, "car-in", "皖A11111", T0)
    second = show(gw, "car-in", "皖A22222", T0 + H)
    out = show(gw, "car-out", "皖A22222", T0 + 4 * H)
    assert (second.reason, out.fee_fen) == ("monthly", 0), (second.reason, second.flags, out.fee_fen)


def test_prepaid_stranger_registered_as_a_visitor_while_parked_is_not_charged_again(gw: Gateway) -> None:
    assert show(gw, "car-in", "苏E99999", T0).reason == "temporary"
    gw.parking.prepay(gw.conn, "苏E99999", 700, "qr", "", "booth", T0 + 90 * M)
    add_visitor(gw, "苏E99999")  # the guard registers the driver as a visitor (the stay follows the plate)
    out = show(gw, "car-out", "苏E99999", T0 + 100 * M)
    assert (out.admitted, out.fee_fen) == (True, 0)


def test_a_carried_charge_prepaid_before_midnight_and_linked_at_its_exit_after_it(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(reentry="charge")
    midnight = T0.replace(hour=0) + 24 * H
    show(gw, "car-in", "皖A11111", T0)  # on slot B001
    show(gw, "car-in", "皖A22222", T0 + H)  # second car of the slot: temporary, shared spaces
    show(gw, "car-out", "皖A11111", T0 + 2 * H)  # 皖A22222 moves onto the slot (handover)
    back = show(gw, "car-in", "皖A22222", T0 + 5 * H)  # its exit was missed: 5元 carried
    assert back.admitted and back.billing == "slot"
    # 23:50: the driver pays the carried 5元 at the booth (the car is parked on its own slot).
    gw.parking.prepay(gw.conn, "皖A22222", 500, "cash", "", "booth", midnight - 10 * M)
    first = _report(gw, midnight + M)  # built at 00:01, as the operations thread does
    # 00:05 the next day: it leaves; its payment is linked to the carried charge only now.
    out = show(gw, "car-out", "皖A22222", midnight + 5 * M)
    assert (out.admitted, out.fee_fen) == (True, 0)
    again = _report(gw, midnight + 30 * M)  # rebuilt (POST .../build, or backfilled)
    assert (again["paid_ahead_not_left_fen"], again["unpaid_fen"]) == (
        first["paid_ahead_not_left_fen"],
        first["unpaid_fen"],
    ), (first, again)


MOTO_TARIFF = """
[parking.tariffs.motorcycle]
free_minutes = 30
first_period_minutes = 0
period_minutes = 1440
period_fen = 100
daily_cap_fen = 500
"""


def test_typed_motorcycle_without_entry_is_quoted_and_charged_as_a_motorcycle(
    make_gw: Callable[..., Gateway],
) -> None:
    gw = make_gw(exit_without_entry="charge", extra=MOTO_TARIFF)
    at = T0 + timedelta(hours=2)

    def typed(conn):  # type: ignore[no-untyped-def]  # as POST /api/lanes/car-out/plate does
        return Presented(
            "car-out", "plate", "苏E5B123", 1.0, at, f"{TYPED_BY}guard1", vehicle_class="motorcycle"
        )

    held = gw.decide_now(typed)
    assert (held.reason, held.fee_fen) == ("payment_due", 500)  # the motorcycle's day cap
    quote = gw.parking.lane_quote(gw.conn, "car-out", at + timedelta(seconds=30))
    assert quote is not None
    # The guard's "take the fee" dialog shows this amount and sends it to /pay.
    assert quote["due_fen"] == held.fee_fen, quote  # was: the car's 30元 cap
    assert pay(gw, "苏E5B123", 500, at + timedelta(minutes=1)).admitted
    assert gw.conn.execute("SELECT class, amount_fen FROM charges").fetchall() == [("motorcycle", 500)]


def test_a_car_leaving_on_a_clock_set_back_by_a_reboot_is_not_let_out_free(gw: Gateway) -> None:
    """09:30 a stranger's car comes in (temporary: 30 minutes free, then 5元 the first hour), 09:20 a
    resident's. Power blip at 10:35; fake-hwclock last saved at 09:05, so the Pi boots saying 09:05
    and the router is still starting (no NTP). The stranger leaves at what is really 10:40, 70
    minutes after it came in; the gateway's clock says 09:10, 20 minutes *before* its entry. The
    clock cannot time its stay: it is not let out free, but held for a day's fee (the daily cap, as
    a car with no entry record under exit_without_entry = "charge"). The resident's car leaves: its
    stay ends at its entry, never before it began."""
    assert show(gw, "car-in", "苏E77777", T0.replace(minute=30)).reason == "temporary"
    assert show(gw, "car-in", "皖B33333", T0.replace(minute=20)).reason == "resident"
    show(gw, "car-in", "苏E00001", T0.replace(hour=10, minute=30))  # the last record before the blip
    out = show(gw, "car-out", "苏E77777", T0.replace(minute=10))  # the stale clock after the reboot
    assert (out.admitted, out.reason, out.fee_fen) == (False, "payment_due", 3000)
    assert show(gw, "car-out", "皖B33333", T0.replace(minute=12)).admitted
    stays = "SELECT entered_at, exited_at FROM stays WHERE plate = '皖B33333'"
    entered, exited = (from_db(t) for t in gw.conn.execute(stays).fetchone())
    assert exited == entered == T0.replace(minute=20)


def test_a_day_fee_taken_at_the_lane_while_the_clock_is_behind_lets_the_car_out(gw: Gateway) -> None:
    """The car held for a day's fee on a clock behind its entry (above): the guard takes the fee at
    the lane and the barrier opens. The payment belongs to the stay, whatever time the clock gave it."""
    assert show(gw, "car-in", "苏E77777", T0.replace(minute=30)).reason == "temporary"
    held = show(gw, "car-out", "苏E77777", T0.replace(minute=10))
    assert (held.reason, held.fee_fen) == ("payment_due", 3000)
    out = pay(gw, "苏E77777", 3000, T0.replace(minute=11))
    assert (out.admitted, out.reason) == (True, "temporary"), out
