"""A Pi boots on fake-hwclock's stale time; cars come in, a slot is handed over and a car is recorded
inside before NTP sets the clock. The gateway re-dates the stays of the boot still open (their entry,
billing start and handover: docs/parking.md, *Repairs*) and counts them on their true day in the daily
report. The centre keeps stays from the `stay` records (docs/mqtt.md): a handover by its `at` (the
report's `handovers` counts each stay's first one on its day), a car recorded inside by its
`entered_at`. Payments and alarms moved by the same step go upstream again (`"change": "redated"`, the
newest record holding); what the centre holds of a stay is never told it moved."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from centre_helpers import Uplink

from gateway.parking.inside import CarInside, record_inside
from gateway.store.database import transaction
from gateway.timefmt import from_db
from tests.parking.conftest import T0, report_of_t0_day, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
S = timedelta(seconds=1)
A, B = "皖A11111", "皖A22222"  # R1's two cars, one slot B001 (tests/parking/conftest.py)
DAY_START = T0.replace(hour=6)  # the report of T0's day: 06:00 to 06:00 (report_of_t0_day)


def _on_t0_day(at: object) -> bool:
    return DAY_START <= datetime.fromisoformat(str(at)) < DAY_START + 24 * H


def test_a_handover_moved_by_ntp_is_counted_on_the_same_day_by_the_centre_and_the_report(
    tmp_path: Path,
) -> None:
    """The Pi boots three days behind (fake-hwclock). 20 s after the boot B comes in onto B001, at
    30 s A comes in as the slot's second car, at 40 s B leaves: A is handed the slot (a `stay`
    handover record). At 60 s NTP sets the clock: A's stay (its entry, its handover) moves to the
    true day, and the daily report of T0's day counts the handover. The centre, counting each
    stay's first handover on the day of its record as docs/mqtt.md says, has it three days
    earlier, and no record tells it the handover moved (as a payment's `redated` record does)."""
    up = Uplink(tmp_path)
    gw = up.gw
    boot = T0 - 72 * H  # the stale clock
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    show(gw, "car-in", B, boot + 20 * S)
    show(gw, "car-in", A, boot + 30 * S)
    show(gw, "car-out", B, boot + 40 * S)
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days
    steady.s = 90
    o.tick(T0 + 90 * S)
    handed = from_db(gw.conn.execute("SELECT handed_over_at FROM stays WHERE plate = ?", (A,)).fetchone()[0])
    assert handed == T0 + 40 * S  # the box moved it to its true time
    report = report_of_t0_day(gw, T0 + 2 * H)
    assert report["parking"]["handovers"] == 1  # and counts it on T0's day
    records = up.deliver(T0 + 2 * H)
    up.close()
    stays = [r for r in records if r["type"] == "stay"]
    counted = [at for at in _first_handovers(stays).values() if _on_t0_day(at)]
    assert len(counted) == report["parking"]["handovers"], (
        f"the report of {T0.date()} counts {report['parking']['handovers']} handover; the centre has "
        f"{len(counted)} on that day: the handover went up at "
        f"{[r['at'] for r in stays if r['change'] == 'handover']} (the stale boot clock) and no record "
        f"told the centre it moved: {[r['change'] for r in stays]}"
    )


def _first_handovers(stays: list[dict[str, Any]]) -> dict[int, str]:
    """Each stay's first handover as the centre keeps it from the `stay` records (docs/mqtt.md): the
    first `handover` record's `at`, moved to `handed_over_at` by a later `redated` record of the
    stay (the newest record of a stay holds)."""
    first: dict[int, str] = {}
    for r in stays:
        if r["change"] == "handover":
            first.setdefault(r["stay_id"], r["at"])
        elif r["change"] == "redated" and r["handed_over_at"] is not None:
            first[r["stay_id"]] = r["handed_over_at"]
    return first


def test_a_car_recorded_inside_as_in_since_now_moved_by_ntp_is_moved_at_the_centre(tmp_path: Path) -> None:
    """Day one: the installer records 苏E12345 as in since now (the time left empty) 15 s after the
    Pi booted three days behind; NTP sets the clock at 60 s and the box moves the stay's entry to
    its true time (docs/parking.md, *Cars already inside*: one "recorded as in since now ... was
    dated by the clock and moves"). The centre files the stay by its `recorded_by_admin` record: in
    since three days before, and nothing tells it otherwise; the box bills the car from its true
    entry."""
    up = Uplink(tmp_path)
    gw = up.gw
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    with transaction(gw.conn):
        record_inside(
            gw.conn, gw.site, CarInside("苏E12345"), "day one: parked before", "admin1", boot + 15 * S
        )
    steady.s = 60
    o.tick(T0 + 60 * S)
    steady.s = 90
    o.tick(T0 + 90 * S)
    stay_id, at = gw.conn.execute("SELECT id, entered_at FROM stays WHERE plate = '苏E12345'").fetchone()
    entered = from_db(at)
    assert entered == T0 + 15 * S  # moved on the box
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_stay = [r for r in records if r["type"] == "stay" and r.get("stay_id") == stay_id]
    centre_entered = datetime.fromisoformat(str(of_stay[-1]["entered_at"]))
    assert centre_entered == entered, (
        f"the box has the car in since {entered.astimezone(T0.tzinfo).isoformat()}; the centre's newest "
        f"record of stay {stay_id} ({of_stay[-1].get('change')}) says {centre_entered.isoformat()}, "
        f"the stale boot clock's: {len(of_stay)} record of it went up"
    )


def test_a_visitor_registered_on_the_stale_boot_clock_is_counted_on_the_same_day_by_the_centre(
    tmp_path: Path,
) -> None:
    """A visitor is registered at the booth 15 s after the Pi booted three days behind, start and end
    left empty (now, and visitors.default_hours after it). NTP sets the clock at 60 s: the box moves
    the pass (registered, its window) to the true time (docs/parking.md, *Repairs*), and the daily
    report of T0's day counts the visitor among `visitors_registered`. The centre files the pass by
    its `pass` record (docs/mqtt.md: `"op": "created"`, its `at`, `valid_from`, `valid_to`), which
    says three days before, valid until two days before T0: it is told nothing moved."""
    up = Uplink(tmp_path)
    gw = up.gw
    pass_id = _visitor_on_the_stale_clock(up)
    created, valid_to = gw.conn.execute(
        "SELECT created_at, valid_to FROM passes WHERE id = ?", (pass_id,)
    ).fetchone()
    assert from_db(created) == T0 + 15 * S  # moved on the box
    report = report_of_t0_day(gw, T0 + 2 * H)
    assert report["visitors_registered"]["visitor"] == 1  # and counted on T0's day
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_pass = [r for r in records if r["type"] == "pass" and r["pass"]["id"] == pass_id]
    newest = of_pass[-1]
    counted = 1 if _on_t0_day(newest["at"]) else 0
    assert (counted, newest["pass"]["valid_to"]) == (
        1,
        from_db(valid_to).astimezone(T0.tzinfo).isoformat(),
    ), (
        f"the report of {T0.date()} counts the visitor registered that day, valid to "
        f"{from_db(valid_to).astimezone(T0.tzinfo).isoformat()}; the centre's newest record of pass "
        f"{pass_id} says registered at {newest['at']}, valid to {newest['pass']['valid_to']} "
        f"({len(of_pass)} record of it went up)"
    )


def test_a_pass_checked_out_on_the_stale_clock_is_not_sent_checked_out_before_it_was_registered(
    tmp_path: Path,
) -> None:
    """A visitor registered and checked out while the Pi ran on its stale boot clock: NTP moves the
    pass's registration and window three days on and sends the pass again as redated (docs/mqtt.md:
    "the newest record of a pass holds"); its check-out, dated on the same stale clock, left where
    it was, the centre's newest record of the pass said it was checked out three days before it was
    registered, and, sent as created, opened it again."""
    up = Uplink(tmp_path)
    pass_id = _visitor_on_the_stale_clock(up, left_after=30 * S)
    records = up.deliver(T0 + 2 * H)
    up.close()
    of_pass = [r for r in records if r["type"] == "pass" and r["pass"]["id"] == pass_id]
    newest = of_pass[-1]
    at = datetime.fromisoformat(newest["at"])
    out = newest["pass"]["checked_out_at"]
    assert out is not None and datetime.fromisoformat(out) >= at, (
        f"the centre's newest record of pass {pass_id} ({newest.get('op')}, {newest.get('change')}) "
        f"says it was registered at {newest['at']} and checked out at {out}: "
        "checked out before it was registered"
    )
    assert newest["op"] == "checked_out", f"the visitor has left; the newest record says {newest['op']}"


def _visitor_on_the_stale_clock(up: Uplink, left_after: timedelta | None = None) -> int:
    """A visitor registered at the booth 15 s after the Pi booted three days behind, start and end
    left empty (checked out `left_after` the boot, if given), then NTP setting the clock at 60 s.
    The pass's id."""
    from gateway.store.passes import NewPass, check_out, create_pass

    gw = up.gw
    boot = T0 - 72 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=boot, steady=steady)
    o.tick(boot)
    registered = boot + 15 * S
    hours = timedelta(hours=gw.site.config.visitors.default_hours)
    visit = NewPass("visitor", "钱七", registered, registered + hours, host_building="3栋", host_unit="2单元")
    pass_id = create_pass(gw.conn, gw.secrets, visit, registered, "guard1")
    if left_after is not None:
        steady.s = left_after.total_seconds()
        check_out(gw.conn, pass_id, boot + left_after, "guard1")
    steady.s = 60
    o.tick(T0 + 60 * S)  # NTP: the clock jumps three days
    steady.s = 90
    o.tick(T0 + 90 * S)
    return pass_id
