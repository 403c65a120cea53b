"""`gateway bench day`: a simulated day at a 1,000-slot estate; the daily report of a 20,000-movement day."""

from __future__ import annotations

import argparse
from pathlib import Path

from gateway.bench.common import (
    count,
    fsync_p99_ms,
    in_work_dir,
    report,
    rounded,
    work_folder,
    zero_or_more,
)
from gateway.bench.dayrun import simulate_day


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--slots", type=count, default=1000, help="fixed slots of the simulated estate")
    p.add_argument("--visitors", type=zero_or_more, default=300)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument(
        "--sync",
        choices=["full", "normal", "both"],
        default="both",
        help="storage.sync of the simulated day: full (every decision flushed to disk before its gate "
        "opens, the default of a site), normal, or both, one after the other",
    )
    p.add_argument(
        "--report-movements",
        type=zero_or_more,
        default=20_000,
        help="vehicle movements of the day whose report is timed (0: skip)",
    )
    p.add_argument(
        "--work-dir",
        type=work_folder,
        help="keep the generated sites here; each run makes them afresh (the same --seed gives the same "
        "figures)",
    )


def bench_day(args: argparse.Namespace) -> int:
    return in_work_dir(args, "gateway-bench-day-", _run)


def _run(args: argparse.Namespace, work: Path) -> int:
    figures: dict[str, object] = {"slots": args.slots}
    modes = ["full", "normal"] if args.sync == "both" else [args.sync]
    for sync in modes:
        print(f"simulating a day at a {args.slots}-slot estate, {args.visitors} visitors, sync={sync}")
        day = simulate_day(
            work / f"day-{sync}", slots=args.slots, visitors=args.visitors, seed=args.seed, sync=sync
        )
        day.gw.conn.close()
        body = day.report
        figures.update(
            {
                "day_movements": day.movements,
                "day_decisions": day.decisions,
                "day_visitors": day.visitors,
                f"day_s_sync_{sync}": round(day.seconds, 2),
                f"day_decisions_per_s_sync_{sync}": round(day.decisions / day.seconds),
                "day_vehicle_entries": body["vehicles"]["entries"]["total"],
                "day_vehicle_exits": body["vehicles"]["exits"]["total"],
                "day_refusals": body["refusals"]["total"],
                "day_revenue_fen": body["parking"]["revenue_fen"],
                "day_handovers": body["parking"]["handovers"],
                "day_missed_reads": day.counts["missed_reads"],
                "day_peak_occupancy": body["peak_occupancy"]["total"],
                "day_report_build_s": round(day.report_s, 3),
            }
        )
    if args.report_movements:
        # A larger estate of the same kind: slots, visitors and unregistered cars scaled together
        # (a little over, since a bigger car park turns fewer cars away when full).
        per_slot = int(figures["day_movements"]) / args.slots  # type: ignore[call-overload]
        scale = max(1.0, args.report_movements / per_slot / args.slots * 1.1)
        slots = round(args.slots * scale)
        print(f"simulating a {slots}-slot day for the report (set-up, not timed)")
        big = simulate_day(
            work / "big",
            slots=slots,
            visitors=round(args.visitors * scale),
            temporaries=round(160 * scale),
            seed=args.seed,
            sync="normal",
        )
        big.gw.conn.close()
        figures["report_movements"] = big.movements
        figures["report_build_s"] = round(big.report_s, 3)
    figures["disk_fsync_p99_ms"] = rounded(fsync_p99_ms(work), 3)
    report(
        figures,
        args.json,
        [
            "day_s: the day's decisions (lookup, fee, decision, access-log/outbox/stay commit, charges and "
            "payments) in accelerated time on one thread; set-up and the report not included",
            "day_decisions: every decision day_s times, the cars coming home the evening before too; "
            "day_movements: those of the report day",
            "with sync=full every decision waits for its own disk flush (disk_fsync_p99_ms): that is most of "
            "day_s_sync_full on a slow or shared disk",
            "report_build_s: building, storing and queueing the daily report of a day of report_movements",
        ],
    )
    return 0
