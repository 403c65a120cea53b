"""An admin's close (the car left unseen) on a clock behind the car's entry: the stay, and the charge
that keeps its booth payment, end at its entry, never before it began (docs/parking.md, *A clock
behind the entry*), as an exit's and a guard's opening by hand do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.timefmt import from_db
from tests.parking.charge_record_helpers import DAY, H, M, running, sent


def test_a_stay_closed_by_an_admin_on_a_clock_behind_its_entry_does_not_end_before_it_began(
    tmp_path: Path,
) -> None:
    """A stranger's car came in at 10:00 and paid 7元 ahead at the booth at 12:00; the Pi rebooted
    on fake-hwclock's stale time (09:30) and the admin closes the stay of the car that left unseen.
    The stay, and the settled charge the 7元 stands against (sent to the centre), ended at 09:30,
    before the car came in at 10:00. They end at its entry; the close itself (the audit row, the
    `stay` record and the charge's record) is dated as the clock read it, as an exit's is."""
    with running(tmp_path) as (gw, clock, client, auth, look):

        def one(sql: str, *args: object) -> tuple[Any, ...]:
            return tuple(gw.conn.execute(sql, args).fetchone())

        look("car-in", "苏E50001", DAY + 10 * H)
        clock.at = DAY + 12 * H
        q = client.get("/api/parking/quote", headers=auth, params={"plate": "苏E50001"}).json()
        paying = {"plate": "苏E50001", "amount_fen": q["due_fen"], "method": "cash"}
        r = client.post("/api/parking/prepay", headers=auth, json=paying)
        assert r.status_code == 200, r.text
        (sid,) = one("SELECT id FROM stays WHERE plate = '苏E50001'")
        stale = DAY + 9 * H + 30 * M  # the stale boot clock, behind the entry
        clock.at = stale
        r = client.post(f"/api/parking/stays/{sid}/close", headers=auth, json={"reason": "车辆未识别离场"})
        assert r.status_code == 200, r.text
        entered, exited = one("SELECT entered_at, exited_at FROM stays WHERE id = ?", sid)
        (charge,) = [c for c in sent(gw, "charge") if c.get("stay_id") == sid]
        kept = "SELECT started_at, ended_at, amount_fen, settled_at NOT NULL FROM charges WHERE stay_id = ?"
        stored = one(kept, sid)
        (linked,) = one("SELECT count(*) FROM payments WHERE stay_id = ? AND charge_id IS NOT NULL", sid)
        (audited,) = one("SELECT at FROM audit WHERE action = 'stay.close' AND target = ?", f"stay:{sid}")
        (closed,) = [s for s in sent(gw, "stay") if s.get("change") == "closed_by_admin"]
    assert charge["ended_at"] >= charge["started_at"], (
        f"the centre's charge ends {charge['ended_at']}, before it starts {charge['started_at']}"
    )
    assert exited >= entered, f"the stay ends at {exited}, before it began at {entered}"  # UTC text
    assert from_db(exited) == from_db(entered) == DAY + 10 * H
    started, ended = from_db(stored[0]), from_db(stored[1])
    assert (started, ended, stored[2], stored[3]) == (DAY + 10 * H, DAY + 10 * H, 700, 1)
    assert (charge["amount_fen"], charge["settled"]) == (700, True)
    assert linked == 1  # the 7元 stands against that charge
    # The close is dated as the clock read it, on the audit trail and upstream alike.
    assert from_db(audited) == stale
    assert closed["at"] == stale.isoformat() == charge["at"]
