"""Review 58l: a mobile written as contact cards print it, 138.1234.5678 or 139·1234·5678 (the lookup
page takes both as a phone, docs/guard-app.md), or a landline in its groups, 0571-8765 4321, typed
into free text (a materials record's items, a 交班 note) was stored and sent upstream in clear:
privacy._NUMBER_IN_TEXT knew a mobile's groups only with a space or dash between and a landline's
not at all (no run of 7 digits). Found by reviewer l."""

from __future__ import annotations

import pytest

from gateway.privacy import mask_numbers_in


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("搬家公司王师傅 138.1234.5678", "搬家公司王师傅 138****5678"),
        ("快递员 139·1234·5678", "快递员 139****5678"),
        ("快递员 １３９．１２３４．５６７８", "快递员 139****5678"),  # 全角 dots
        ("车主电话 0571-8765 4321", "车主电话 057****4321"),
        ("物业座机 8765.4321", "物业座机 ****4321"),
    ],
)
def test_a_phone_in_groups_is_masked(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent


@pytest.mark.parametrize(
    "typed",
    [
        "搬运时间 0830-1130",  # a time: no local number begins with 0 or 1
        "交班 2026.1125",  # a date
        "冰箱 BCD-2160 0001",  # a model
        "收据 20261125-0001",
    ],
)
def test_groups_that_are_no_phone_are_kept(typed: str) -> None:
    assert mask_numbers_in(typed) == typed
