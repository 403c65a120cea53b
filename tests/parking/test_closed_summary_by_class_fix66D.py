"""REQUIREMENTS 5 and 9 (review 66 D1): the closed-management summary sent to the community office
counted e-bikes and motorcycles as "vehicles" with no class. Two residents ride e-bikes in at the
non-motor gate, one rides a motorcycle in, one drives a car in, one walks in: the summary said
vehicles_in 4, people_in 1, while the same report's vehicles.entries.by_class said car 1,
motorcycle 1, bicycle 2. It now splits its vehicle figures by class as the traffic counts do,
keeping the totals; a rider is counted as her vehicle, not also as a person (as a car's driver)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, show
from tests.parking.test_operations import CLOSED, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
DAY = T0.replace(hour=0)  # Monday 3 March 2025, CLOSED's first day (07:00-21:00)
# The north gate's non-motor lanes (非机动车): moto-in/moto-out and bike-in/bike-out.
NON_MOTOR_LANES = "".join(
    f"""
[[lanes]]
id = "{name}-{way}"
gate = "north"
direction = "{"entrance" if way == "in" else "exit"}"
type = "vehicle"
zone = "main"
vehicle_class = "{vclass}"
"""
    for name, vclass in (("moto", "motorcycle"), ("bike", "bicycle"))
    for way in ("in", "out")
)


def tap(gw: Gateway, lane: str, card: str, at: timedelta) -> AccessEvent:
    return gw.handle(Presented(lane, "card", card, 1.0, DAY + at, "reader"))


def test_closed_summary_gives_its_vehicles_by_class(make_gw: Callable[..., Gateway], tmp_path: Path) -> None:
    gw = make_gw(extra=CLOSED + NON_MOTOR_LANES)
    import_csv(
        gw.site.config,
        [
            write_csv(tmp_path / "v.csv", "plate,resident_ref,class\n皖M44444,R3,motorcycle\n"),
            write_csv(
                tmp_path / "c.csv",
                "card,resident_ref,plate\n1000000001,R1,\n1000000002,R2,\n1000000003,R4,\n",
            ),
        ],
    )
    assert tap(gw, "bike-in", "1000000003", 8 * H).vehicle_class == "bicycle"
    assert tap(gw, "bike-in", "1000000002", 8 * H + M).vehicle_class == "bicycle"
    assert show(gw, "moto-in", "皖M44444", DAY + 8 * H + 2 * M).vehicle_class == "motorcycle"
    assert show(gw, "car-in", "皖B33333", DAY + 9 * H).vehicle_class == "car"
    assert tap(gw, "door", "1000000001", 9 * H + M).admitted
    assert tap(gw, "bike-out", "1000000003", 12 * H).admitted
    stranger = show(gw, "moto-in", "苏M00001", DAY + 13 * H)
    assert stranger.reason == "closed_management", stranger.reason
    ops(gw, started=DAY).reports(DAY + 24 * H)
    body = json.loads(gw.conn.execute("SELECT body FROM daily_reports").fetchone()[0])
    cm = body["closed_management"]
    # The totals a centre already reads stay as they were.
    assert (cm["vehicles_in"], cm["vehicles_out"], cm["vehicles_turned_away"]) == (4, 1, 1), cm
    assert (cm["people_in"], cm["people_out"]) == (1, 0), cm
    assert cm["vehicles_in_by_class"] == {"car": 1, "motorcycle": 1, "bicycle": 2}, cm
    assert cm["vehicles_in_by_class"] == body["vehicles"]["entries"]["by_class"]
    assert cm["vehicles_out_by_class"] == {"car": 0, "motorcycle": 0, "bicycle": 1}, cm
    assert cm["vehicles_turned_away_by_class"] == {"car": 0, "motorcycle": 1, "bicycle": 0}, cm


def test_closed_summary_names_every_class_none_came_in(make_gw: Callable[..., Gateway]) -> None:
    """A car site: each class is there, 0 where none came, so the office reads no motorcycles, not
    a figure missing."""
    gw = make_gw(extra=CLOSED)
    assert show(gw, "car-in", "皖B33333", DAY + 9 * H).admitted
    ops(gw, started=DAY).reports(DAY + 24 * H)
    cm = json.loads(gw.conn.execute("SELECT body FROM daily_reports").fetchone()[0])["closed_management"]
    assert cm["vehicles_in_by_class"] == {"car": 1, "motorcycle": 0, "bicycle": 0}, cm
    for key in ("vehicles_out_by_class", "vehicles_turned_away_by_class"):
        assert cm[key] == {"car": 0, "motorcycle": 0, "bicycle": 0}, (key, cm)
