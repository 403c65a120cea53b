"""reentry = "charge": a car that paid ahead at the booth and whose exit was then missed is billed
at its re-entry "up to the new entry, less what was paid ahead at the booth during it"
(docs/parking.md). The centre learns what is owed from the upstream `charge` records; the daily
report says what is unpaid. The accountant compares the two."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, pay, show

H = timedelta(hours=1)
M = timedelta(minutes=1)


def _charges_sent(gw: Gateway) -> list[dict[str, object]]:
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq")
    return [json.loads(payload) for (payload,) in rows]


def test_what_the_centre_is_told_is_owed_matches_the_reports_unpaid(make_gw: Callable[..., Gateway]) -> None:
    """The car paid 7元 at the booth, left while the exit camera was down, and came back: the report
    said 6元 unpaid, the unsettled charge upstream 13元, and its settled record 13元 again."""
    gw = make_gw(reentry="charge")
    show(gw, "car-in", "苏E12345", T0)  # 09:00
    gw.parking.prepay(gw.conn, "苏E12345", 700, "qr", "WX-1", "booth", T0 + 2 * H - M)  # 10:59: 7元
    back = show(gw, "car-in", "苏E12345", T0 + 5 * H)  # 14:00, its 11:05 exit missed
    assert back.admitted and "already_inside" in back.flags
    o = Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), T0)
    report = o.build_report(T0.date(), T0.replace(hour=0) + 24 * H)["parking"]
    (unsettled,) = (m for m in _charges_sent(gw) if not m["settled"])
    # 09:00-14:00 is 13元, less the 7元 paid ahead: 6元 owed, as the report says
    assert report["unpaid_fen"] == 600, report
    assert (unsettled["amount_fen"], unsettled["paid_fen"], unsettled["owed_fen"]) == (1300, 700, 600)

    held = show(gw, "car-out", "苏E12345", T0 + 5 * H + 30 * M)
    pay(gw, "苏E12345", held.fee_fen, T0 + 5 * H + 31 * M)
    settled = [m for m in _charges_sent(gw) if m.get("change") == "settled"]
    assert [(m["charge_id"], m["amount_fen"], m["paid_fen"], m["owed_fen"]) for m in settled] == [
        (unsettled["charge_id"], 1300, 700, 600)
    ]
