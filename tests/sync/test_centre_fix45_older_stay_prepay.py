"""A car parked since before a power cut pays ahead at the booth while the Pi runs on its stale
boot clock; NTP then sets the clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from centre_helpers import Uplink

from gateway.parking.boot_clock import BOOT_MARKER
from gateway.parking.inside import CarInside, record_inside
from gateway.store.database import transaction
from tests.parking.conftest import T0, show
from tests.parking.test_operations import Steady, a_new_boot, ops

H = timedelta(hours=1)
M = timedelta(minutes=1)
S = timedelta(seconds=1)
CAR = "苏E12345"  # a stranger's car: temporary, paying by the hour


def _centre_days(records: list[dict[str, Any]]) -> dict[str, int]:
    """Money per day as the centre books it from `payment` records, in seq order: the newest record
    of a receipt holds (docs/mqtt.md, `payment`)."""
    payments: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["type"] == "payment":
            payments[record["receipt"]] = record
    days: dict[str, int] = {}
    for record in payments.values():
        day = datetime.fromisoformat(record["at"]).date().isoformat()  # the site's offset
        days[day] = days.get(day, 0) + record["amount_fen"]
    return days


def test_a_booth_payment_on_the_stale_clock_for_a_car_parked_before_the_power_cut_is_booked_on_its_day(
    tmp_path: Path,
) -> None:
    """A stranger's car parks on Saturday 18:00; the power fails at 21:00 and the Pi boots on Monday
    09:00 saying Saturday 20:00 (fake-hwclock's last save). At the true Monday 09:40 the driver pays
    ahead at the booth; NTP sets the clock at 09:50. The payment of a car let in on the stale clock
    is moved to Monday and sent again `redated`; this one, the car parked before the cut, stays
    dated Saturday 20:40 on the box and at the centre: Monday's cash is booked on Saturday. It
    should be booked on Monday, the day the money was taken."""
    up = Uplink(tmp_path)
    gw = up.gw
    stale = T0 - 37 * H  # Saturday 20:00
    show(gw, "car-in", CAR, stale - 2 * H)  # the boot before: a true time
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 40 * 60
    due = gw.parking.quote(gw.conn, CAR, stale + 40 * M)["due_fen"]
    receipt = gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", stale + 40 * M)["receipt"]
    steady.s = 50 * 60
    o.tick(T0 + 50 * M)  # NTP sets the clock
    steady.s = 51 * 60
    o.tick(T0 + 51 * M)
    monday = T0.date().isoformat()
    paid_at = gw.conn.execute("SELECT at FROM payments").fetchone()[0]
    booked = _centre_days(up.deliver(T0 + H))
    up.close()
    assert booked == {monday: due}, (
        f"receipt {receipt}, {due} fen taken at the booth at the true {T0 + 40 * M:%a %m-%d %H:%M}, is "
        f"booked by the centre as {booked} (per day; stored on the box at {paid_at}) after NTP set the clock"
    )


def test_the_car_that_paid_ahead_leaves_within_its_grace_once_ntp_sets_the_clock(tmp_path: Path) -> None:
    """The same car, paid ahead at the true Monday 09:40 (9元, Saturday 18:00 to the stale clock's
    20:40), drives to the exit at 09:52, two minutes after NTP set the clock: within the 15 minutes
    after paying, it leaves without paying more, as it would have had NTP come after it left; held,
    the driver was asked for two days at the barrier twelve minutes after paying at the booth. Past
    its grace, it owes the rest of its true stay from where the fee was worked out to (fee_until)."""
    up = Uplink(tmp_path)
    gw = up.gw
    stale = T0 - 37 * H
    show(gw, "car-in", CAR, stale - 2 * H)
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 40 * 60
    due = gw.parking.quote(gw.conn, CAR, stale + 40 * M)["due_fen"]
    gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", stale + 40 * M)
    steady.s = 50 * 60
    o.tick(T0 + 50 * M)  # NTP sets the clock
    late = gw.parking.quote(gw.conn, CAR, T0 + 56 * M)["due_fen"]
    steady.s = 52 * 60
    out = show(gw, "car-out", CAR, T0 + 52 * M)
    up.close()
    assert (out.admitted, out.fee_fen) == (True, 0), (
        f"{CAR} paid {due} fen at the booth at the true 09:40 and is at the exit at 09:52: "
        f"{out.reason}, asked {out.fee_fen} fen"
    )
    assert late > 0  # past its grace: the rest of its stay, from Saturday 20:40


def test_a_car_recorded_inside_with_its_time_typed_that_paid_ahead_leaves_within_its_grace(
    tmp_path: Path,
) -> None:
    """The same car, missed by the camera, is recorded inside on the stale clock with the time it
    came in typed (Saturday 18:00, a true time that stays), and pays ahead at the true Monday 09:40
    (the stale clock's 20:40). At the exit at 09:52, after NTP, it is within its grace as a car
    parked before the power cut is: the fee was worked out to 20:40 of its true stay, and that stays
    where it was (moved to Monday with the payment, the payment claimed to cover the two days, and
    the car was asked for them at the barrier). The payment itself is booked on Monday."""
    up = Uplink(tmp_path)
    gw = up.gw
    stale = T0 - 37 * H
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 10 * 60
    with transaction(gw.conn):
        record_inside(
            gw.conn, gw.site, CarInside(CAR, entered_at=stale - 2 * H), "missed by the camera", "admin1",
            stale + 10 * M,
        )
    steady.s = 40 * 60
    due = gw.parking.quote(gw.conn, CAR, stale + 40 * M)["due_fen"]
    gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", stale + 40 * M)
    steady.s = 50 * 60
    o.tick(T0 + 50 * M)  # NTP sets the clock
    steady.s = 52 * 60
    out = show(gw, "car-out", CAR, T0 + 52 * M)
    booked = _centre_days(up.deliver(T0 + H))
    up.close()
    assert (out.admitted, out.fee_fen, booked) == (True, 0, {T0.date().isoformat(): due}), (
        f"{CAR}, in since Saturday 18:00 (typed), paid {due} fen at the booth at the true 09:40 and is "
        f"at the exit at 09:52: {out.reason}, asked {out.fee_fen} fen; the centre books {booked}"
    )


def test_a_booth_payment_taken_before_an_upgrade_on_the_stale_clock_is_booked_on_its_day(
    tmp_path: Path,
) -> None:
    """The payment of the first test taken under the release before this one, whose
    boot-alarms.json did not name the boot's first payment; the service is upgraded and restarted
    at the true 09:45, the clock still stale, and NTP sets it at 09:50. The boot's first payment is
    found by its `payment.take` audit row, and the payment is booked on Monday too."""
    up = Uplink(tmp_path)
    gw = up.gw
    stale = T0 - 37 * H
    show(gw, "car-in", CAR, stale - 2 * H)
    a_new_boot(gw)
    steady = Steady()
    o = ops(gw, started=stale, steady=steady)
    o.tick(stale)
    steady.s = 40 * 60
    due = gw.parking.quote(gw.conn, CAR, stale + 40 * M)["due_fen"]
    gw.parking.prepay(gw.conn, CAR, due, "cash", "", "booth", stale + 40 * M)
    marker = gw.data_dir / BOOT_MARKER
    kept = json.loads(marker.read_text())
    del kept["first"]["payments"]  # as the release before this one kept it
    marker.write_text(json.dumps(kept))
    steady.s = 45 * 60
    again = ops(gw, started=stale + 45 * M, steady=steady)  # upgraded: the service restarted
    again.tick(stale + 45 * M)
    steady.s = 50 * 60
    again.tick(T0 + 50 * M)  # NTP sets the clock
    booked = _centre_days(up.deliver(T0 + H))
    up.close()
    assert booked == {T0.date().isoformat(): due}, f"the centre books {booked}"
