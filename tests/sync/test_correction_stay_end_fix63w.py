"""Review 63w: the centre rebuilds a stay closed by a late plate correction from the records alone.

09:05 a stranger's car 苏E12345 comes in, read as 苏E1234S (a temporary stay under the misread
plate). 10:20 it is at the exit, read right: no entry record, refused (exit_without_entry =
"guard"); the guard checks and opens by hand 10 s later. 15:00 the office, going through the plate
log, corrects the entry to 苏E12345: the gateway moves the stay onto 苏E12345 and closes it at that
opening (docs/parking.md *Misread plates*). Upstream the centre got the entry's access record, the
refusal, a lane_action `open` and a plate_correction with `entry_stay_closed`: no record said when
that stay ended, nor at which decision, so the centre could not give the car's stay (in 09:05, out
10:20) nor its fee. A `stay` record `closed_by_correction` now says so (docs/mqtt.md), as
`closed_by_admin` gives `exited_at`: also where the stay ends at an exit that charged it (no entry
record, exit_without_entry = "charge") and where an entry corrected back ends with the stay given
back (its car paid and left since).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from centre_helpers import H, M, centre

from gateway.runtime.gateway import Gateway
from gateway.store.corrections import correct_plate
from tests.parking.conftest import T0, gw, make_gw, pay, show  # noqa: F401  (fixtures)

S = timedelta(seconds=1)
REAL = "苏E12345"


def _closed_by_correction(gw: Gateway) -> list[dict[str, Any]]:  # noqa: F811
    rows = gw.conn.execute("SELECT payload FROM outbox WHERE topic = 'stay' ORDER BY seq").fetchall()
    return [m for m in (json.loads(p) for (p,) in rows) if m["change"] == "closed_by_correction"]


def test_stay_closed_at_an_opening_by_hand_says_where_and_when_it_ended(tmp_path: Path) -> None:
    with centre(tmp_path) as c:
        mis = c.look("car-in", "苏E1234S", T0 + 5 * M)
        out = c.look("car-out", REAL, T0 + 80 * M)
        assert (out.admitted, list(out.flags)) == (False, ["no_entry_record"])
        r = c.post("/api/lanes/car-out/open", {"reason": "无入场记录，已核实放行"}, T0 + 80 * M + 10 * S)
        assert r.status_code == 200, r.text
        r = c.post(f"/api/events/{mis.event_id}/plate", {"plate": REAL}, T0 + 6 * H)
        assert r.status_code == 200, r.text
        c.drain()
        stay_id, exited_at, exit_event = c.read(
            "SELECT id, exited_at, exit_event FROM stays WHERE entry_event = ?", mis.event_id
        )[0]
        records = c.records()
    assert exit_event == out.event_id and exited_at.startswith("2025-03-03T02:20:10"), (exit_event, exited_at)
    correction = next(r for r in records if r["type"] == "plate_correction")
    assert correction["entry_stay_closed"] == stay_id
    closed = [r for r in records if r["type"] == "stay" and r.get("change") == "closed_by_correction"]
    assert len(closed) == 1, (
        f"stay {stay_id} (苏E12345, in 09:05) was closed by the correction at the 10:20:10 opening that let "
        f"out refusal {out.event_id}, but no `stay` record says so: "
        + "; ".join(f"{r['type']}:{r.get('change') or r.get('action')}" for r in records)
    )
    got = {k: closed[0][k] for k in ("stay_id", "plate", "exited_at", "exit_event_id", "by_hand")}
    assert got == {
        "stay_id": stay_id,
        "plate": REAL,
        "exited_at": "2025-03-03T10:20:10+08:00",
        "exit_event_id": out.event_id,
        "by_hand": True,
    }, closed[0]
    assert (closed[0]["access_event_id"], closed[0]["charge_id"], closed[0]["at"]) == (
        mis.event_id,
        None,
        "2025-03-03T15:00:00+08:00",
    ), closed[0]


def test_stay_closed_at_an_exit_that_charged_it_names_that_exit_and_its_charge(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw(exit_without_entry="charge")  # noqa: F811
    came = show(gw, "car-in", "苏E12346", T0)  # really 苏E12345, misread
    held = show(gw, "car-out", REAL, T0 + 2 * H)
    assert "no_entry_record" in held.flags and held.fee_fen
    out = pay(gw, REAL, held.fee_fen, T0 + 2 * H + M)
    assert out.admitted
    correct_plate(gw.conn, came.event_id, REAL, "office1", T0 + 6 * H)
    stay_id, charge_id = gw.conn.execute(
        "SELECT s.id, c.id FROM stays s JOIN charges c ON c.stay_id = s.id AND c.voided_at IS NULL "
        "WHERE s.entry_event = ?",
        (came.event_id,),
    ).fetchone()
    voided = gw.conn.execute("SELECT id FROM charges WHERE kind = 'no_entry'").fetchone()[0]
    closed = _closed_by_correction(gw)
    keys = ("stay_id", "exit_event_id", "by_hand", "charge_id", "voided_charge_id")
    assert [tuple(m[k] for k in keys) for m in closed] == [
        (stay_id, out.event_id, False, charge_id, voided)
    ], closed
    assert closed[0]["exited_at"] == (T0 + 2 * H + M).isoformat(), closed[0]


def test_entry_corrected_back_ends_with_the_stay_given_back_and_says_so(gw: Gateway) -> None:  # noqa: F811
    """tests/parking/test_correction_back_after_exit_paid.py's day: 苏E12345 in at 09:00 and again
    at 12:00 (already inside), that entry corrected to 苏E12346, paid ahead at the booth under it;
    the car pays at the exit as 苏E12345 at 13:06, and the entry is corrected back at 13:10: its
    own stay ends where the stay given back ended, at that exit."""
    show(gw, "car-in", REAL, T0)
    back = show(gw, "car-in", REAL, T0 + 3 * H)
    correct_plate(gw.conn, back.event_id, "苏E12346", "guard1", T0 + 3 * H + 2 * M)
    due = gw.parking.quote(gw.conn, "苏E12346", T0 + 4 * H)["due_fen"]
    with gw.conn:
        gw.parking.prepay(gw.conn, "苏E12346", due, "qr", "WX4200003", "guard1", T0 + 4 * H)
    held = show(gw, "car-out", REAL, T0 + 4 * H + 5 * M)
    out = pay(gw, REAL, held.fee_fen or 0, T0 + 4 * H + 6 * M)
    assert out.admitted
    again = correct_plate(gw.conn, back.event_id, REAL, "guard1", T0 + 4 * H + 10 * M)
    assert again.taken_back is not None and again.taken_back.entry_closed is not None
    closed = _closed_by_correction(gw)
    assert [(m["stay_id"], m["plate"], m["exit_event_id"], m["by_hand"], m["charge_id"]) for m in closed] == [
        (again.taken_back.entry_closed, REAL, out.event_id, False, again.taken_back.kept)
    ], closed
    assert closed[0]["exited_at"] == (T0 + 4 * H + 6 * M).isoformat(), closed[0]
