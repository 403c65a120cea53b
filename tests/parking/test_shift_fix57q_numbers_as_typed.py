"""Review 57q: privacy.mask_numbers_in (1528264) let through the numbers a guard types on a
Chinese tablet in 全角 mode, where the IME types the space or dash between the groups full-width
too (U+3000 '　', U+FF0D '－'): 138　1234　5678 went upstream whole. An ID card's number typed in the
groups printed on the card (110101 19900307 123X) went up with 14 of its 18 characters, and an
8-digit date (20261125) was masked as a phone number. Found by reviewer q."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from gateway.privacy import mask_numbers_in
from gateway.runtime.gateway import Gateway
from tests.parking.test_shift_handover_api import GUARD, M, booth, log_in


@pytest.mark.parametrize(
    "typed, must_not_show",
    [
        ("车主电话１３８　１２３４　５６７８明天补", "1234"),  # 全角 mode: digits and space full-width
        ("车主电话１３８－１２３４－５６７８明天补", "1234"),  # 全角 mode: digits and dash full-width
        ("访客身份证 110101 19900307 123X 落在岗亭", "110101"),  # as printed on the card
    ],
)
def test_a_number_typed_as_a_tablet_types_it_never_goes_up_in_clear(
    make_gw: Callable[..., Gateway], typed: str, must_not_show: str
) -> None:
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        handed = client.post("/api/shift/handover", headers=csrf, json={"counted_cash_fen": 0, "note": typed})
        assert handed.status_code == 201, handed.text
        (payload,) = gw.on_worker(
            lambda c: c.execute("SELECT payload FROM outbox WHERE topic = 'shift_handover'").fetchone()
        ).result(10)
        note = json.loads(payload)["note"]
        assert must_not_show not in note, f"the centre reads the handover note {note!r}"


def test_a_date_typed_in_the_note_is_kept(make_gw: Callable[..., Gateway]) -> None:
    """An 8-digit date (20261125, as the receipt numbers write it) is no phone number: masked, the
    office reads '****1125的收据本少一张' and cannot tell which day."""
    with booth(make_gw) as (gw, clock, client, token):
        csrf = log_in(client, GUARD)
        clock["now"] += M
        typed = "20261125的收据本少一张"
        handed = client.post("/api/shift/handover", headers=csrf, json={"counted_cash_fen": 0, "note": typed})
        assert handed.status_code == 201, handed.text
        assert handed.json()["note"] == typed


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("电话１３８　１２３４　５６７８，车位Ｂ１２", "电话138****5678，车位Ｂ１２"),
        ("身份证110101-19900307-123X", "身份证**************123X"),
        ("收据20261125-00012作废", "收据20261125-00012作废"),
        ("座机87654321", "座机****4321"),
        ("19900230出生", "****0230出生"),  # no such day: a number, masked
    ],
)
def test_only_the_number_is_masked_the_rest_kept_as_typed(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent
