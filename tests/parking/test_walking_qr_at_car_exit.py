"""A walking visitor's QR shown at the car exit, where a temporary car is held to pay."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0
from tests.parking.test_pass_without_plate_at_camera_lane import _qr_of_pass_without_plate, _show

H = timedelta(hours=1)
S = timedelta(seconds=1)
CAR = "苏E12312"


def test_a_qr_of_a_pass_with_no_car_does_not_let_a_held_temporary_car_out_free(
    make_gw: Callable[..., Gateway],
) -> None:
    """A car nobody registered comes in as a temporary car. Its driver walks to the booth and is
    registered as a visitor on foot (no plate). Three hours later the car is held at the exit to
    pay (payment_due, 9元 on the display); the driver scans the pass's QR at the exit's scanner. The
    barrier opens: the QR is taken as a visitor leaving with no entry record, the fee is never
    asked, and the car's stay stays open for ever (a space taken, its fee never charged). The pass
    let no car in; it should not let a car held for its fee out free (parking.md: a pass's QR at an
    exit is 'the car its pass let in'; a car held to pay whose pass is shown is decided afresh,
    never let through on the strength of its hold)."""
    gw = make_gw()
    assert _show(gw, "car-in", "plate", CAR, T0).reason == "temporary"
    qr = _qr_of_pass_without_plate(gw)
    held = _show(gw, "car-out", "plate", CAR, T0 + 3 * H)
    assert held.reason == "payment_due" and held.fee_fen > 0
    scan = _show(gw, "car-out", "qr", qr, T0 + 3 * H + 3 * S)
    open_stays = gw.conn.execute("SELECT subject FROM stays WHERE exited_at IS NULL").fetchall()
    assert not scan.admitted, (
        f"the barrier opened for the held car on a walking visitor's QR: {scan.reason} {scan.flags}; "
        f"open stays left: {open_stays}"
    )


def test_the_car_a_pass_without_a_plate_let_in_still_leaves_on_its_qr(
    make_gw: Callable[..., Gateway],
) -> None:
    """The refusal is for a pass that let no car in: the car its QR let in leaves on that QR as before
    (within the tariff's free half hour, nothing to pay)."""
    gw = make_gw()
    qr = _qr_of_pass_without_plate(gw)
    assert _show(gw, "car-in", "qr", qr, T0).reason == "visitor"
    out = _show(gw, "car-out", "qr", qr, T0 + H / 3)
    assert (out.admitted, out.reason, out.flags) == (True, "visitor", ()), (out.reason, out.flags)
    assert gw.conn.execute("SELECT count(*) FROM stays WHERE exited_at IS NULL").fetchone()[0] == 0
