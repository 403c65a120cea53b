"""A visitor's car read at the entrance before his pass's QR: 临时车 请入场 京B11111, then the QR,
欢迎光临 京B11111 (5de5571f). The camera decides the car still standing at the barrier again (every
15 s, or at once when the loop asks): that repeat is the plate's, its stay now the pass's, and it
turned the board back to 临时车 请入场 京B11111, the visitor just welcomed told he was a stranger's car
(Review N). Now the plate's repeat on a pass is welcomed as the QR was, and nothing changes on the
board. Real gateway and SQLite; the words only, the decisions as before."""

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


class _Camera:
    """The entrance's plate camera reader (the hardware edge): it watches, and sees the car there."""

    def hold(self, text: str) -> None:
        pass

    def watching(self) -> bool:
        return True

    def in_lane(self, text: str) -> bool:
        return text == CAR


def _board(gw: Gateway) -> list[str]:
    return list(gw.devices.lanes["car-in"].displays[0].shown[-1])  # type: ignore[attr-defined]


def test_the_cameras_repeat_of_a_visitors_car_keeps_his_welcome(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw(extra=LED, capacity=20)
    gw.devices.lanes["car-in"].plate_readers.append(_Camera())
    pass_id = add_visitor(gw, "浙A99999")
    gw.conn.execute("INSERT INTO credentials (kind, value, pass_id) VALUES ('qr', ?, ?)", (QR, pass_id))
    assert gw.handle(Presented("car-in", "plate", CAR, 0.97, T0, "cam")).admitted
    assert gw.handle(Presented("car-in", "qr", QR, 1.0, T0 + timedelta(seconds=3), "qr-reader")).admitted
    assert _board(gw) == ["欢迎光临", CAR]
    for seconds in (6, 18, 33):  # the loop's ask, then the camera's 15 s repeats
        ev = gw.handle(
            Presented("car-in", "plate", CAR, 0.97, T0 + timedelta(seconds=seconds), "cam", again=True)
        )
        assert ev.admitted and ev.subject == f"visitor:{pass_id}" and "again" in ev.flags
        assert _board(gw) == ["欢迎光临", CAR], seconds


def test_a_residents_second_car_repeated_keeps_its_own_words(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    """Only a pass's car is welcomed so: a shared slot's second car, its holder a resident, is
    not welcomed as a visitor at a repeat."""
    gw = make_gw(extra=LED, capacity=20)
    assert gw.handle(Presented("car-in", "plate", "皖A11111", 0.97, T0, "cam")).admitted
    second = gw.handle(Presented("car-in", "plate", "皖A22222", 0.97, T0 + timedelta(minutes=1), "cam"))
    words = _board(gw)
    assert second.reason == "temporary" and words[-1] == "皖A22222" and "欢迎" not in words[0]
    at = T0 + timedelta(minutes=1, seconds=15)
    gw.handle(Presented("car-in", "plate", "皖A22222", 0.97, at, "cam", again=True))
    assert not _board(gw)[0].startswith("欢迎") and _board(gw)[-1] == "皖A22222"
