"""Drivers told why (Review 66C). A resident's second car on a shared slot whose first car is in (一位多车),
and a resident's car with no slot, come in as temporary cars that pay; the board said only
临时车 请入场, as to a stranger, while the guard's page said 临时车 · 一位多车: the driver who pays
for his own estate was not told why. A visitor kept out by a closed-management period because his
pass lacks what the period asks for was told 禁止入内 封闭管理中, a stranger's words, not that the
booth can register him. Each now says why, in words the lane's panels show whole (docs/hardware.md,
Serial LED text displays)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from drivers.displays.serial_text import panel_lines
from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from tests.conftest import write_csv
from tests.parking.conftest import T0, add_visitor, make_gw  # noqa: F401  (fixture)

LED = """
[[devices]]
id = "car-in-display"
lane = "car-in"
kind = "display"
driver = "simulated"
"""
# A closed-management period over T0 (docs/parking.md): visitors need every field it asks for.
CLOSED = """
[[policy.closed_management]]
first_day = 2025-03-01
last_day = 2025-03-10
hours = ["07:00-21:00"]
"""


def _board(gw: Gateway) -> list[str]:
    return list(gw.devices.lanes["car-in"].displays[0].shown[-1])  # type: ignore[attr-defined]


def _in(gw: Gateway, plate: str, minutes: int = 0) -> list[str]:
    gw.handle(Presented("car-in", "plate", plate, 0.97, T0 + timedelta(minutes=minutes), "cam"))
    return _board(gw)


def test_a_shared_slots_second_car_is_told_why_it_pays(make_gw: Callable[..., Gateway]) -> None:  # noqa: F811
    gw = make_gw(extra=LED, capacity=20)
    assert _in(gw, "皖A11111") == ["欢迎回家", "皖A11111"]  # R1's first car, on slot B001
    assert _in(gw, "皖A22222", 1) == ["一位多车 临时车 请入场", "皖A22222"]


def test_a_residents_car_with_no_slot_is_told_why_it_pays(
    make_gw: Callable[..., Gateway],  # noqa: F811
    tmp_path: Path,
) -> None:
    gw = make_gw(extra=LED, capacity=20)
    import_csv(gw.site.config, [write_csv(tmp_path / "v.csv", "plate,resident_ref\n皖B66666,R2\n")])
    assert _in(gw, "皖B66666") == ["无车位 临时车 请入场", "皖B66666"]


def test_a_visitor_kept_out_by_closed_management_is_sent_to_the_booth(
    make_gw: Callable[..., Gateway],  # noqa: F811
) -> None:
    gw = make_gw(extra=LED + CLOSED, capacity=20)
    add_visitor(gw, "浙A99999")
    assert _in(gw, "浙A99999") == ["封闭管理 请到岗亭登记", "浙A99999"]
    assert _in(gw, "苏E12345") == ["禁止入内 封闭管理中", "苏E12345"]  # a stranger's car: as before


@pytest.mark.parametrize(
    ("width", "words", "panel"),
    [
        (4, "一位多车 临时车 请入场", ["一位多车", "临时车", "请入场"]),
        (8, "一位多车 临时车 请入场", ["一位多车 临时车", "请入场"]),
        (4, "无车位 临时车 请入场", ["无车位", "临时车", "请入场"]),
        (8, "无车位 临时车 请入场", ["无车位 临时车", "请入场"]),
        (4, "封闭管理 请到岗亭登记", ["封闭管理", "请到岗亭", "登记"]),
        (8, "封闭管理 请到岗亭登记", ["封闭管理", "请到岗亭登记"]),
    ],
)
def test_the_words_fit_the_usual_panels(width: int, words: str, panel: list[str]) -> None:
    """On a 64-dot (4) and a 128-dot (8) panel: broken at their spaces, never mid-phrase but where
    a word is wider than the panel (请到岗亭 / 登记 at 4, read on as one)."""
    assert panel_lines(words, width) == panel
