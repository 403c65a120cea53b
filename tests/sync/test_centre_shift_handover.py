"""A guard's 交班 goes up to the property company's centre (docs/mqtt.md, `shift_handover`): the
accountant reconciles the cash counted per guard per shift from it, with the `payment` records its
receipts name."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from centre_helpers import SITE, Uplink

from gateway.store.accounts import create_account, create_session, find_account
from gateway.store.shifts import hand_over
from tests.parking.conftest import T0, show

M = timedelta(minutes=1)


def test_a_handover_reaches_the_centre_with_its_figures_and_receipts(tmp_path: Path) -> None:
    """guard1 logs in, takes one fee himself and the kiosk one for him, counts 1元 short and hands
    over: the centre gets one `shift_handover` record on events/shift_handover, naming him by his
    user name alone, with the figures his 交班 page showed and the two receipts."""
    up = Uplink(tmp_path)
    gw = up.gw
    try:
        create_account(gw.conn, T0, "test", "guard1", "王师傅", "guard", "not-a-hash")
        account = find_account(gw.conn, "guard1")
        assert account is not None
        create_session(gw.conn, T0, account, 12)
        receipts, fees = [], 0
        for n, actor in enumerate(("guard1", "token:kiosk for guard1")):
            plate, at = f"苏E8000{n}", T0 + (n + 1) * 10 * M
            show(gw, "car-in", plate, at - 3 * 60 * M)
            due = gw.parking.quote(gw.conn, plate, at)["due_fen"]
            receipts.append(gw.parking.prepay(gw.conn, plate, due, "cash", "", actor, at)["receipt"])
            fees += due
        handed = hand_over(gw.conn, "guard1", T0 + 30 * M, fees - 100, "少一元", gw.site.tz)

        records = [r for r in up.deliver(T0 + 31 * M) if r["type"] == "shift_handover"]
        assert len(records) == 1
        r = records[0]
        assert (r["guard"], r["since"], r["note"]) == ("guard1", "login", "少一元")
        assert r["at"] == (T0 + 30 * M).isoformat() and r["shift_start"] == T0.isoformat()
        assert r["by_method"]["cash"] == {"count": 2, "total_fen": fees}
        assert r["by_method"]["qr"] == {"count": 0, "total_fen": 0}
        figures = (r["recorded_cash_fen"], r["counted_cash_fen"], r["difference_fen"])
        assert figures == (fees, fees - 100, -100)
        assert r["receipts"] == receipts
        assert r["event_id"] and r["seq"] and r["site"] == SITE
        assert "王师傅" not in str(r)  # the display name stays on the box
        assert handed.difference_fen == -100
        topics = [t for t, body, _ in up.sub.messages if b'"shift_handover"' in body]
        assert topics == [f"estate/{SITE}/events/shift_handover"]
    finally:
        up.close()
