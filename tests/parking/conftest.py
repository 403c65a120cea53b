"""A small estate with a tariff, shared slots, monthly cars and a visitor, on a real SQLite file."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.config import SiteConfig, parse_config
from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.parking.report import build_report
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.timefmt import to_db
from tests.conftest import GATE_AND_LANES, TARIFF_TOML, write_csv

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=TZ)  # a Monday morning
# The test site's way out on foot beside its door (its "door" is the way in), and the same with a
# lock the gateway opens (a relay whose pulses the tests read).
DOOR_OUT = """
[[lanes]]
id = "door-out"
gate = "north"
direction = "exit"
type = "pedestrian"
"""
DOOR_OUT_WITH_LOCK = (
    DOOR_OUT
    + """
[[devices]]
id = "door-out-lock"
lane = "door-out"
kind = "relay"
driver = "simulated"
"""
)

PARKING_TOML = (
    """
[site]
id = "park-site"
name = "停车测试小区"
data_dir = "{data_dir}"

[policy]
no_slot = "temporary"
shared_slot_second_car = "{shared}"
anti_passback = "soft"
reentry = "{reentry}"
exit_without_entry = "{exit_without_entry}"
"""
    + TARIFF_TOML
    + """
[[zones]]
id = "main"
name = "车库"
capacity = {{ car = {capacity}, motorcycle = 5, bicycle = 5 }}

"""
    + GATE_AND_LANES
    + """
[[devices]]
id = "car-out-display"
lane = "car-out"
kind = "display"
driver = "simulated"

{extra}
"""
)


def parking_config(data_dir: Path, **overrides: object) -> SiteConfig:
    return parse_config(parking_toml(data_dir, **overrides), "site.toml")


def parking_toml(data_dir: Path, **overrides: object) -> str:
    """The parking site's config text (for tests that edit it between restarts)."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "reentry": "void",
        "shared": "temporary",
        "exit_without_entry": "guard",
        "capacity": 6,
        "extra": "",
    }
    values.update(overrides)
    return textwrap.dedent(PARKING_TOML.format(**values))


def seed(cfg: SiteConfig, tmp: Path) -> None:
    """R1: two cars sharing slot B001 (一位多车); R2: one car on B002; R3: monthly car; R4: expired one."""
    files = [
        write_csv(
            tmp / "r.csv",
            """
            ref,building,unit,name
            R1,3栋,2单元,张三
            R2,5栋,1单元,李四
            R3,6栋,1单元,王五
            R4,7栋,1单元,赵六
            """,
        ),
        write_csv(
            tmp / "v.csv",
            """
            plate,resident_ref,monthly_until
            皖A11111,R1,
            皖A22222,R1,
            皖B33333,R2,
            皖C44444,R3,2026-12-31
            皖D55555,R4,2025-01-31
            """,
        ),
        write_csv(
            tmp / "s.csv",
            """
            zone,number,resident_ref,plates
            main,B001,R1,皖A11111;皖A22222
            main,B002,R2,皖B33333
            """,
        ),
    ]
    import_csv(cfg, files)


def add_visitor(gw: Gateway, plate: str, building: str = "3栋", unit: str = "2单元") -> int:
    conn = gw.conn
    cur = conn.execute(
        "INSERT INTO passes (kind, name, host_building, host_unit, plate, valid_from, valid_to, created_at) "
        "VALUES ('visitor', '钱七', ?, ?, ?, ?, ?, ?)",
        (building, unit, plate, to_db(T0 - timedelta(hours=1)), to_db(T0 + timedelta(days=1)), to_db(T0)),
    )
    pass_id = int(cur.lastrowid or 0)
    conn.execute("INSERT INTO credentials (kind, value, pass_id) VALUES ('plate', ?, ?)", (plate, pass_id))
    return pass_id


@pytest.fixture
def make_gw(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    made: list[Gateway] = []

    def make(**overrides: object) -> Gateway:
        d = tmp_path / f"site{len(made)}"
        d.mkdir()
        cfg = parking_config(d / "data", **overrides)
        seed(cfg, d)
        gw = Gateway(cfg)
        made.append(gw)
        return gw

    yield make
    for gw in made:
        gw.conn.close()


@pytest.fixture
def gw(make_gw: Callable[..., Gateway]) -> Gateway:
    return make_gw()


def show(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    return gw.handle(Presented(lane, "plate", plate, 0.97, at, "cam"))


def pay(
    gw: Gateway, plate: str, amount: int, at: datetime, lane: str = "car-out", method: str = "cash"
) -> AccessEvent:
    return gw.decide_now(gw.parking.pay_at_lane(lane, plate, amount, method, "", "guard1", at))


def report_of_t0_day(gw: Gateway, built_at: datetime) -> dict[str, Any]:
    """The daily report of T0's day (periods from 06:00) as built at `built_at`, not stored."""
    return build_report(
        gw.conn,
        site_id=gw.site.config.site.id,
        lanes=gw.site.lanes,
        day=T0.date(),
        hour=6,
        tz=gw.site.tz,
        built_at=built_at,
    )
