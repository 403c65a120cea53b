"""A visitor whose plate is read before his pass's QR is scanned at the entrance: the plate, nobody's,
is let in as a temporary car (临时车 请入场 京B11111), then the QR, a moment later, is that car on the
pass (its stay moves onto the pass). The board then read 临时车 请入场, the plate line gone: the visitor
who had just shown his pass was told he was a stranger's car, where the QR first greets him
欢迎光临 京B11111 (Review 66C). The words only: the decision is the plate's, reused as before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from tests.parking.conftest import T0, add_visitor, make_gw  # noqa: F401  (fixture)

LED = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"
"""
CAR = "京B11111"  # not the pass's registered plate: the visitor came in a friend's car
QR = "QRTOKEN123456"


def _board(gw: Gateway) -> list[str]:
    return list(gw.devices.lanes["car-in"].displays[0].shown[-1])  # type: ignore[attr-defined]


def _visitor(gw: Gateway) -> None:
    pass_id = add_visitor(gw, "浙A99999")
    gw.conn.execute("INSERT INTO credentials (kind, value, pass_id) VALUES ('qr', ?, ?)", (QR, pass_id))


def test_a_pass_scanned_after_its_car_was_read_is_welcomed_with_its_plate(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw(extra=LED, capacity=20)
    _visitor(gw)
    assert gw.handle(Presented("car-in", "plate", CAR, 0.97, T0, "cam")).admitted
    assert _board(gw) == ["临时车 请入场", CAR]
    ev = gw.handle(Presented("car-in", "qr", QR, 1.0, T0 + timedelta(seconds=3), "qr-reader"))
    assert ev.admitted and ev.subject.startswith("visitor:")
    assert _board(gw) == ["欢迎光临", CAR]


def test_a_pass_scanned_before_its_car_is_welcomed_as_before(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw(extra=LED, capacity=20)
    _visitor(gw)
    assert gw.handle(Presented("car-in", "qr", QR, 1.0, T0, "qr-reader")).admitted
    assert _board(gw) == ["欢迎光临"]
    assert gw.handle(Presented("car-in", "plate", CAR, 0.97, T0 + timedelta(seconds=3), "cam")).admitted
    assert _board(gw) == ["欢迎光临", CAR]
