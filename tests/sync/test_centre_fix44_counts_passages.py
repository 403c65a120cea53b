"""The centre counts the estate's passages from the `access` records (docs/mqtt.md: "a consumer that
counts arrivals or cars turned away leaves them out, as the daily report does"), and reconciles
them with the daily report's vehicle and people entries and exits (docs/parking.md, *Daily report*:
each access record is counted by "its lane's direction and type as configured when it was
written"). Only the gateway's site config says which lane is an entrance or an exit, and for
vehicles or people; the centre never gets it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from centre_helpers import H, M, centre

from gateway.core import Presented
from tests.parking.conftest import T0

REPEATS = {"again", "refused_again"}


def test_the_centre_can_tell_an_entry_from_an_exit_as_the_report_counts_them(tmp_path: Path) -> None:
    """苏E12345 comes in at car-in at 09:00 and leaves at car-out at 09:20 (free: 30 minutes free);
    resident R1 taps card 0012345678 at the door at 10:00. The report: one vehicle entry, one
    vehicle exit, one person in. The centre's records say lane "car-in", "car-out" and "door",
    each admitted, with nothing saying which lane is an entrance or an exit, a car lane or a door:
    it cannot count them (a site whose lanes are "north-1" and "north-2" least of all), and a lane
    renamed in the site config is counted by the box as it was when the record was written."""
    with centre(tmp_path) as c:
        c.gw.on_worker(
            lambda conn: conn.execute(
                "INSERT INTO credentials (kind, value, resident_id) VALUES ('card', '0012345678', 1)"
            )
        ).result(10)
        c.look("car-in", "苏E12345", T0)
        c.look("car-out", "苏E12345", T0 + 20 * M)
        c.now = T0 + H
        card = Presented("door", "card", "0012345678", 1.0, T0 + H, "door-reader")
        tap = c.gw.on_worker(lambda _: c.gw.handle(card)).result(10)
        assert tap.admitted, tap.reason
        c.drain()
        access = [r for r in c.records("access") if not REPEATS & set(r["flags"])]
        c.now = T0 + 20 * H
        report = c.report(T0.date().isoformat())
    wanted = {
        ("vehicle", "entrance"): report["vehicles"]["entries"]["total"],
        ("vehicle", "exit"): report["vehicles"]["exits"]["total"],
        ("pedestrian", "entrance"): report["people"]["entries"]["total"],
        ("pedestrian", "exit"): report["people"]["exits"]["total"],
    }
    assert wanted == {
        ("vehicle", "entrance"): 1,
        ("vehicle", "exit"): 1,
        ("pedestrian", "entrance"): 1,
        ("pedestrian", "exit"): 0,
    }
    counted = Counter((r.get("lane_type"), r.get("direction")) for r in access if r["admitted"])
    assert {k: counted.get(k, 0) for k in wanted} == wanted, (
        "the centre cannot count the report's entries and exits from the access records: they name the "
        f"lane ({sorted({r['lane'] for r in access})}) and never its direction or type; fields sent: "
        f"{sorted(access[0])}"
    )
