"""Review 58d (mutation testing of privacy.mask_numbers_in, the masking of numbers in what a guard
types: shift handover notes, correction reasons, alarm notes, which go upstream): no test typed a
7-digit landline (still usual in smaller cities) or a 15- or 16-digit number in a note. With the
catch-all raised to 8 digits the landline went up in clear; with the ID-card rule raised to 18 a
first-generation ID card's number or a bank card's was masked as a phone, showing its first three
digits (the region code, the bank's prefix) as well as its last four."""

from __future__ import annotations

import pytest

from gateway.privacy import mask_numbers_in


def test_a_seven_digit_landline_in_a_note_is_masked() -> None:
    assert mask_numbers_in("业主电话6543210，请回电") == "业主电话****210，请回电"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("访客老身份证110101900307123", "访客老身份证***********7123"),  # 15-digit ID card
        ("押金卡号6222021234563456", "押金卡号************3456"),  # 16-digit bank card
    ],
)
def test_a_long_number_in_a_note_keeps_only_its_last_four(typed: str, shown: str) -> None:
    assert mask_numbers_in(typed) == shown
