"""Review wa (fix 63wa): a stay a plate correction closes, as the centre sees it: the report of the
day it closed on, built already, is built again and sent; a correction of that correction undoes the close."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from centre_helpers import H, M, centre

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, make_gw, pay, show  # noqa: F401  (fixtures)

S = timedelta(seconds=1)
REAL = "苏E12345"
MISREAD = "苏E1234S"
DAY = T0.date().isoformat()
STAY_OF_ENTRY = "SELECT id, plate, exited_at, closed_by FROM stays WHERE entry_event = ?"


def test_stay_closed_by_correction_on_a_day_already_reported_is_counted_in_some_sent_report(
    tmp_path: Path,
) -> None:
    """Monday 09:05 苏E12345 in, read 苏E1234S; 10:20 refused at the exit (no entry record), let out by
    hand 10 s later. Monday's report goes up on Tuesday. Tuesday 10:00 the office corrects the entry:
    the centre gets closed_by_correction, exited_at Monday 10:20:10. The reports sent (the newest of
    each day) should count that temporary stay closed once, as the record says it closed on Monday."""
    with centre(tmp_path) as c:
        mis = c.look("car-in", MISREAD, T0 + 5 * M)
        c.look("car-out", REAL, T0 + 80 * M)
        r = c.post("/api/lanes/car-out/open", {"reason": "无入场记录，已核实放行"}, T0 + 80 * M + 10 * S)
        assert r.status_code == 200, r.text
        c.now = T0 + 24 * H
        monday_sent = c.report(DAY)["parking"]["temporary_stays_closed"]
        r = c.post(f"/api/events/{mis.event_id}/plate", {"plate": REAL}, T0 + 25 * H)
        assert r.status_code == 200, r.text
        c.now = T0 + 48 * H
        c.gw.operations.reports(c.now)  # the automatic reports step: rebuilds marked days, builds Tuesday
        c.drain()
        records = c.records()
        rebuilt_by_hand = c.report(DAY)["parking"]["temporary_stays_closed"]
    closed = [r for r in records if r["type"] == "stay" and r.get("change") == "closed_by_correction"]
    assert len(closed) == 1 and closed[0]["exited_at"].startswith(DAY), closed
    newest: dict[str, dict] = {}
    for r in records:
        if r["type"] == "report":
            newest[r["report"]["day"]] = r["report"]
    counted = {d: rep["parking"]["temporary_stays_closed"] for d, rep in newest.items()}
    assert sum(counted.values()) == monday_sent + 1, (
        f"the centre got closed_by_correction for stay {closed[0]['stay_id']} "
        f"ending {closed[0]['exited_at']}, "
        f"but the reports it holds (newest per day) count temporary_stays_closed {counted}: Monday's "
        f"sent with {monday_sent} was not rebuilt and resent, and Tuesday's does not count it either "
        f"(a Monday report rebuilt by hand now says {rebuilt_by_hand}, not what was sent)"
    )


def test_correction_of_a_correction_leaves_the_closed_stay_on_the_first_plate(tmp_path: Path) -> None:
    """The office corrects the 09:05 entry to 苏E12345 (the car refused at 10:20 and let out by hand):
    the stay closes there, closed_by_correction sent. It was wrong: the entry's car was 苏E12399,
    still parked, and the office corrects the entry again to 苏E12399. The entry's stay should be
    苏E12399's, open (its car inside), and the centre told so (a record undoing the close); instead
    it stays closed under 苏E12345 at 苏E12345's exit, nothing sent but a plate_correction
    with stay_moved false, and 苏E12399 at the exit has no entry record."""
    third = "苏E12399"
    with centre(tmp_path) as c:
        mis = c.look("car-in", MISREAD, T0 + 5 * M)
        c.look("car-out", REAL, T0 + 80 * M)
        r = c.post("/api/lanes/car-out/open", {"reason": "无入场记录，已核实放行"}, T0 + 80 * M + 10 * S)
        assert r.status_code == 200, r.text
        r = c.post(f"/api/events/{mis.event_id}/plate", {"plate": REAL}, T0 + 6 * H)
        assert r.status_code == 200, r.text
        r = c.post(f"/api/events/{mis.event_id}/plate", {"plate": third}, T0 + 6 * H + 5 * M)
        assert r.status_code == 200, r.text
        c.drain()
        stay = c.read(
            "SELECT id, plate, exited_at, closed_by FROM stays WHERE entry_event = ?", mis.event_id
        )[0]
        records = c.records()
        out = c.look("car-out", third, T0 + 7 * H)
    changes = [
        (r["type"], r.get("change"), r.get("stay_moved"), r.get("entry_stay_closed"))
        for r in records
        if r["type"] in ("stay", "plate_correction")
    ]
    assert (stay[1], stay[2]) == (third, None) and "no_entry_record" not in out.flags, (
        f"entry {mis.event_id} corrected to {third} after a correction to {REAL} closed its stay: the stay "
        f"is {stay} (still {REAL}'s, closed at {REAL}'s exit), {third} at the exit flags {list(out.flags)}; "
        f"the centre got {changes}: no record reopens the stay closed_by_correction"
    )


def _stay_records(gw: Gateway, change: str) -> list[dict[str, Any]]:  # noqa: F811
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'stay' ORDER BY seq").fetchall()
    return [m for m in (json.loads(p) for (p,) in rows) if m["change"] == change]


def _charge_records(gw: Gateway) -> list[tuple[int, str]]:  # noqa: F811
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq").fetchall()
    return [(m["charge_id"], m.get("change") or "charged") for m in (json.loads(p) for (p,) in rows)]


def test_corrected_back_to_its_reading_the_stay_closed_by_the_first_correction_is_open_again(
    tmp_path: Path,
) -> None:
    """The office corrects the 09:05 entry 苏E1234S to 苏E12345 (refused at 10:20, let out by hand):
    the stay closes there. The camera was right after all: corrected back to 苏E1234S, the car is
    inside on its stay again, not refused at the exit with no entry record."""
    with centre(tmp_path) as c:
        mis = c.look("car-in", MISREAD, T0 + 5 * M)
        c.look("car-out", REAL, T0 + 80 * M)
        r = c.post("/api/lanes/car-out/open", {"reason": "无入场记录，已核实放行"}, T0 + 80 * M + 10 * S)
        assert r.status_code == 200, r.text
        r = c.post(f"/api/events/{mis.event_id}/plate", {"plate": REAL}, T0 + 6 * H)
        assert r.status_code == 200, r.text
        r = c.post(f"/api/events/{mis.event_id}/plate", {"plate": MISREAD}, T0 + 6 * H + 5 * M)
        assert r.status_code == 200, r.text
        c.drain()
        stay = c.read(
            "SELECT id, plate, exited_at, closed_by FROM stays WHERE entry_event = ?", mis.event_id
        )[0]
        records = c.records()
        out = c.look("car-out", MISREAD, T0 + 7 * H)
    assert stay[1:] == (MISREAD, None, None), stay
    assert "no_entry_record" not in out.flags, list(out.flags)
    reopened = [r for r in records if r["type"] == "stay" and r.get("change") == "reopened"]
    assert [(r["stay_id"], r["plate"], r["reason"], r["access_event_id"]) for r in reopened] == [
        (stay[0], REAL, "correction", mis.event_id)
    ], reopened
    last = [r for r in records if r["type"] == "plate_correction"][-1]
    assert (last["plate"], last["stay_moved"], last["entry_stay_closed"]) == (MISREAD, True, None), last


def test_recorrected_after_a_charged_exit_closed_the_stay_the_money_goes_back_as_it_was(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """exit_without_entry = "charge": 苏E12345 pays a day's fee at 11:00 with no entry record. The
    office corrects the 09:00 entry 苏E12346 to 苏E12345: the stay closes at that exit, the no_entry
    charge undone, its payment kept against a settled exit charge of the stay. Wrong: the entry was
    苏E12399's, still parked. Corrected again, the exit's no_entry charge stands again with its
    payment (sent `restored`), the stay's charge is undone (sent `voided`), and 苏E12399 is inside
    on the stay, paying it at its exit."""
    third = "苏E12399"
    gw = make_gw(exit_without_entry="charge")  # noqa: F811
    came = show(gw, "car-in", "苏E12346", T0)
    held = show(gw, "car-out", REAL, T0 + 2 * H)
    assert "no_entry_record" in held.flags and held.fee_fen
    out = pay(gw, REAL, held.fee_fen, T0 + 2 * H + M)
    assert out.admitted
    no_entry, paid_at_exit = gw.conn.execute(
        "SELECT c.id, p.id FROM charges c JOIN payments p ON p.charge_id = c.id WHERE c.kind = 'no_entry'"
    ).fetchone()
    correct_plate(gw.conn, came.event_id, REAL, "office1", T0 + 6 * H)
    stay_id, kept = gw.conn.execute(
        "SELECT s.id, c.id FROM stays s JOIN charges c ON c.stay_id = s.id AND c.voided_at IS NULL "
        "WHERE s.entry_event = ?",
        (came.event_id,),
    ).fetchone()
    again = correct_plate(gw.conn, came.event_id, third, "office1", T0 + 6 * H + 5 * M)
    assert again.stay_moved
    stay = gw.conn.execute(
        "SELECT plate, exited_at, closed_by FROM stays WHERE id = ?", (stay_id,)
    ).fetchone()
    assert stay == (third, None, None), stay
    standing = gw.conn.execute("SELECT id FROM charges WHERE voided_at IS NULL ORDER BY id").fetchall()
    assert standing == [(no_entry,)], f"charges standing {standing}: the no_entry {no_entry}, not {kept}"
    payment = gw.conn.execute(
        "SELECT charge_id, voided_charge_id, stay_id FROM payments WHERE id = ?", (paid_at_exit,)
    ).fetchone()
    assert payment == (no_entry, None, None), payment
    assert _charge_records(gw)[-2:] == [(kept, "voided"), (no_entry, "restored")], _charge_records(gw)
    restored = json.loads(
        gw.conn.execute(
            "SELECT payload FROM outbox WHERE topic = 'charge' ORDER BY seq DESC LIMIT 1"
        ).fetchone()[0]
    )
    assert (restored["amount_fen"], restored["paid_fen"], restored["owed_fen"], restored["settled"]) == (
        held.fee_fen,
        held.fee_fen,
        0,
        True,
    ), restored
    reopened = _stay_records(gw, "reopened")
    assert [(m["stay_id"], m["charge_id"], m["restored_charge_id"]) for m in reopened] == [
        (stay_id, kept, no_entry)
    ], reopened
    leaving = show(gw, "car-out", third, T0 + 8 * H)
    assert "no_entry_record" not in leaving.flags and leaving.reason == "payment_due", leaving


def test_recorrected_to_a_plate_inside_already_the_close_stands(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Corrected again to a car parked on a stay of its own (the entry's stay cannot move onto it,
    as any correction's), the entry's stay stays closed where the first correction closed it:
    nothing reopened, nothing sent but the plate_correction."""
    parked = "苏E12399"
    gw = make_gw(exit_without_entry="charge")  # noqa: F811
    show(gw, "car-in", parked, T0 - H)
    came = show(gw, "car-in", "苏E12346", T0)
    held = show(gw, "car-out", REAL, T0 + 2 * H)
    assert pay(gw, REAL, held.fee_fen or 0, T0 + 2 * H + M).admitted
    correct_plate(gw.conn, came.event_id, REAL, "office1", T0 + 6 * H)
    before = gw.conn.execute(STAY_OF_ENTRY, (came.event_id,)).fetchone()
    charges = "SELECT id, voided_at FROM charges ORDER BY id"
    charged = gw.conn.execute(charges).fetchall()
    assert before[3] == "correction", before
    again = correct_plate(gw.conn, came.event_id, parked, "office1", T0 + 6 * H + 5 * M)
    after = gw.conn.execute(STAY_OF_ENTRY, (came.event_id,)).fetchone()
    assert not again.stay_moved and after == before, (before, after)
    assert gw.conn.execute(charges).fetchall() == charged
    assert _stay_records(gw, "reopened") == []


def test_admin_close_at_an_exit_on_a_day_already_reported_is_counted_in_some_sent_report(
    tmp_path: Path,
) -> None:
    """exit_without_entry = "open": Monday 09:05 苏E12345 in; 10:20 out, read 苏E1234S, let out with no
    entry record. Monday's report goes up on Tuesday with 苏E12345 still inside. Tuesday the office
    corrects that exit to 苏E12345 and presses 已离场: the stay ends at Monday 10:20 (the
    closed_by_admin record says so), and Monday's report is built again and sent."""
    with centre(tmp_path, exit_without_entry="open") as c:
        c.look("car-in", REAL, T0 + 5 * M)
        out = c.look("car-out", MISREAD, T0 + 80 * M)
        assert out.admitted and "no_entry_record" in out.flags, out
        c.now = T0 + 24 * H
        monday_sent = c.report(DAY)["parking"]["temporary_stays_closed"]
        r = c.post(f"/api/events/{out.event_id}/plate", {"plate": REAL}, T0 + 25 * H)
        assert r.status_code == 200, r.text
        (stay_id,) = c.read("SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL", REAL)[0]
        r = c.post(f"/api/parking/stays/{stay_id}/close", {"reason": "出口识别错误，已核实离场"}, T0 + 25 * H)
        assert r.status_code == 200, r.text
        c.now = T0 + 48 * H
        c.gw.operations.reports(c.now)
        c.drain()
        records = c.records()
    closed = [r for r in records if r["type"] == "stay" and r.get("change") == "closed_by_admin"]
    assert len(closed) == 1 and closed[0]["exited_at"].startswith(DAY), closed
    newest = {r["report"]["day"]: r["report"] for r in records if r["type"] == "report"}
    counted = {d: rep["parking"]["temporary_stays_closed"] for d, rep in newest.items()}
    assert sum(counted.values()) == monday_sent + 1, (monday_sent, counted)


def test_reentry_corrected_away_and_back_after_the_first_correction_closed_its_stay(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """苏E1234S parked since 07:00. 09:00 苏E12345 comes in read as 苏E1234S (already inside: that
    stay closed as a missed exit); 11:00 苏E12345 pays a day's fee at the exit with no entry record.
    Corrected to 苏E12345, the entry's stay closes at that exit and 苏E1234S's is given back. Corrected
    back (the camera was right: 苏E1234S went out unseen and came back), the entry's stay is open again
    under 苏E1234S, that car inside once, the stay given back closed again as its missed exit, and
    苏E12345's day fee stands again."""
    gw = make_gw(exit_without_entry="charge")  # noqa: F811
    show(gw, "car-in", MISREAD, T0 - 2 * H)
    came = show(gw, "car-in", MISREAD, T0)
    assert "already_inside" in came.flags, came
    held = show(gw, "car-out", REAL, T0 + 2 * H)
    assert pay(gw, REAL, held.fee_fen or 0, T0 + 2 * H + M).admitted
    first = correct_plate(gw.conn, came.event_id, REAL, "office1", T0 + 6 * H)
    assert first.given_back is not None
    back = correct_plate(gw.conn, came.event_id, MISREAD, "office1", T0 + 6 * H + 5 * M)
    assert back.stay_moved and back.taken_back is not None, back
    inside = gw.conn.execute("SELECT plate, entry_event FROM stays WHERE exited_at IS NULL").fetchall()
    assert inside == [(MISREAD, came.event_id)], inside
    standing = gw.conn.execute("SELECT kind FROM charges WHERE voided_at IS NULL ORDER BY id").fetchall()
    assert ("no_entry",) in standing and ("exit",) not in standing, standing
