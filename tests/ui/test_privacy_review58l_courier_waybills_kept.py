"""Review 58l: Review 58j2 masked 3 letters and 12 digits wherever written, as a 2017 foreign
permanent residence card's number (USA123456789012). A Deppon (德邦, the courier of furniture and
appliances) waybill DPK + 12 digits and a JD Logistics one JDX + 12 digits have that shape, so a
materials record naming the waybill a fridge left on was stored, shown and sent as DPK********7890:
the office could not answer an owner disputing what left (the very case Review 58f2 fixed for SF
waybills). Neither DPK nor JDX is a nationality (ISO 3166-1 alpha-3), which the card's 3 letters
are. Found by reviewer l."""

from __future__ import annotations

import pytest

from gateway.privacy import mask_numbers_in


@pytest.mark.parametrize("typed", ["德邦大件 冰箱 DPK301234567890", "京东物流 洗衣机 JDX012345678901"])
def test_a_courier_waybill_is_kept_as_typed(typed: str) -> None:
    assert mask_numbers_in(typed) == typed


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("永久居留证 USA123456789012", "永久居留证 USA********9012"),
        ("访客 JPN123456789012", "访客 JPN********9012"),  # a nationality: masked wherever written
        ("居留证号为XKX123456789012", "居留证号为XKX********9012"),  # letters no list has, a document named
    ],
)
def test_a_residence_card_is_still_masked(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent
