"""A car recorded inside on the stale boot clock, with the time it came in typed, handed its slot by
its slot-mate's exit from before the power cut."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from centre_helpers import Uplink

from gateway.parking.inside import CarInside, record_inside
from gateway.store.admin import import_csv
from gateway.store.database import transaction
from tests.conftest import write_csv
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
A, B = "皖A11111", "皖A22222"  # R1's two cars, one slot B001


def test_a_recorded_cars_handover_from_before_the_power_cut_keeps_its_true_time(tmp_path: Path) -> None:
    """A parks on B001 at 04:00 three days ago; B, the household's second car, came in unseen at
    05:00; A leaves at 08:50, so B is the slot's second car handed B001 at 08:50, and the power
    fails at 09:00. The Pi boots at T0 saying 08:00 (fake-hwclock's last save); the admin records B
    inside since 05:00, typed, and the box sends `recorded_by_admin` with handed_over_at 08:50 (a
    true time, before the boot). NTP comes 70 minutes after the boot: the box moves that handover
    three days on, to today's 09:50, bills B as a paying car for three days more, and sends the
    centre a `stay` record `redated` saying B was handed its slot today (the handover counted on
    the wrong day). A time from before the power cut should stay as it was."""
    up = Uplink(tmp_path)
    gw = up.gw
    cut = T0 - 72 * H
    show(gw, "car-in", A, cut - 5 * H)  # the boot before: true times
    show(gw, "car-out", A, cut - 10 * M)
    stale = cut - H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 5 * 60
    with transaction(gw.conn):
        said = record_inside(
            gw.conn, gw.site, CarInside(B, entered_at=cut - 4 * H), "missed by the camera", "admin1",
            stale + 5 * M,
        )
    handed = datetime.fromisoformat(said["handed_over_at"])
    assert handed == cut - 10 * M  # the slot-mate's true exit
    owed_before = gw.parking.quote(gw.conn, B, stale + 6 * M)["due_fen"]
    for minutes in range(10, 70, 10):  # no network: the stale clock runs on past 08:50
        steady.s = minutes * 60
        o.tick(stale + minutes * M)
    steady.s = 70 * 60
    o.tick(T0 + 70 * M)  # NTP sets the clock
    steady.s = 71 * 60
    o.tick(T0 + 71 * M)
    owed_after = gw.parking.quote(gw.conn, B, T0 + 72 * M)["due_fen"]
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_stay = [r for r in records if r["type"] == "stay" and r.get("stay_id") == said["stay_id"]]
    newest = of_stay[-1]
    centre_handed = newest["handed_over_at"]
    assert (centre_handed, owed_after) == (handed.isoformat(), owed_before), (
        f"{B} was handed B001 at {handed:%m-%d %H:%M} (its slot-mate's exit before the power cut); "
        f"after NTP the centre's newest record of its stay ({newest['change']}) says handed over at "
        f"{centre_handed}, and B owes {owed_after} fen where it owed {owed_before} fen for its time as "
        "the slot's second car"
    )


C = "皖A33333"  # R1's third car, on B001 too
THIRD_CAR = {
    "v2.csv": f"plate,resident_ref\n{C},R1\n",
    "s2.csv": f"zone,number,resident_ref,plates\nmain,B001,R1,{A};{B};{C}\n",
}


def test_a_handover_given_back_from_an_exit_before_the_power_cut_keeps_its_true_time(tmp_path: Path) -> None:
    """R1 has a third car, C, on B001. Before the power cut (09:00, three days ago): A parks on
    B001 at 04:00, B comes in at 05:00 as the slot's second car and is handed B001 when A leaves at
    06:00; at 07:00 the admin records C inside typing 03:00 by mistake, and B is made the second
    car again (no handover). The Pi boots at T0 saying 08:00; the admin closes C's record and
    records C again since 07:30: B is given back its handover at A's exit, 06:00, a true time. NTP
    comes 70 minutes after the boot: that handover should stay at 06:00 (B pays for 05:00-06:00),
    not move three days on with what the boot wrote on its clock."""
    up = Uplink(tmp_path)
    gw = up.gw
    import_csv(gw.site.config, [write_csv(tmp_path / name, text) for name, text in THIRD_CAR.items()])
    cut = T0 - 72 * H
    show(gw, "car-in", A, cut - 5 * H)  # the boot before: true times
    show(gw, "car-in", B, cut - 4 * H)
    show(gw, "car-out", A, cut - 3 * H)
    with transaction(gw.conn):
        wrong = record_inside(
            gw.conn, gw.site, CarInside(C, entered_at=cut - 6 * H), "old system's list", "admin1", cut - 2 * H
        )
    assert wrong["second_car"]["plate"] == B
    stale = cut - H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 5 * 60
    with transaction(gw.conn):
        gw.parking.close_stay(gw.conn, wrong["stay_id"], "entered_at typed wrong", "admin1", stale + 5 * M)
    with transaction(gw.conn):
        again = record_inside(
            gw.conn, gw.site, CarInside(C, entered_at=cut - 90 * M), "came in at 07:30", "admin1",
            stale + 6 * M,
        )
    restored = again["restored"]
    assert (restored["plate"], restored["handed_over_at"]) == (B, (cut - 3 * H).isoformat()), again
    owed_before = gw.parking.quote(gw.conn, B, stale + 7 * M)["due_fen"]
    for minutes in range(10, 70, 10):  # no network: the stale clock runs on
        steady.s = minutes * 60
        o.tick(stale + minutes * M)
    steady.s = 70 * 60
    o.tick(T0 + 70 * M)  # NTP sets the clock
    steady.s = 71 * 60
    o.tick(T0 + 71 * M)
    owed_after = gw.parking.quote(gw.conn, B, T0 + 72 * M)["due_fen"]
    (handed,) = gw.conn.execute(
        "SELECT handed_over_at FROM stays WHERE id = ?", (restored["stay_id"],)
    ).fetchone()
    records = up.deliver(T0 + 2 * H)
    up.close()
    redated = [r for r in records if r["type"] == "stay" and r.get("change") == "redated"]
    assert (datetime.fromisoformat(handed), owed_after, redated) == (cut - 3 * H, owed_before, []), (
        f"{B} was given back B001 at A's exit before the power cut ({cut - 3 * H:%m-%d %H:%M}); after "
        f"NTP its handover is {handed}, it owes {owed_after} fen where it owed {owed_before} fen, and "
        f"the centre was sent {redated}"
    )
