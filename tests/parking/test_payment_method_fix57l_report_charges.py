"""Review 57l: correcting a payment's method rebuilt its day's report, and the rebuilt report changed
figures the correction never touched: the day's charges counted a voided charge and its replacement.
Now the kept report only has the amount moved between its methods, and is sent again.

Monday: 苏E12345's entry was misread as 苏E12346; it left at 11:00 with no entry record and paid a
day's 30元 by QR. Monday's report (built Tuesday 06:00, sent) says 3000 fen charged. Tuesday 08:00
the office corrects the entry (the no_entry charge is voided, the 30元 kept against a settled charge
dated as the one it replaces, Review 57j). Tuesday 09:00 the guard's 扫码 is corrected to cash.
payment_method.correct_method marked Monday's report to be rebuilt; rebuilt, it said 6000 fen charged
-- the voided charge and its replacement both -- for 3000 standing. 57j left such a rebuild alone as
rare (a stale boot clock); a method correction now makes it on any ordinary Tuesday, and the centre
gets a Monday report whose charges doubled because a cash/QR button was tapped."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0
from tests.parking.test_api import serving, show

H, M = timedelta(hours=1), timedelta(minutes=1)
GONE, PARKED = "苏E12345", "苏E12346"


def test_a_method_correction_rebuilds_only_the_revenue_by_method(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw(exit_without_entry="charge")
    clock = {"now": T0}
    gw.now = lambda: clock["now"]  # type: ignore[method-assign]
    with serving(gw) as (gw, client, token):
        came = show(gw, "car-in", PARKED, T0)  # really 苏E12345, misread
        held = show(gw, "car-out", GONE, T0 + 2 * H)
        assert "no_entry_record" in held.flags
        clock["now"] = T0 + 2 * H + M
        paid = client.post(
            "/api/parking/lanes/car-out/pay",
            headers=token,
            json={"plate": GONE, "amount_fen": held.fee_fen, "method": "qr"},
        )
        assert paid.status_code == 200, paid.text
        receipt = paid.json()["receipt"]
        day = T0.date().isoformat()

        clock["now"] = T0 + 21 * H  # Tuesday 06:00: Monday's report built and sent
        sent = client.post(f"/api/parking/reports/{day}/build", headers=token)
        assert sent.status_code == 200, sent.text
        sent_parking = sent.json()["parking"]

        clock["now"] = T0 + 23 * H  # Tuesday 08:00: the office corrects the misread entry
        gw.on_worker(lambda c: correct_plate(c, came.event_id, GONE, "office1", clock["now"])).result(10)

        clock["now"] = T0 + 24 * H  # Tuesday 09:00: the 扫码 was cash
        done = client.post(
            f"/api/payments/{receipt}/method", headers=token, json={"method": "cash", "reason": "付的现金"}
        )
        assert done.status_code == 200 and done.json()["reports_sent_again"] == [day], done.text
        # The entry's correction closed its stay at Monday's 11:01 exit: Monday's report is built
        # again for that (Review 63wa), counting the stay closed; its charges stay as sent.
        assert gw.operations.reports(clock["now"]) == [day]
        rebuilt = client.get(f"/api/parking/reports/{day}", headers=token).json()["parking"]

        assert rebuilt["revenue_by_method_fen"] == {"cash": held.fee_fen, "qr": 0, "monthly": 0}
        changed = {
            k: (sent_parking[k], rebuilt[k])
            for k in sent_parking
            if k != "revenue_by_method_fen" and sent_parking[k] != rebuilt[k]
        }
        assert changed == {"temporary_stays_closed": (0, 1)}, f"Monday's report rebuilt changed {changed}"
