"""A tailgate alarm (跟车通过) names why the car that drove through had been refused, in the reader's
language: the guard's page and the centre's `message` read it in Chinese, the English page in
words, never as the decision core's code. 一位多车 (slot_occupied), closed management, a monthly
car outside its hours or before its period, the wrong lane read as raw codes (Review 60h, found by
reviewer 60g); every refusal the decision core can give is covered, so a new one cannot slip."""

from __future__ import annotations

import pytest

from gateway.alarm_texts import AlarmText, render_stored
from gateway.core.model import Reason

REFUSALS = [reason for reason in Reason if not reason.admits]


@pytest.mark.parametrize("reason", REFUSALS, ids=str)
def test_tailgate_refusal_read_in_words(reason: Reason) -> None:
    text = AlarmText(
        "tailgate",
        {"lane": "car-in", "passed": 2, "openings": 1, "plate": "京A12345", "refusal": reason.value},
    )
    page = render_stored(text.stored(), "zh", {"car-in": "北门入口"})  # what the alarms page shows
    assert page.startswith("通道 北门入口 跟车通过：京A12345（")
    for said in (page, text.render("zh")):
        assert reason.value not in said, said
    for said in (text.render("en"), render_stored(text.stored(), "en")):  # "refused: expired" is words
        assert f"({reason.value})" not in said and "_" not in said, said


@pytest.mark.parametrize(
    ("reason", "zh", "en"),
    [
        ("slot_occupied", "京A12345（车位已占用被拒）", "京A12345 (refused: slot already occupied)"),
        ("closed_management", "京A12345（封闭管理中被拒）", "京A12345 (refused: closed management in force)"),
        ("outside_hours", "京A12345（不在通行时段被拒）", "京A12345 (refused: outside opening hours)"),
        ("not_yet_valid", "京A12345（未到有效期被拒）", "京A12345 (refused: not yet valid)"),
        ("wrong_lane", "京A12345（通道不符被拒）", "京A12345 (refused: wrong lane)"),
        ("payment_due", "京A12345（待缴费）", "京A12345 (held to pay)"),
    ],
)
def test_tailgate_refusal_words(reason: str, zh: str, en: str) -> None:
    text = AlarmText(
        "tailgate", {"lane": "car-in", "passed": 2, "openings": 1, "plate": "京A12345", "refusal": reason}
    )
    assert zh in text.render("zh")
    assert en in text.render("en")
