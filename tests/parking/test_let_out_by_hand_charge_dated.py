"""The carried charge of a car held to pay and let out by the guard's opening by hand (reentry =
"charge", docs/parking.md, *Let out by hand*): its fee runs to the hold, but the charge is made at
the opening, and goes upstream dated then, in the site's offset, as every record's time
(docs/mqtt.md): a centre files it, and the daily report counts it, on the day of the opening."""

from __future__ import annotations

from pathlib import Path

from tests.parking.charge_record_helpers import DAY, LET_OUT, H, M, reports_sent, running, sent


def test_the_charge_of_a_car_let_out_by_hand_is_dated_in_the_sites_offset(tmp_path: Path) -> None:
    """Held at 07:30 in Shanghai (23:30 UTC the day before) and let out by hand a minute later: the
    charge went up with its times in UTC, and a centre filing records by their local date filed it
    on the day before."""
    with running(tmp_path) as (gw, clock, client, auth, look):
        look("car-in", "苏E10005", DAY + 5 * H)
        assert look("car-out", "苏E10005", DAY + 7 * H + 30 * M).reason == "payment_due"
        clock.at = DAY + 7 * H + 31 * M
        r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
        assert r.status_code == 200, r.text
        (charge,) = sent(gw, "charge")
        times = [charge[k] for k in ("at", "started_at", "ended_at")]
        assert times == [
            "2025-03-03T07:31:00+08:00",
            "2025-03-03T05:00:00+08:00",
            "2025-03-03T07:30:00+08:00",
        ]
        assert charge["amount_fen"] == 900  # its fee to the hold: 2 h 30 min


def test_the_charge_of_a_car_held_before_midnight_and_let_out_after_is_in_a_report(tmp_path: Path) -> None:
    """Held at 23:50 on Monday, let out by hand at 00:10 on Tuesday, its fee carried unpaid. Monday's
    report was built and sent at 00:05; the charge, dated at the hold, was left out of Tuesday's too:
    the centre had a charge, and 7元 owed, that no daily report counted."""
    with running(tmp_path) as (gw, clock, client, auth, look):
        look("car-in", "苏E10005", DAY + 21 * H + 50 * M)
        held = look("car-out", "苏E10005", DAY + 23 * H + 50 * M)
        assert (held.reason, held.fee_fen) == ("payment_due", 700)
        clock.at = DAY + 24 * H + 5 * M
        gw.operations.build_report(DAY.date(), clock.at)
        clock.at = DAY + 24 * H + 10 * M
        r = client.post("/api/lanes/car-out/open", headers=auth, json=LET_OUT)
        assert r.status_code == 200, r.text
        clock.at = DAY + 48 * H + 5 * M
        gw.operations.build_report((DAY + 24 * H).date(), clock.at)
        counted = [(r["day"], r["parking"]["charges"], r["parking"]["unpaid_fen"]) for r in reports_sent(gw)]
        assert counted == [("2025-03-03", 0, 0), ("2025-03-04", 1, 700)]
        (charge,) = sent(gw, "charge")  # its fee still runs to the hold
        assert (charge["amount_fen"], charge["ended_at"]) == (700, "2025-03-03T23:50:00+08:00")
