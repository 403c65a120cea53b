"""A monthly car (月租车) recorded inside (Cars already inside) whose month had run out, renewed while
it is parked. docs/parking.md, Cars already inside: the stay is the one "an entry of that plate at
entered_at would have opened", and "from then on it is a car inside like any other"; Monthly: a
car renewed while parked pays at its exit only for the time before the renewal."""

from __future__ import annotations

from datetime import timedelta

from gateway.parking.inside import CarInside, record_inside
from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.store.database import transaction
from gateway.timefmt import to_db
from tests.parking.conftest import T0, show

H = timedelta(hours=1)
D = timedelta(days=1)


def test_a_recorded_car_renewed_while_parked_pays_only_the_time_before_the_renewal(gw: Gateway) -> None:
    """Day one. 皖C44444's month ended yesterday; it is on the old system's list, in since 09:00,
    and the admin records it (登记场内车辆): a temporary car, as its entry at 09:00 would have been
    (monthly_expired). At 10:00 the resident renews at the office for another month, and drives out
    three days later. A car that came in through the lane at 09:00 pays at most the hour before the
    renewal (5元, tests/parking/test_monthly_year.py); the recorded one is asked for three days at
    the temporary cap: its renewal is looked for on an entry record it does not have."""
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = '皖C44444'", (to_db(T0 - D),))
    with transaction(gw.conn):
        made = record_inside(gw.conn, gw.site, CarInside("皖C44444", T0), "day one", "admin1", T0 + H / 2)
    assert made["billing"] == "temporary" and made["lane_would_refuse"] is None, made
    vid = gw.conn.execute("SELECT id FROM vehicles WHERE plate = '皖C44444'").fetchone()[0]
    registry.update_vehicle(gw.conn, T0 + H, "admin", vid, {"monthly_until": T0 + 31 * D})
    out = show(gw, "car-out", "皖C44444", T0 + 3 * D)
    assert out.fee_fen <= 500, (
        f"recorded in at 09:00 (month run out), renewed at 10:00, out 3 days later: "
        f"{out.reason}, asked {out.fee_fen / 100:g}元 (a car that came in at the lane: at most 5元)"
    )
