"""A simulated day at a 1,000-slot estate: the invariants hold after every decision, and the daily report
agrees with counts taken straight from the access log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from gateway.bench.dayrun import DayRun, simulate_day
from gateway.parking.report import report_period
from gateway.runtime.gateway import Gateway
from gateway.store.occupancy import occupancy
from gateway.timefmt import to_db

_DOUBLE_SLOT = """
SELECT slot_id FROM stays WHERE exited_at IS NULL AND slot_id IS NOT NULL GROUP BY slot_id HAVING count(*) > 1
"""
_DOUBLE_SUBJECT = "SELECT subject FROM stays WHERE exited_at IS NULL GROUP BY subject HAVING count(*) > 1"


def invariants(gw: Gateway) -> list[str]:
    problems = []
    for row in occupancy(gw.conn, gw.site.capacity):
        if min(row["inside"], row["on_slots"], row["shared_occupied"]) < 0:
            problems.append(f"negative occupancy {row}")
        if row["on_slots"] > row["fixed_slots"] or row["shared_occupied"] > row["shared_capacity"]:
            problems.append(f"over capacity {row}")
    if gw.conn.execute(_DOUBLE_SLOT).fetchall():
        problems.append("two cars on one slot")
    if gw.conn.execute(_DOUBLE_SUBJECT).fetchall():
        problems.append("one car inside twice")
    return problems


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DayRun]:
    run = simulate_day(tmp_path_factory.mktemp("day"), check=invariants)
    yield run
    run.gw.conn.close()


def test_occupancy_is_never_negative_nor_over_capacity_after_any_decision(day: DayRun) -> None:
    assert day.checks >= day.movements
    assert day.problems == []


def test_the_day_is_the_size_the_issue_describes(day: DayRun) -> None:
    r = day.report
    assert 1800 <= day.movements <= 3200
    assert r["visitors_registered"]["visitor"] + r["visitors_registered"]["contractor"] == 300
    assert r["flags"]["shared_slot"] > 0 and r["parking"]["handovers"] > 0
    assert (
        day.counts["missed_reads"] > 0
        and r["flags"]["no_entry_record"] > 0
        and r["flags"]["already_inside"] > 0
    )
    assert r["parking"]["admin_corrections"] == day.counts["admin_corrections"] > 0
    assert day.counts["booth_payments"] > 0 and day.counts["lane_payments"] > 0


def test_every_stay_is_closed_or_still_inside(day: DayRun) -> None:
    conn = day.gw.conn
    states = Counter(
        (exited is None, closed_by)
        for exited, closed_by in conn.execute("SELECT exited_at, closed_by FROM stays")
    )
    assert set(states) <= {(True, None), (False, "exit"), (False, "reentry"), (False, "admin")}
    lanes = day.gw.site.lanes
    entrances = [k for k, v in lanes.items() if v.type == "vehicle" and v.direction == "entrance"]
    exits = [k for k, v in lanes.items() if v.type == "vehicle" and v.direction == "exit"]
    marks = ",".join("?" * len(entrances))
    admitted_in = conn.execute(
        f"SELECT count(*) FROM access_log WHERE admitted = 1 AND lane IN ({marks})", entrances
    ).fetchone()[0]
    assert admitted_in == sum(states.values())  # each admitted entry opened exactly one stay
    marks = ",".join("?" * len(exits))
    closed_by_exit = conn.execute(
        f"SELECT count(*) FROM access_log WHERE admitted = 1 AND lane IN ({marks}) "
        "AND flags NOT LIKE '%no_entry_record%'",
        exits,
    ).fetchone()[0]
    assert closed_by_exit == states[(False, "exit")]


def test_revenue_equals_the_sum_of_charges(day: DayRun) -> None:
    conn = day.gw.conn
    settled = conn.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM charges WHERE settled_at IS NOT NULL"
    ).fetchone()[0]
    applied = conn.execute("SELECT sum(amount_fen) FROM payments WHERE charge_id IS NOT NULL").fetchone()[0]
    waiting = conn.execute(
        "SELECT coalesce(sum(amount_fen), 0) FROM payments WHERE charge_id IS NULL"
    ).fetchone()[0]
    total = conn.execute("SELECT sum(amount_fen) FROM payments").fetchone()[0]
    assert settled == applied > 0
    assert total == settled + waiting  # paid ahead at the booth, and the exit read was missed
    assert conn.execute("SELECT count(*) FROM charges WHERE tariff_version != '2025-01'").fetchone()[0] == 0
    start, end = report_period(day.day, 0, day.gw.site.tz)
    s, e = to_db(start), to_db(end)
    p = day.report["parking"]
    assert (
        p["revenue_fen"]
        == conn.execute("SELECT sum(amount_fen) FROM payments WHERE at >= ? AND at < ?", (s, e)).fetchone()[0]
    )
    assert (
        p["charged_fen"]
        == conn.execute("SELECT sum(amount_fen) FROM charges WHERE at >= ? AND at < ?", (s, e)).fetchone()[0]
    )
    assert p["revenue_fen"] == p["charged_fen"] - p["unpaid_fen"] + p["paid_ahead_not_left_fen"]
    assert sum(p["revenue_by_method_fen"].values()) == p["revenue_fen"]


def test_report_figures_equal_counts_taken_straight_from_the_access_log(day: DayRun) -> None:
    conn, lanes = day.gw.conn, day.gw.site.lanes
    start, end = report_period(day.day, 0, day.gw.site.tz)
    rows = conn.execute(
        "SELECT lane, value, admitted, reason, flags FROM access_log WHERE at >= ? AND at < ? ORDER BY id",
        (to_db(start), to_db(end)),
    ).fetchall()
    entries, exits, refusals, flags = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    held, last = 0, dict[tuple[str, str], str]()
    for lane, value, admitted, reason, flag_text in rows:
        # A car held to pay and let out once paid carries the hold's flags again: counted once.
        if not (admitted and last.get((lane, value)) == "payment_due"):
            flags.update(f for f in flag_text.split(",") if f)
        last[(lane, value)] = reason
        if reason == "payment_due":
            held += 1
        elif not admitted:
            refusals[reason] += 1
        elif lanes[lane].type == "vehicle":
            (entries if lanes[lane].direction == "entrance" else exits)[reason] += 1
    r = day.report
    v = r["vehicles"]
    assert {k: n for k, n in v["entries"]["by_kind"].items() if n} == dict(entries)
    assert {k: n for k, n in v["exits"]["by_kind"].items() if n} == dict(exits)
    assert v["entries"]["total"] == entries.total() == v["entries"]["by_class"]["car"]
    assert v["exits"]["total"] == exits.total()
    assert r["refusals"]["by_reason"] == dict(refusals) and r["refusals"]["total"] == refusals.total()
    assert r["held_for_payment"] == held
    assert r["flags"] == {f: flags[f] for f in r["flags"]}
    # Monthly cars leave as monthly, a shared slot's second car as temporary (as they came in).
    assert exits["monthly"] > 0 and exits["temporary"] > 0


def test_peak_occupancy_patrols_devices_and_reminders(day: DayRun) -> None:
    r = day.report
    end = to_db(report_period(day.day, 0, day.gw.site.tz)[1])
    inside_at_end = day.gw.conn.execute(
        "SELECT count(*) FROM stays WHERE entered_at < ? AND (exited_at IS NULL OR exited_at >= ?)",
        (end, end),
    ).fetchone()[0]
    capacity = sum(day.gw.site.capacity.values())
    assert 0 < inside_at_end <= r["peak_occupancy"]["total"] <= capacity
    assert (r["patrol"]["rounds"], r["patrol"]["done"], r["patrol"]["missed"]) == (3, 2, 1)
    kinds = [k for (k,) in day.gw.conn.execute("SELECT kind FROM alarms WHERE kind LIKE 'patrol%'")]
    assert kinds == ["patrol_missed"]  # looked at once, after the round closed: missed, not late
    assert r["devices"]["by_device"] == [{"device": "north-in-camera", "faults": 1, "downtime_s": 1440}]
    assert len(r["monthly_expiring"]) == 5


def test_report_is_stored_and_queued_upstream(day: DayRun) -> None:
    conn = day.gw.conn
    assert conn.execute("SELECT day FROM daily_reports").fetchall() == [(day.day.isoformat(),)]
    assert conn.execute("SELECT count(*) FROM outbox WHERE topic = 'report'").fetchone()[0] == 1
