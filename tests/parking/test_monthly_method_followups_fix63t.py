"""Review 63t of fix 63m (the `monthly` method is refused for a car with no monthly account).

1. A booth kiosk's prepay with method monthly for a lapsed monthly car went through, but the kiosk
   lost the answer; before its retry the office struck the car off (or its monthly period was
   cleared). The retry, same car, same amount, was told 422 no_monthly_account, "take the fee in
   cash or by QR": the driver was asked to pay a fee already booked. It is already_paid, naming the
   receipt, as at the lane.
2. A guard's 交班 page added the fees put on monthly accounts (月租, no money) into 合计, the money he
   took: 9元 monthly and 11元 cash showed 合计 20元. 合计 is now the cash and QR alone, 月租 on its
   own row below it, said to be put on accounts and not in the total; GET /api/shift gives it as
   `taken_fen` (`total_fen` keeps its meaning, every fee recorded, as the daily report's revenue_fen)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.parking import ParkingError
from gateway.store.registry_vehicles import delete_vehicle
from gateway.store.shifts import shift_of
from tests.parking.conftest import T0, pay, show
from tests.parking.test_shift_handover_api import booth
from tests.ui.conftest import GUARD, log_in

H, M, S = timedelta(hours=1), timedelta(minutes=1), timedelta(seconds=1)
LAPSED = "皖D55555"  # R4's car, its monthly period over since January: pays by time
STRANGER = "苏E12345"


def _vid(gw: Gateway) -> int:
    return gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (LAPSED,)).fetchone()[0]


def _struck_off(gw: Gateway) -> None:
    delete_vehicle(gw.conn, T0 + 2 * H, "admin", _vid(gw))


def _period_cleared(gw: Gateway) -> None:
    with gw.conn:
        gw.conn.execute("UPDATE vehicles SET monthly_until = NULL WHERE id = ?", (_vid(gw),))


@pytest.mark.parametrize("receipt", ["K-0001", ""])
@pytest.mark.parametrize("account_gone", [_struck_off, _period_cleared], ids=["struck_off", "period_cleared"])
def test_a_booth_monthly_payment_sent_again_after_its_account_is_gone_is_already_paid(
    gw: Gateway, receipt: str, account_gone: Callable[[Gateway], None]
) -> None:
    show(gw, "car-in", LAPSED, T0)
    due = gw.parking.quote(gw.conn, LAPSED, T0 + 2 * H)["due_fen"]
    assert due > 0
    first = gw.parking.prepay(gw.conn, LAPSED, due, "monthly", receipt, "booth", T0 + 2 * H)
    account_gone(gw)
    with pytest.raises(ParkingError) as again:
        gw.parking.prepay(gw.conn, LAPSED, due, "monthly", receipt, "booth", T0 + 2 * H + 20 * S)
    err = again.value
    assert err.http_code == "already_paid", (
        f"the kiosk's retry of receipt {first['receipt']} should be told already_paid (take nothing "
        f"again), not {err.http_code}: {err.message} / {err.fix}"
    )
    assert first["receipt"] in f"{err.message} {err.fix} {err.data}", (err.message, err.fix, err.data)
    assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 1


def test_a_new_monthly_payment_after_the_car_is_struck_off_is_still_refused(gw: Gateway) -> None:
    """What the fix leaves as it was: with no payment to answer, a car struck off has no account."""
    show(gw, "car-in", LAPSED, T0)
    due = gw.parking.quote(gw.conn, LAPSED, T0 + 2 * H)["due_fen"]
    _struck_off(gw)
    with pytest.raises(ParkingError) as refused:
        gw.parking.prepay(gw.conn, LAPSED, due, "monthly", "", "booth", T0 + 2 * H)
    assert refused.value.http_code == "no_monthly_account"
    assert gw.conn.execute("SELECT count(*) FROM payments").fetchone()[0] == 0


def test_at_the_lane_a_retry_after_the_strike_off_is_already_paid(gw: Gateway) -> None:
    show(gw, "car-in", LAPSED, T0)
    held = show(gw, "car-out", LAPSED, T0 + 2 * H)
    assert pay(gw, LAPSED, held.fee_fen, T0 + 2 * H, method="monthly").admitted
    _struck_off(gw)
    with pytest.raises(ParkingError) as again:
        pay(gw, LAPSED, held.fee_fen, T0 + 2 * H + 20 * S, method="monthly")
    assert again.value.http_code == "already_paid", (again.value.http_code, again.value.message)


def test_at_the_lane_a_car_paid_on_its_account_at_the_booth_then_struck_off_is_already_paid(
    gw: Gateway,
) -> None:
    """The car is held at the exit; the booth's kiosk puts its fee on its account; the office strikes
    it off; the exit tablet's 收费放行 dialog, open all along, sends 月租: already_paid naming the
    booth's receipt (paid_while_held), not "take the fee in cash or by QR"."""
    show(gw, "car-in", LAPSED, T0)
    held = show(gw, "car-out", LAPSED, T0 + 2 * H)
    booth_paid = gw.parking.prepay(gw.conn, LAPSED, held.fee_fen, "monthly", "", "booth", T0 + 2 * H)
    _struck_off(gw)
    with pytest.raises(ParkingError) as again:
        pay(gw, LAPSED, held.fee_fen, T0 + 2 * H + 30 * S, method="monthly")
    err = again.value
    assert err.http_code == "already_paid", (err.http_code, err.message, err.fix)
    assert err.data["receipt"] == booth_paid["receipt"], err.data


def test_the_shift_total_is_the_money_taken_not_the_fees_put_on_monthly_accounts(gw: Gateway) -> None:
    show(gw, "car-in", LAPSED, T0)
    show(gw, "car-in", STRANGER, T0)
    lapsed = show(gw, "car-out", LAPSED, T0 + 3 * H)
    assert pay(gw, LAPSED, lapsed.fee_fen, T0 + 3 * H, method="monthly").admitted
    stranger = show(gw, "car-out", STRANGER, T0 + 3 * H + M)
    assert pay(gw, STRANGER, stranger.fee_fen, T0 + 3 * H + M, method="cash").admitted
    shift = shift_of(gw.conn, "guard1", T0 + 4 * H)
    assert shift.by_method["monthly"] == (1, lapsed.fee_fen)
    assert shift.taken_fen == stranger.fee_fen, (
        f"合计 on guard1's 交班 page says {shift.taken_fen} fen taken; he took {stranger.fee_fen} fen "
        f"(cash {shift.cash_fen}, QR 0); {lapsed.fee_fen} fen went on a monthly account, no money"
    )
    assert shift.total_fen == stranger.fee_fen + lapsed.fee_fen  # every fee recorded, as before


def _row(html: str, row_id: str) -> list[str]:
    """The cells' text of the table row `row_id` on the page."""
    row = re.search(rf'<tr[^>]*\bid="{row_id}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"no row {row_id} on the page"
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)
    ]


def test_the_shift_page_and_api_total_the_cash_and_qr_and_show_monthly_apart(
    make_gw: Callable[..., Gateway],
) -> None:
    """The kiosk's token puts R4's lapsed car's fee on its account for guard1 and takes a stranger's
    in cash: his 交班 page's 合计 is the cash alone, with one payment; 月租 is on its own row, after
    合计, said to be no money in it; GET /api/shift's taken_fen is the cash too."""
    with booth(make_gw) as (gw, clock, client, token):
        log_in(client, GUARD)
        clock["now"] += M
        fees = {}
        for plate, method in ((LAPSED, "monthly"), (STRANGER, "cash")):
            show(gw, "car-in", plate, clock["now"] - 2 * H)
            fees[method] = show(gw, "car-out", plate, clock["now"] - M).fee_fen
            paid = client.post(
                "/api/parking/lanes/car-out/pay",
                headers=token,
                json={"plate": plate, "amount_fen": fees[method], "method": method, "actor": "guard1"},
            )
            assert paid.status_code == 200, paid.text
            clock["now"] += M

        mine = client.get("/api/shift").json()
        assert mine["taken_fen"] == fees["cash"], mine
        assert mine["total_fen"] == fees["cash"] + fees["monthly"], mine  # unchanged: every fee
        assert mine["by_method"]["monthly"] == {"count": 1, "total_fen": fees["monthly"]}

        page = client.get("/shift")
        assert page.status_code == 200, page.text
        html = page.text
        yuan = f"{fees['cash'] // 100}.{fees['cash'] % 100:02d}"
        assert _row(html, "shift-total") == ["合计", "1", yuan], _row(html, "shift-total")
        monthly = _row(html, "shift-monthly")
        assert monthly[0].startswith("月租") and "不计入合计" in monthly[0], monthly
        assert monthly[1:] == ["1", f"{fees['monthly'] // 100}.{fees['monthly'] % 100:02d}"], monthly
        assert html.index('id="shift-total"') < html.index('id="shift-monthly"')
        assert 'data-method="monthly"' not in html.split('id="shift-total"')[0]
