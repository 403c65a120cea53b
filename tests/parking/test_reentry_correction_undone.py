"""A misread re-entry corrected, then the correction undone (the camera was right after all)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
M = timedelta(minutes=1)


def test_a_reentry_correction_undone_leaves_no_phantom_car_inside(gw: Gateway) -> None:
    """苏E12345 comes in at 09:00; its exit is missed and it comes back in at 12:00 (soft
    anti-passback, reentry = "void": its first stay closed, its fee dropped). The guard takes the
    12:00 reading for a misread and corrects it to 苏E12346 (the first stay is given back open),
    then sees the plate in the snapshot was 苏E12345 after all and corrects it back. The record now
    stands under 苏E12345 again, as the lane read it; the guard expects the stays to be as the lane
    left them: 苏E12346 never came in, and 苏E12345 is inside once. Instead 苏E12346 stays recorded
    inside for good (a shared space taken, a stay nobody will close) and 苏E12345 pays from 09:00."""
    show(gw, "car-in", "苏E12345", T0)
    back = show(gw, "car-in", "苏E12345", T0 + 3 * H)
    assert back.admitted and "already_inside" in back.flags
    correct_plate(gw.conn, back.event_id, "苏E12346", "guard1", T0 + 3 * H + 2 * M)
    correct_plate(gw.conn, back.event_id, "苏E12345", "guard1", T0 + 3 * H + 4 * M)
    inside = [p for (p,) in gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL ORDER BY id")]
    assert inside == ["苏E12345"], f"recorded inside after the correction was undone: {inside}"
    entry = gw.conn.execute("SELECT entry_event FROM stays WHERE exited_at IS NULL").fetchone()[0]
    assert entry == back.event_id, "苏E12345 is inside on its 12:00 entry, not on its 09:00 one"


def _tables(gw: Gateway) -> dict[str, list[tuple[object, ...]]]:
    return {
        t: gw.conn.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
        for t in ("stays", "charges", "payments")
    }


@pytest.mark.parametrize("reentry", ["void", "charge"])
def test_an_undone_reentry_correction_puts_the_missed_exit_charge_back_as_it_was(
    make_gw: Callable[..., Gateway], reentry: str
) -> None:
    """苏E12345 paid 7元 ahead at the booth at 10:30, left unseen and came back at 12:00: its first
    stay's missed-exit charge (reentry = "charge": its fee carried, less the 7元; "void": a settled
    charge of the 7元 kept) is undone by the correction to 苏E12346 and must stand again once the
    guard corrects the record back: the stays, charges and payments are as the lane left them, the
    car pays at its exit what it would have paid with no correction, and the centre is sent the
    charge again as it stands."""
    gw = make_gw(reentry=reentry)
    show(gw, "car-in", "苏E12345", T0)
    gw.parking.prepay(gw.conn, "苏E12345", 700, "cash", "", "booth", T0 + 90 * M)
    back = show(gw, "car-in", "苏E12345", T0 + 3 * H)
    assert "already_inside" in back.flags
    charge_id = gw.conn.execute("SELECT id FROM charges").fetchone()[0]
    as_left = _tables(gw)

    there = correct_plate(gw.conn, back.event_id, "苏E12346", "guard1", T0 + 3 * H + 2 * M)
    assert there.given_back is not None and there.given_back.voided == charge_id
    again = correct_plate(gw.conn, back.event_id, "苏E12345", "guard1", T0 + 3 * H + 4 * M)
    assert again.stay_moved and again.taken_back is not None and again.taken_back.restored == charge_id
    assert _tables(gw) == as_left, "the stays, charges and payments are as the lane left them"

    sent = [json.loads(x) for (x,) in gw.conn.execute("SELECT payload FROM outbox ORDER BY seq")]
    records = [m for m in sent if m["type"] == "charge" and m["charge_id"] == charge_id]
    first, last = records[0], records[-1]
    assert [m.get("change") for m in records] == [None, "voided", "restored"], records
    owed = (first["amount_fen"], first.get("owed_fen", 0), first["settled"])
    assert (last["amount_fen"], last["owed_fen"], last["settled"]) == owed, records
    correction = [m for m in sent if m["type"] == "plate_correction"][-1]
    assert correction["stay_closed_again"] == there.given_back.stay_id, correction

    plain = make_gw(reentry=reentry)  # the same cars, no correction
    show(plain, "car-in", "苏E12345", T0)
    plain.parking.prepay(plain.conn, "苏E12345", 700, "cash", "", "booth", T0 + 90 * M)
    show(plain, "car-in", "苏E12345", T0 + 3 * H)
    expected = show(plain, "car-out", "苏E12345", T0 + 5 * H)
    out = show(gw, "car-out", "苏E12345", T0 + 5 * H)
    assert (out.reason, out.fee_fen) == (expected.reason, expected.fee_fen), (out, expected)
