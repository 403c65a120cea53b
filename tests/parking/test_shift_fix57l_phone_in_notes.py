"""Review 57l: a phone number a guard types into the 交班 note, a method correction's reason or an
alarm's acknowledgement note was stored in clear in the audit trail and sent upstream in clear
(REQUIREMENTS *Privacy*: never upstream in clear). It is now masked before it is stored or sent,
the rest of the text kept as typed."""

from __future__ import annotations

import json
from collections.abc import Callable

from gateway.alarm_texts import AlarmText
from gateway.runtime.gateway import Gateway
from gateway.store.alarms import acknowledge_alarm, raise_alarm
from tests.parking.test_shift_handover_api import GUARD, M, booth, log_in, take

PHONE = "13812345678"


def _payloads(gw: Gateway, topic: str) -> list[str]:
    rows = gw.on_worker(
        lambda c: c.execute("SELECT payload FROM outbox WHERE topic = ? ORDER BY seq", (topic,)).fetchall()
    ).result(10)
    return [p for (p,) in rows]


def test_a_phone_number_in_the_handover_note_never_goes_up_or_stays_in_clear(
    make_gw: Callable[..., Gateway],
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        fee = take(gw, client, csrf, "苏E30001", method="qr")
        note = f"苏E30001车主少付5元，电话{PHONE}，明天补"
        handed = client.post("/api/shift/handover", headers=csrf, json={"counted_cash_fen": 0, "note": note})
        assert handed.status_code == 201, handed.text
        (record,) = [json.loads(p) for p in _payloads(gw, "shift_handover")]
        (receipt,) = record["receipts"]
        assert fee and receipt
        fixed = client.post(
            f"/api/payments/{receipt}/method",
            headers=token,
            json={"method": "cash", "reason": f"司机付现金，电话{PHONE}可核实"},
        )
        assert fixed.status_code == 200, fixed.text

        upstream = [p for t in ("shift_handover", "payment") for p in _payloads(gw, t) if PHONE in p]
        audit = gw.on_worker(
            lambda c: c.execute(
                "SELECT action, detail FROM audit WHERE detail LIKE ?", (f"%{PHONE}%",)
            ).fetchall()
        ).result(10)
        assert upstream == [] and audit == [], (
            f"in clear upstream: {upstream}; in clear in the audit trail: {audit}"
        )
        # What the next guard and the office read still says whom to call, masked.
        assert "电话138****5678，明天补" in _payloads(gw, "shift_handover")[0]
        assert handed.json()["note"] == "苏E30001车主少付5元，电话138****5678，明天补"


def test_a_phone_number_in_an_alarm_acknowledgement_never_goes_up_in_clear(
    make_gw: Callable[..., Gateway],
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        forced = AlarmText("forced_open", {"lane": "car-in", "device": "car-in-io"})

        def raise_and_acknowledge(c):  # type: ignore[no-untyped-def]
            raise_alarm(c, "forced_open", "car-in", forced, gw.now())
            (alarm_id,) = c.execute("SELECT max(id) FROM alarms").fetchone()
            acknowledge_alarm(c, alarm_id, gw.now(), "guard1", "业主撞杆，电话 138 1234 5678")

        gw.on_worker(raise_and_acknowledge).result(10)
        stored = gw.on_worker(
            lambda c: c.execute(
                "SELECT (SELECT group_concat(payload) FROM outbox), "
                "(SELECT group_concat(detail) FROM audit), "
                "(SELECT group_concat(acknowledged_note) FROM alarms)"
            ).fetchone()
        ).result(10)
        assert all("1234 5678" not in (text or "") for text in stored), stored
        assert "电话 138****5678" in stored[2]
