"""What the driver reads on a lane panel when a word does not fit a line (review 53g): a fee too
long for the line after 请缴费 started on that line, so 12345.67元 at width 8 read 请缴费 1234 /
5.67元 ("pay 1234"); and an 8-character green plate cut at a 7-character width read 粤BD1234 / 5,
another car's plate. The widths are in cells since review 56e (a letter or digit half a Chinese
character): the same breaks happen at narrower widths."""

from __future__ import annotations

import pytest

from drivers.displays.serial_text import display_bytes, panel_lines
from gateway.core.tickets import half_cells
from gateway.runtime.texts import pay_lines, refusal_lines
from plates.grammar import is_plate


def _panel(lines: list[str], width: int) -> list[str]:
    return display_bytes(lines, "gbk", "crlf", width).decode("gbk").split("\r\n")[:-1]


@pytest.mark.parametrize(
    ("fen", "kind", "width", "fee_lines"),
    [
        (1234567, "resident", 4, ["12345.67", "元"]),  # 12345.67元: 5 cells
        (123450, "temporary", 3, ["1234.5", "元"]),  # 1234.5元: 4 cells
    ],
)
def test_a_fee_too_long_for_the_line_starts_a_line_of_its_own(
    fen: int, kind: str, width: int, fee_lines: list[str]
) -> None:
    shown = _panel(pay_lines(fen, "苏E12345", kind), width)
    assert "请缴费" in shown, shown  # the words alone on their line, no digits after them
    at = shown.index(fee_lines[0])
    assert shown[at : at + len(fee_lines)] == fee_lines, shown
    assert all(half_cells(line) <= 2 * width and line == line.strip() for line in shown), shown


def test_a_green_plate_too_long_for_the_line_is_no_other_cars_plate() -> None:
    shown = _panel(refusal_lines("unknown", "粤BD12345", "zh", "exit"), 4)  # the plate: 4.5 cells
    assert shown[-2:] == ["粤B", "D12345"], shown
    assert not any(is_plate(line) for line in shown), shown


def test_lines_that_fit_are_as_before() -> None:
    assert panel_lines("临时车 请缴费 7元", 8) == ["临时车 请缴费", "7元"]
    assert panel_lines("禁止入内 不在通行时段", 8) == ["禁止入内", "不在通行时段"]
    assert panel_lines("粤BD12345", 8) == ["粤BD12345"]
