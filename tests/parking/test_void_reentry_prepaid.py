"""policy.reentry = "void" (the default): a car that paid ahead at the booth, whose exit the camera
missed, comes back in: its old stay is closed as `reentry` and its fee dropped. The money it paid
is kept (no refund) and, as for an admin's close or a guard's opening by hand with "void"
(docs/parking.md, *Admin correction*, *Let out by hand*, *Paid, then free*), set against a settled
charge of what was paid: else the day's report counts it for good as "paid ahead by a car not seen
leaving" though the stay is closed and the car has since left, revenue exceeds charges, and the
central server gets a `payment` for the stay and never a `charge`. An entry misread as that car,
corrected by the guard, gives the stay back open with its payment, and undoes that charge."""

from __future__ import annotations

import json
from datetime import timedelta

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_booth_payment_of_a_stay_closed_by_a_void_reentry_stands_against_a_charge(gw: Gateway) -> None:
    """7元 paid at the booth at 10:30; the car left unseen, came back at 14:00 and left at 14:20:
    the day's report has 7元 taken and 7元 charged, none paid ahead by a car not seen leaving, and
    upstream a settled 7元 charge of the first stay."""
    show(gw, "car-in", "苏E12345", T0)  # 09:00
    gw.parking.prepay(gw.conn, "苏E12345", 700, "cash", "", "booth", T0 + 90 * M)  # 10:30, 7元
    # It left within its grace period; the exit camera missed it. Back at 14:00, out at 14:20.
    back = show(gw, "car-in", "苏E12345", T0 + 5 * H)
    assert back.admitted and "already_inside" in back.flags
    out = show(gw, "car-out", "苏E12345", T0 + 5 * H + 20 * M)
    assert (out.admitted, out.fee_fen) == (True, 0)

    o = Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), T0)
    o.build_report(T0.date(), T0 + 24 * H)
    p = json.loads(gw.conn.execute("SELECT body FROM daily_reports").fetchone()[0])["parking"]
    sent = [json.loads(x) for (x,) in gw.conn.execute("SELECT payload FROM outbox ORDER BY seq")]
    stay1 = [m for m in sent if m["type"] == "charge" and m["stay_id"] == 1]
    assert (p["revenue_fen"], p["charged_fen"], p["paid_ahead_not_left_fen"]) == (700, 700, 0), p
    assert [(m["amount_fen"], m["settled"]) for m in stay1] == [(700, True)], stay1


def test_a_void_reentry_of_a_stay_that_paid_nothing_writes_no_charge(gw: Gateway) -> None:
    """Nothing paid ahead: the missed exit's fee is dropped, as before, and no charge is written."""
    show(gw, "car-in", "苏E12345", T0)
    assert "already_inside" in show(gw, "car-in", "苏E12345", T0 + 5 * H).flags
    assert gw.conn.execute("SELECT count(*) FROM charges").fetchone()[0] == 0


def test_a_misread_reentry_corrected_gives_the_booth_payment_back_to_the_reopened_stay(gw: Gateway) -> None:
    """苏E12345 comes in at 09:00 and pays 7元 ahead at the booth at 10:30 (its fee up to then). At
    10:35 another car, 苏E12346, is read as 苏E12345 at the entry: soft anti-passback lets it in and,
    reentry = "void", closes 苏E12345's stay as a missed exit. The guard corrects the record to
    苏E12346: 苏E12345's stay is open again (the car was parked all along). It leaves at 10:40,
    within its 15 minutes' grace: it has paid, and must not be asked 7元 again."""
    show(gw, "car-in", "苏E12345", T0)
    gw.parking.prepay(gw.conn, "苏E12345", 700, "cash", "", "booth", T0 + 90 * M)
    misread = show(gw, "car-in", "苏E12345", T0 + 95 * M)
    assert misread.admitted and "already_inside" in misread.flags
    done = correct_plate(gw.conn, misread.event_id, "苏E12346", "guard1", T0 + 97 * M)
    assert done.given_back is not None, "the stay the misread entry closed is open again"

    out = show(gw, "car-out", "苏E12345", T0 + 100 * M)
    kept = gw.conn.execute(
        "SELECT id, kind, amount_fen, settled_at IS NOT NULL, voided_at IS NOT NULL FROM charges"
    ).fetchall()
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"asked {out.fee_fen} fen again after paying 700 at the booth; charges: {kept}"
    )


def test_a_misread_reentry_corrected_leaves_no_charge_for_a_stay_still_parked(gw: Gateway) -> None:
    """The same, as the central server sees it: the settled 7元 charge sent for the first stay when
    the misread entry closed it is undone once the correction shows the car never left, as a
    missed exit's charge undone by a correction is (a `charge` record with "change": "voided")."""
    show(gw, "car-in", "苏E12345", T0)
    gw.parking.prepay(gw.conn, "苏E12345", 700, "cash", "", "booth", T0 + 90 * M)
    misread = show(gw, "car-in", "苏E12345", T0 + 95 * M)
    correct_plate(gw.conn, misread.event_id, "苏E12346", "guard1", T0 + 97 * M)
    sent = [json.loads(x) for (x,) in gw.conn.execute("SELECT payload FROM outbox ORDER BY seq")]
    stay1 = [(m.get("change"), m["kind"], m["amount_fen"]) for m in sent if m["type"] == "charge"]
    standing = gw.conn.execute("SELECT count(*) FROM charges WHERE stay_id = 1 AND voided_at IS NULL")
    assert standing.fetchone()[0] == 0, f"stay 1 is open again, yet a charge stands for it: upstream {stay1}"
    assert stay1 == [(None, "exit", 700), ("voided", "exit", 0)], stay1
