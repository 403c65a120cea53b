"""A simulated day at a 1,000-slot estate, in accelerated time, through the real runtime and store.

Residents' cars leave in the morning and come back in the evening (一位多车 pairs among them),
monthly cars (some expired), 300 registered visitors, unregistered cars that pay, reads the camera
missed, payments at the lane and at the booth, a camera fault, patrol rounds, an admin correction,
then the daily report. Shared by `gateway bench day` and the tests.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from gateway.alarm_texts import AlarmText
from gateway.config import SiteConfig, load_config
from gateway.core import Presented
from gateway.demo.seed import random_plate, write_site_csvs
from gateway.events import AccessEvent
from gateway.ids import uuid7
from gateway.parking.operations import Operations
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.alarms import clear_alarm, raise_alarm
from gateway.store.database import transaction
from gateway.timefmt import to_db

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2025, 3, 3)
OFFLINE = AlarmText(
    "device_offline",
    {"device_kind": "camera", "device": "north-in-camera", "lane": "north-in", "error": "no frames"},
)

SITE = """
[site]
id = "sim-estate"
name = "模拟小区"
data_dir = "{data_dir}"

[policy]
no_slot = "temporary"
shared_slot_second_car = "temporary"
anti_passback = "soft"
reentry = "void"
exit_without_entry = "charge"

[parking]
grace_minutes = 15

[[parking.tariffs]]
version = "2025-01"
effective_from = 2025-01-01

[parking.tariffs.car]
free_minutes = 30
first_period_minutes = 60
first_period_fen = 500
period_minutes = 60
period_fen = 200
daily_cap_fen = 3000
visitor_free_minutes = 120
night = {{ hours = "22:00-07:00", period_fen = 100, cap_fen = 500 }}

[[patrol.routes]]
id = "night"
name = "夜间巡更"
checkpoints = ["cp-gate", "cp-garage", "cp-east"]
hours = "00:00-06:00"
every_minutes = 120
round_minutes = 45

[[zones]]
id = "main"
name = "车库"
capacity = {{ car = {capacity}, motorcycle = 0, bicycle = 0 }}

[[gates]]
id = "north"
name = "北门"

[[gates]]
id = "east"
name = "东门"

[[lanes]]
id = "north-in"
gate = "north"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "north-out"
gate = "north"
direction = "exit"
type = "vehicle"
zone = "main"

[[lanes]]
id = "east-in"
gate = "east"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "east-out"
gate = "east"
direction = "exit"
type = "vehicle"
zone = "main"

[[lanes]]
id = "east-door"
gate = "east"
direction = "entrance"
type = "pedestrian"
{checkpoints}
[storage]
sync = "{sync}"
"""

CHECKPOINT = """
[[devices]]
id = "{id}"
lane = "east-door"
kind = "reader"
driver = "simulated"
per_minute = 0
"""


@dataclass
class DayRun:
    gw: Gateway
    cfg: SiteConfig
    day: date
    report: dict[str, Any]
    seconds: float  # the simulated day's traffic, decisions and payments (not the set-up)
    report_s: float  # building, storing and queueing its daily report
    movements: int  # vehicle reads presented during the report day
    decisions: int  # every decision made in `seconds`: the evening before's entries too
    visitors: int
    checks: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # what check() found, after which decision


def simulate_day(
    work: Path,
    *,
    slots: int = 1000,
    visitors: int = 300,
    temporaries: int = 160,
    missed: float = 0.02,
    seed: int = 5,
    sync: str = "normal",
    check: Callable[[Gateway], list[str]] | None = None,
) -> DayRun:
    """Run the day; `check(gw)` (if given) runs after every decision and names what is wrong.
    `work`'s site is made afresh, so that the same seed gives the same day in a folder used before
    (`gateway bench day --work-dir`): the day was simulated on top of the last run's database, its
    entries and revenue twice theirs."""
    if (work / "data").is_dir():  # this function's own site, nothing else of the folder's
        shutil.rmtree(work / "data")
    work.mkdir(parents=True, exist_ok=True)
    checkpoints = "".join(CHECKPOINT.format(id=c) for c in ("cp-gate", "cp-garage", "cp-east"))
    config = work / "site.toml"
    config.write_text(
        SITE.format(
            data_dir=work / "data",
            capacity=slots + max(300, slots * 3 // 10),
            checkpoints=checkpoints,
            sync=sync,
        ),
        encoding="utf-8",
    )
    cfg = load_config(config)
    residents = int(slots * 1.2)
    import_csv(cfg, list(write_site_csvs(work / "csv", residents, 0, slots, seed=seed).values()))
    gw = Gateway(cfg)
    logging.getLogger("gateway.runtime.gateway").setLevel(logging.WARNING)  # 2,000 decision lines
    sim = _Sim(gw, random.Random(seed), missed, check)
    sim.plan(visitors, temporaries)
    started = time.perf_counter()
    sim.run()
    seconds = time.perf_counter() - started
    start = datetime.combine(DAY, datetime.min.time(), TZ)
    ops = Operations(gw.site, gw.db_path, gw.data_dir, lambda fn: fn(gw.conn), start)
    ops.patrols(start + timedelta(days=1))
    began = time.perf_counter()
    body = ops.build_report(DAY, start + timedelta(days=1, minutes=5))
    report_s = time.perf_counter() - began
    return DayRun(
        gw,
        cfg,
        DAY,
        body,
        seconds,
        report_s,
        sim.movements,
        sim.decisions,
        visitors,
        sim.checks,
        sim.counts,
        sim.problems,
    )


class _Sim:
    def __init__(
        self, gw: Gateway, rng: random.Random, missed: float, check: Callable[[Gateway], list[str]] | None
    ):
        self.gw, self.rng, self.missed, self.check = gw, rng, missed, check
        self.actions: list[tuple[datetime, int, Callable[[], object]]] = []
        self.inside: set[str] = set()  # cars physically inside (the gateway may think otherwise)
        self.movements = 0
        self.decisions = 0
        self.checks = 0
        self.problems: list[str] = []
        self.counts: dict[str, int] = {"missed_reads": 0, "lane_payments": 0, "booth_payments": 0}
        self._seq = 0
        self.day0 = datetime.combine(DAY, datetime.min.time(), TZ)

    def at(self, hour: float, spread_min: float = 0) -> datetime:
        minutes = hour * 60 + self.rng.uniform(0, spread_min)
        return self.day0 + timedelta(minutes=minutes)

    def add(self, when: datetime, action: Callable[[], object]) -> None:
        self._seq += 1
        self.actions.append((when, self._seq, action))

    # ---- the plan ------------------------------------------------------------------------------

    def plan(self, visitors: int, temporaries: int) -> None:
        rng, conn = self.rng, self.gw.conn
        plates = [r[0] for r in conn.execute("SELECT plate FROM vehicles ORDER BY id")]
        monthly = [r[0] for r in conn.execute("SELECT plate FROM vehicles WHERE monthly_until IS NOT NULL")]
        with transaction(conn):  # some monthly periods ran out, some end this week
            for plate in monthly[:15]:
                conn.execute(
                    "UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(self.at(-240)), plate)
                )
            for plate in monthly[15:20]:
                conn.execute(
                    "UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(self.at(24 * 3)), plate)
                )
        for plate in plates:
            r = rng.random()
            if r < 0.75:  # home overnight: in the evening before; most commute today
                self.add(self.at(-7, 360), partial(self.enter, plate))
                if rng.random() < 0.62:
                    out = self.at(6.5, 180)
                    self.leave_at(out, plate)
                    self.add(out + timedelta(hours=rng.uniform(7, 13)), partial(self.enter, plate))
            elif r < 0.85:  # out overnight, in today
                self.add(self.at(9, 600), partial(self.enter, plate))
        hosts = conn.execute("SELECT building, unit FROM residents ORDER BY id LIMIT 500").fetchall()
        with transaction(conn):
            for i in range(visitors):
                arrive = self.at(8, 720)
                plate = random_plate(rng, rng.choice("苏浙沪鲁"))
                building, unit = hosts[i % len(hosts)]
                pass_id = conn.execute(
                    "INSERT INTO passes (kind, name, host_building, host_unit, plate, valid_from, valid_to, "
                    "created_at, created_by) VALUES (?, '访客', ?, ?, ?, ?, ?, ?, 'guard')",
                    (
                        "contractor" if i % 20 == 0 else "visitor",
                        building,
                        unit,
                        plate,
                        to_db(arrive - timedelta(minutes=10)),
                        to_db(arrive + timedelta(hours=12)),
                        to_db(arrive - timedelta(minutes=5)),
                    ),
                ).lastrowid
                conn.execute(
                    "INSERT OR IGNORE INTO credentials (kind, value, pass_id) VALUES ('plate', ?, ?)",
                    (plate, pass_id),
                )
                stay = timedelta(minutes=rng.uniform(20, 300))
                self.add(arrive, partial(self.enter, plate))
                if rng.random() < 0.5:
                    self.add(
                        arrive + timedelta(minutes=10),
                        partial(self.validate, plate, building, unit),
                    )
                self.leave_at(arrive + stay, plate)
        for _ in range(temporaries):
            plate = random_plate(rng, rng.choice("苏浙沪豫"))
            arrive = self.at(7, 900)
            self.add(arrive, partial(self.enter, plate))
            if rng.random() < 0.85:  # the rest stay the night
                self.leave_at(arrive + timedelta(minutes=rng.uniform(10, 480)), plate)
        self.add(
            self.at(14),
            lambda: raise_alarm(conn, "device_offline", "north-in-camera", OFFLINE, self.at(14)),
        )
        self.add(self.at(14.4), lambda: clear_alarm(conn, "device_offline", "north-in-camera", self.at(14.4)))
        self.add(self.at(16), self.admin_corrects)
        for due in (0, 2, 4):  # patrol rounds: the 02:00 round skips the garage
            for n, cp in enumerate(("cp-gate", "cp-garage", "cp-east")):
                if due == 2 and cp == "cp-garage":
                    continue
                when = self.at(due + 0.1 + n * 0.15)
                self.add(when, partial(self.tap, cp, when))

    def leave_at(self, when: datetime, plate: str) -> None:
        if self.rng.random() < 0.2:
            self.add(when - timedelta(minutes=5), partial(self.prepay, plate))
        self.add(when, partial(self.leave, plate))

    def run(self) -> None:
        for when, _, action in sorted(self.actions, key=lambda a: (a[0], a[1])):
            self.now = when
            action()

    # ---- what people and cars do ---------------------------------------------------------------

    def show(self, lane: str, plate: str, at: datetime) -> AccessEvent:
        ev = self.gw.handle(Presented(lane, "plate", plate, 0.96, at, "sim-camera"))
        self.decisions += 1
        if at >= self.day0:
            self.movements += 1
        self._check()
        return ev

    def enter(self, plate: str) -> None:
        at = self.now
        lane = self.rng.choice(("north-in", "east-in"))
        if self.rng.random() < self.missed:  # not read: the guard lets the car in by hand, unrecorded
            self.counts["missed_reads"] += 1
            self.inside.add(plate)
            return
        if self.show(lane, plate, at).admitted:
            self.inside.add(plate)

    def leave(self, plate: str) -> None:
        if plate not in self.inside:
            return  # it was turned away at the entrance
        self.inside.discard(plate)
        at, lane = self.now, self.rng.choice(("north-out", "east-out"))
        if self.rng.random() < self.missed:  # not read: it leaves, its stay stays open
            self.counts["missed_reads"] += 1
            return
        ev = self.show(lane, plate, at)
        if ev.reason == "payment_due":
            method = self.rng.choice(("cash", "qr", "qr"))
            paid_at = at + timedelta(seconds=40)
            self.gw.decide_now(
                self.gw.parking.pay_at_lane(lane, plate, ev.fee_fen, method, "", "guard", paid_at)
            )
            self.decisions += 1
            self.movements += 1
            self.counts["lane_payments"] += 1
            self._check()

    def prepay(self, plate: str) -> None:
        """Paid at the booth on the way to the car; it then has the grace period to leave."""
        if plate not in self.inside:
            return
        quote = self.gw.parking.quote(self.gw.conn, plate, self.now)
        due = quote["due_fen"]
        if due and quote["stay_id"] is not None:
            with transaction(self.gw.conn):
                self.gw.parking.prepay(self.gw.conn, plate, due, "cash", "", "booth", self.now)
            self.counts["booth_payments"] += 1

    def validate(self, plate: str, building: str, unit: str) -> None:
        row = self.gw.conn.execute(
            "SELECT id FROM stays WHERE plate = ? AND exited_at IS NULL AND billing = 'visitor'", (plate,)
        ).fetchone()
        if row:
            with transaction(self.gw.conn):
                self.gw.parking.validate(self.gw.conn, row[0], building, unit, "host", self.now)

    def admin_corrects(self) -> None:
        """Cars the gateway thinks are inside but that left unseen: the admin closes three stays."""
        rows = self.gw.conn.execute(
            "SELECT id, plate FROM stays WHERE exited_at IS NULL ORDER BY id"
        ).fetchall()
        gone = [sid for sid, plate in rows if plate not in self.inside][:3]
        for sid in gone:
            with transaction(self.gw.conn):
                self.gw.parking.close_stay(
                    self.gw.conn, sid, "left while the camera was down", "admin", self.now
                )
        self.counts["admin_corrections"] = len(gone)

    def tap(self, checkpoint: str, at: datetime) -> None:
        self.gw.conn.execute(
            "INSERT INTO patrol_taps (tap_id, at, checkpoint, lane, card) "
            "VALUES (?, ?, ?, 'east-door', 'G001')",
            (uuid7(), to_db(at), checkpoint),
        )

    def _check(self) -> None:
        if self.check is not None:
            self.problems += [f"{self.now:%H:%M:%S}: {p}" for p in self.check(self.gw)]
            self.checks += 1

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, value: datetime) -> None:
        self._now = value
