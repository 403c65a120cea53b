"""Money after a second thought, from the review of stop 40: a re-entry correction undone after the
car left, a renewal taken back while the car is parked, a renewed second car handed its slot, and
a missed-exit charge restored the day after it was voided."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.corrections import correct_plate
from gateway.timefmt import to_db
from tests.parking.conftest import T0, pay, report_of_t0_day, show

H = timedelta(hours=1)
M = timedelta(minutes=1)
D = timedelta(days=1)
CAR, TYPED = "苏E12345", "苏E12346"


def _vid(site: Gateway, plate: str) -> int:
    return int(site.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (plate,)).fetchone()[0])


def test_undone_reentry_correction_after_the_car_left_leaves_nobody_inside(
    make_gw: Callable[..., Gateway],
) -> None:
    """苏E12345 comes in at 09:00, its exit is missed, it comes back in at 12:00 (already_inside).
    The guard takes the 12:00 reading for a misread and corrects it to 苏E12346 (the 09:00 stay is
    given back). At 13:00 苏E12345 pays at the exit and leaves. Reviewing the snapshots at 14:00,
    the guard sees the camera was right and corrects the 12:00 record back to 苏E12345. The car has
    gone: the guard and the occupancy count expect nobody inside. Instead 苏E12345 is recorded
    inside again on its 12:00 entry (a shared space taken), and next morning its entry is taken
    for a missed exit and charged from 12:00 (reentry = "charge")."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", CAR, T0)
    back = show(gw, "car-in", CAR, T0 + 3 * H)
    assert "already_inside" in back.flags
    correct_plate(gw.conn, back.event_id, TYPED, "guard1", T0 + 3 * H + 2 * M)
    out = show(gw, "car-out", CAR, T0 + 4 * H)
    if not out.admitted:
        out = pay(gw, CAR, out.fee_fen or 0, T0 + 4 * H + M)
    assert out.admitted, out
    correct_plate(gw.conn, back.event_id, CAR, "guard1", T0 + 5 * H)
    inside = [p for (p,) in gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL")]
    tomorrow = show(gw, "car-in", CAR, T0 + 24 * H)
    owed = gw.conn.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM charges WHERE voided_at IS NULL AND settled_at IS NULL"
    ).fetchone()[0]
    assert (inside, "already_inside" in tomorrow.flags, owed) == ([], False, 0), (
        inside,
        tomorrow.flags,
        owed,
    )
    # The centre hears which stay the correction closed, and under which plate it now stands.
    sent = [
        json.loads(p)
        for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'plate_correction'")
    ]
    entry_stay = gw.conn.execute(
        "SELECT id, plate FROM stays WHERE entry_event = ?", (back.event_id,)
    ).fetchone()
    assert (sent[-1]["entry_stay_closed"], entry_stay[1]) == (entry_stay[0], CAR), sent[-1]


def test_renewal_ended_again_while_parked_bills_from_the_end(gw: Gateway) -> None:
    """皖C44444's month ran out yesterday; it comes in at 09:00 paying (monthly_expired). At 10:00
    the office renews it (billing stops), at 11:00 the renewal is taken back - the transfer
    bounced, or the wrong car was renewed - with `monthly_until: null` ("an admin who ends the
    period ends it then, so it pays from then on", docs/parking.md Monthly). The car leaves at
    17:00. The accountant expects it to pay for 09:00-10:00 and 11:00-17:00 at least (it has no
    paid-up period for those hours); instead it is asked 5元, the hour before the renewal, and the
    six hours after the renewal was ended are free."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(T0 - D),))
    came = show(gw, "car-in", "皖C44444", T0)
    assert came.reason == "temporary" and "monthly_expired" in came.flags
    vid = _vid(gw, "皖C44444")
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * D})
    registry.update_vehicle(gw.conn, T0 + 2 * H, "admin", vid, {"monthly_until": None})
    out = show(gw, "car-out", "皖C44444", T0 + 8 * H)
    # 09:00-10:00 is 5元; 11:00-17:00 alone is at least 5元 + 5 x 2元 = 15元.
    assert out.fee_fen >= 1500, (out.reason, out.fee_fen)


def test_handover_of_a_renewed_second_car_is_counted_in_the_report(gw: Gateway) -> None:
    """R1's 皖A11111 is on slot B001; the second car 皖A22222, its month lapsed, comes in paying
    (shared_slot, monthly_expired). At 10:00 the office renews it. At 12:00 皖A11111 leaves and
    皖A22222 is moved onto the slot: the centre is sent a `stay` record `handover` for it. The
    day's report counts shared-slot handovers from the stays; the accountant reconciling the
    report with the centre's handover records expects 1. The report says 0: the renewal's mark
    (billed_until_cause = 'renewal') hides the real handover that followed."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖A22222'", (to_db(T0 - D),))
    assert show(gw, "car-in", "皖A11111", T0).billing == "slot"
    second = show(gw, "car-in", "皖A22222", T0 + M)
    assert second.reason == "temporary" and "monthly_expired" in second.flags
    registry.update_vehicle(gw.conn, T0 + H, "admin", _vid(gw, "皖A22222"), {"monthly_until": T0 + 31 * D})
    assert show(gw, "car-out", "皖A11111", T0 + 3 * H).admitted
    sent = [json.loads(p) for (p,) in gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'stay'")]
    handovers_sent = [m for m in sent if m.get("change") == "handover"]
    assert len(handovers_sent) == 1, sent
    assert report_of_t0_day(gw, T0 + D)["parking"]["handovers"] == 1
    # Renewed before the handover, it still pays only for the hour before the renewal.
    assert show(gw, "car-out", "皖A22222", T0 + 8 * H).fee_fen == 500


def _report_of_the_4th(gw: Gateway, built_at: Any) -> dict[str, Any]:
    return build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=(T0 + D).date(),
        hour=6,
        tz=gw.site.tz,
        built_at=built_at,
    )


def test_charge_restored_the_next_day_is_counted_in_a_report_sent(make_gw: Callable[..., Gateway]) -> None:
    """reentry = "charge". 苏E12345 in at 09:00, back in at 12:00 unseen leaving: a missed-exit
    charge of 9元 is carried. At 12:02 the guard corrects the 12:00 reading to 苏E12346 (charge
    voided); the 3 March report (06:00-06:00) is built and sent the next morning without it. At
    08:00 on the 4th, reviewing the snapshot, the guard corrects it back: the 9元 charge stands
    again (upstream `restored`) and the car will pay it. The accountant adds up the reports sent:
    the 9元 must be in one of them (the 3rd's as sent, or the 4th's). It is in neither: the 3rd's
    sent report left it out (voided then), the 4th's does not count a charge dated the 3rd, and
    a rebuild of the 3rd now counts it, so the rebuilt report no longer says what was sent
    (docs/parking.md *Daily report*: "a report built later ... says what the one sent said")."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", CAR, T0)
    back = show(gw, "car-in", CAR, T0 + 3 * H)
    assert "already_inside" in back.flags
    amount = gw.conn.execute("SELECT amount_fen FROM charges").fetchone()[0]
    assert amount == 900
    correct_plate(gw.conn, back.event_id, TYPED, "guard1", T0 + 3 * H + 2 * M)
    sent_3rd = report_of_t0_day(gw, T0 + D)["parking"]  # built at 09:00 on the 4th
    correct_plate(gw.conn, back.event_id, CAR, "guard1", T0 + D - H)  # 08:00 on the 4th
    rebuilt_3rd = report_of_t0_day(gw, T0 + 2 * D)["parking"]
    sent_4th = _report_of_the_4th(gw, T0 + 2 * D)["parking"]
    in_sent = sent_3rd["charged_fen"] + sent_4th["charged_fen"]
    assert (in_sent, rebuilt_3rd["charged_fen"]) == (amount, sent_3rd["charged_fen"]), (
        sent_3rd,
        rebuilt_3rd,
        sent_4th,
    )
    assert (sent_4th["charges"], sent_4th["unpaid_fen"]) == (1, amount), sent_4th


def test_renewal_taken_back_then_renewed_again_bills_the_time_between(gw: Gateway) -> None:
    """The same car: renewed at 10:00, the renewal taken back at 11:00, the right renewal made at
    12:00. It pays for 09:00-10:00 and 11:00-12:00 (5元 each, priced on their own), not for the
    renewed time after 12:00 (it was billed to its exit), nor nothing for the hour between."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(T0 - D),))
    show(gw, "car-in", "皖C44444", T0)
    vid = _vid(gw, "皖C44444")
    for n, until in enumerate([T0 + 31 * D, None, T0 + 31 * D], start=1):
        registry.update_vehicle(gw.conn, T0 + n * H, "admin", vid, {"monthly_until": until})
    assert show(gw, "car-out", "皖C44444", T0 + 8 * H).fee_fen == 1000


def test_charge_voided_after_its_report_and_restored_is_counted_once(make_gw: Callable[..., Gateway]) -> None:
    """The 9元 missed-exit charge of 3 March voided at 07:00 on the 4th, after the 3rd's period
    ended (06:00) with it standing, and restored at 08:00: the 3rd's report counts it, and the
    4th's, where it was restored, does not count it again."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", CAR, T0)
    back = show(gw, "car-in", CAR, T0 + 3 * H)
    correct_plate(gw.conn, back.event_id, TYPED, "guard1", T0 + D - 2 * H)  # 07:00 on the 4th
    correct_plate(gw.conn, back.event_id, CAR, "guard1", T0 + D - H)  # 08:00 on the 4th
    sent_3rd = report_of_t0_day(gw, T0 + D)["parking"]["charged_fen"]
    sent_4th = _report_of_the_4th(gw, T0 + 2 * D)["parking"]["charged_fen"]
    assert (sent_3rd, sent_4th) == (900, 0)
