"""The register changing while cars are parked, and the money: a monthly car whose month is ended or
that is struck off still pays for the time after its month, a pass re-sent as another kind keeps
its stay, and money paid at the booth for a stay that then turned out free is not reported as paid
ahead by a car not seen leaving."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.admin import import_csv
from gateway.store.database import open_database
from gateway.store.parking import open_stay
from tests.conftest import write_csv
from tests.parking.conftest import T0, TZ, pay, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_operations import ops
from tests.test_store import database_at

R3 = {"kind": "resident", "ref": "R3", "building": "6栋", "unit": "1单元", "name": "王五"}


def _monthly_until(gw: Gateway, tmp_path: Path, day: str) -> None:
    """R3's car 皖C44444 is monthly to the end of `day` (an import, as the office does it)."""
    import_csv(
        gw.site.config,
        [write_csv(tmp_path / "monthly.csv", f"plate,resident_ref,monthly_until\n皖C44444,R3,{day}\n")],
    )


def _parked_monthly_now(gw: Gateway, tmp_path: Path) -> datetime:
    """皖C44444, monthly for years yet, came in an hour ago. The month is ended by a write that
    reads the real clock (an import, a trigger), so this stay is on the real clock too."""
    _monthly_until(gw, tmp_path, "2099-12-31")
    entered = datetime.now(TZ) - timedelta(hours=1)
    assert show(gw, "car-in", "皖C44444", entered).reason == "monthly"
    return entered


def test_monthly_ended_by_central_delta_while_inside_pays_after(gw: Gateway, tmp_path: Path) -> None:
    """R3's monthly car is parked; the centre ends its monthly (its vehicle entry comes without
    monthly_until); it leaves five days later. It pays for the time after the month ended, as it
    does when an admin ends the month, and does not leave free."""
    entered = _parked_monthly_now(gw, tmp_path)
    delta(gw, 1, 0, datetime.now(TZ), upsert=[R3, {"kind": "vehicle", "plate": "皖C44444", "resident": "R3"}])
    out = show(gw, "car-out", "皖C44444", entered + timedelta(days=5))
    assert (out.reason, out.fee_fen) == ("payment_due", 3000 * 5)


def test_monthly_ended_by_csv_import_while_inside_pays_after(gw: Gateway, tmp_path: Path) -> None:
    """The same through `gateway import`: a vehicles.csv with the car's monthly_until cell empty
    (README: an empty cell clears it). The car parked then pays from then on."""
    entered = _parked_monthly_now(gw, tmp_path)
    _monthly_until(gw, tmp_path, "")
    cleared = gw.conn.execute("SELECT monthly_until FROM vehicles WHERE plate = '皖C44444'").fetchone()
    assert cleared == (None,)  # as the file says; the stay keeps when its month ended
    out = show(gw, "car-out", "皖C44444", entered + timedelta(days=5))
    assert (out.reason, out.fee_fen) == ("payment_due", 3000 * 5)


def _strike_off_by_delta(gw: Gateway, at: datetime) -> None:
    delta(gw, 1, 0, at, delete=[{"kind": "vehicle", "plate": "皖C44444"}])


def _strike_off_by_admin(gw: Gateway, at: datetime) -> None:
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = '皖C44444'").fetchone()[0]
    registry.delete_vehicle(gw.conn, at, "admin", vid)


def _strike_off_with_its_owner(gw: Gateway, at: datetime) -> None:
    delta(gw, 1, 0, at, delete=[{"kind": "resident", "ref": "R3"}])


@pytest.mark.parametrize(
    "strike_off", [_strike_off_by_delta, _strike_off_by_admin, _strike_off_with_its_owner]
)
def test_monthly_car_struck_off_after_its_period_ended_pays_for_the_time_after(
    gw: Gateway, tmp_path: Path, strike_off: Callable[[Gateway, datetime], None]
) -> None:
    """A monthly car paid up to the end of 4 March is parked on 3 March; on 6 March it is struck off
    the register (its contract lapsed: by the centre, an admin, or with its owner moving out). It
    leaves on 7 March and owes the time after its period ended, as it would have had it stayed
    on the register."""
    _monthly_until(gw, tmp_path, "2025-03-04")
    assert show(gw, "car-in", "皖C44444", T0).reason == "monthly"
    leaves = T0 + timedelta(days=4)
    owed = gw.parking.quote(gw.conn, "皖C44444", leaves)["due_fen"]
    assert owed > 0
    strike_off(gw, T0 + timedelta(days=3))
    out = show(gw, "car-out", "皖C44444", leaves)
    assert (out.reason, out.fee_fen) == ("payment_due", owed)


def _visitor_pass(kind: str) -> dict[str, object]:
    return {
        "kind": "pass",
        "ref": "P2",
        "pass_kind": kind,
        "name": "钱七",
        "company": "装修公司" if kind == "contractor" else "",
        "host_building": "3栋",
        "host_unit": "2单元",
        "plate": "皖E22222",
        "valid_from": "2025-03-03T08:00+08:00",
        "valid_to": "2025-03-03T22:00+08:00",
        "credentials": [{"kind": "plate", "value": "皖E22222"}],
    }


def test_pass_changed_to_contractor_while_inside_closes_its_stay(gw: Gateway) -> None:
    """The centre registers P2 as a visitor's pass; the car drives in; the centre then re-sends P2
    as a contractor's (a renovation worker registered as a visitor by mistake). At the exit the car's
    stay is found: it pays for it and the stay is closed, not left open holding a shared space."""
    delta(gw, 1, 0, T0 - timedelta(minutes=5), upsert=[_visitor_pass("visitor")])
    assert show(gw, "car-in", "皖E22222", T0).reason == "visitor"
    delta(gw, 2, 1, T0 + timedelta(hours=1), upsert=[_visitor_pass("contractor")])
    leaves = T0 + timedelta(hours=5)
    held = show(gw, "car-out", "皖E22222", leaves)
    assert "no_entry_record" not in held.flags
    assert (held.reason, held.fee_fen) == ("payment_due", 500 + 4 * 200)
    assert pay(gw, "皖E22222", held.fee_fen, leaves + timedelta(minutes=1)).admitted
    assert gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0] == 0


def test_prepaid_then_renewed_monthly_car_is_not_reported_as_not_left(gw: Gateway, tmp_path: Path) -> None:
    """R3's month ran out while his car was parked. He pays the overdue time at the booth, then the
    office renews his month (a delta from the centre); the car leaves free (a renewal pushed while
    parked counts). The money is kept, and the day's report does not go on saying it was paid ahead
    by a car not seen leaving: it stands against the stay's charge."""
    _monthly_until(gw, tmp_path, "2025-03-03")
    assert show(gw, "car-in", "皖C44444", T0).reason == "monthly"
    paid_at = T0 + timedelta(days=1, hours=1)  # 4 March 10:00
    due = gw.parking.quote(gw.conn, "皖C44444", paid_at)["due_fen"]
    assert due > 0
    gw.parking.prepay(gw.conn, "皖C44444", due, "cash", "", "guard1", paid_at)
    renewed = {"kind": "vehicle", "plate": "皖C44444", "resident": "R3", "monthly_until": "2025-04-03"}
    delta(gw, 1, 0, paid_at + timedelta(minutes=5), upsert=[R3, renewed])
    out = show(gw, "car-out", "皖C44444", paid_at + timedelta(minutes=10))
    assert (out.admitted, out.reason) == (True, "monthly")
    money = ops(gw).build_report(paid_at.date(), paid_at + timedelta(days=2))["parking"]
    assert money["paid_ahead_not_left_fen"] == 0
    assert money["revenue_fen"] == money["charged_fen"] == due


def test_monthly_car_left_with_no_known_end_by_an_older_gateway_pays_from_the_upgrade(tmp_path: Path) -> None:
    """A box upgraded while a monthly car is parked whose month the centre had already cleared (the
    older gateway kept no end for it): the car is not let out free for ever, it pays from the upgrade."""
    path = tmp_path / "gateway.db"
    old = database_at(path, 16)
    old.execute(
        "INSERT INTO residents (id, ref, building, unit, name) VALUES (3, 'R3', '6栋', '1单元', '王五')"
    )
    old.execute(
        "INSERT INTO vehicles (id, plate, resident_id, monthly_until) VALUES (7, '皖C44444', 3, NULL)"
    )
    old.execute(
        "INSERT INTO stays (subject, plate, vehicle_id, billing, entered_at) "
        "VALUES ('vehicle:7', '皖C44444', 7, 'monthly', '2025-03-03T01:00:00.000000+00:00')"
    )
    old.close()
    upgraded = datetime.now(TZ)
    conn = open_database(path).conn
    stay = open_stay(conn, "vehicle:7")
    conn.close()
    assert stay is not None and stay.monthly_until is not None
    assert abs(stay.monthly_until - upgraded) < timedelta(minutes=1)
