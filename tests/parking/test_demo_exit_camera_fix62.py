"""The demo's exit camera does not read a car let in seconds ago leaving: read at the exit within
SAME_PASSAGE of its entry, it is the exit camera seeing the entrance lane beside it (no passage,
flag neighbour_lane, since 90e59a6), and the demo's live page filled with lines about cars that
never left."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.parking.test_demo_exit_camera_fix61p import _read_leaving, site  # noqa: F401  (fixture)
from tests.parking.test_no_plate_car import Site

JUST_IN, SETTLED = "苏E66666", "苏E77777"


def test_the_exit_camera_reads_a_car_let_in_a_minute_ago_not_one_let_in_just_now(
    site: Site,  # noqa: F811
) -> None:
    now = datetime.now(UTC).astimezone(site.gw.site.tz)
    site.now = now - timedelta(minutes=5)
    assert site.show("car-in", SETTLED).admitted
    site.now = now
    assert site.show("car-in", JUST_IN).admitted
    assert _read_leaving(site) == {SETTLED}
