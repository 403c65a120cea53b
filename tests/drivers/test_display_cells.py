"""A lane panel's width in cells (review 56e). A 16x16 font draws a Chinese character 16 dots wide
and a letter or digit 8: the usual 64-dot lane panel shows 4 hanzi, or 皖A12345 (16 + 6 x 8 dots).
Counted in characters, width = 4 broke that plate 皖A / 1234 / 5 on a line it fits."""

from __future__ import annotations

import pytest

from drivers.displays.serial_text import display_bytes, panel_lines
from gateway.core.tickets import half_cells
from plates.grammar import is_plate


@pytest.mark.parametrize(
    ("text", "half"),
    [
        ("皖A12345", 8),
        ("临时车 请缴费 7元", 17),
        ("无牌-0303-07", 12),
        ("１２", 4),  # full-width digits, as a Chinese input method types them
        ("·", 2),  # ambiguous width: a GB2312 panel draws it from its 16-dot font
        ("", 0),
    ],
)
def test_half_cells(text: str, half: int) -> None:
    assert half_cells(text) == half


def test_a_plate_fits_a_64_dot_line_whole() -> None:
    assert panel_lines("皖A12345", 4) == ["皖A12345"]
    shown = display_bytes(["临时车 请入场", "皖A12345"], "gb18030", "crlf", 4)
    assert shown.endswith("\r\n皖A12345\r\n".encode("gb18030")), shown.decode("gb18030")


def test_a_fee_on_a_64_dot_panel() -> None:
    assert panel_lines("临时车 请缴费 7元", 4) == ["临时车", "请缴费", "7元"]
    assert panel_lines("临时车 请缴费 7元", 5) == ["临时车", "请缴费 7元"]  # 80 dots: 请缴费 7元 is 5 cells
    assert panel_lines("临时车 请缴费 7元", 9) == ["临时车 请缴费 7元"]  # 8.5 cells


def test_a_green_plate_wider_than_the_line_is_broken_after_its_province_and_letter() -> None:
    shown = panel_lines("皖AD12345", 4)  # 4.5 cells
    assert shown == ["皖A", "D12345"]
    assert not any(is_plate(line) for line in shown), shown
    assert panel_lines("皖AD12345", 5) == ["皖AD12345"]


def test_a_ticket_on_a_64_dot_panel_is_broken_at_its_dashes() -> None:
    assert panel_lines("无牌-0303-07", 4) == ["无牌", "-0303", "-07"]
    assert panel_lines("无牌-0303-07", 5) == ["无牌030307"]
    assert panel_lines("无牌-0303-07", 6) == ["无牌-0303-07"]
