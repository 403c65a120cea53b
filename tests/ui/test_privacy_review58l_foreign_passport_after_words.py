"""Review 58l: a foreign visitor's passport number (2 letters and 7 digits, as Japan's TK1234567 or
Thailand's AA1234567; a letter and 7 digits, as India's or Vietnam's B1234567) typed in a 开闸 reason
was audited and sent to the centre in clear when the guard wrote it as Chinese is written: 护照号为
TK1234567, 已核对护照，号码TK1234567, 护照（TK1234567）. Before Review 58f2 every 7-digit run was
masked; then the letters glued to it made it "a thing's code" (privacy._a_code), and the document
word counted only directly before it (号/号码/No./colon between), so 为/是, a Chinese comma or a
bracket in between let it through. docs/mqtt.md: free text has every phone- or ID-like number
masked. Found by reviewer l."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.privacy import mask_numbers_in
from tests.ui.conftest import Site, bearer

TYPED = {
    "外籍访客护照号为TK1234567，忘带二维码": "外籍访客护照号为TK***4567，忘带二维码",
    "已核对护照，号码TK1234567": "已核对护照，号码TK***4567",
    "日本访客田中护照（TK1234567）": "日本访客田中护照（TK***4567）",
    "越南籍工人护照号是B1234567": "越南籍工人护照号是B***4567",
    "passport number is TK1234567": "passport number is TK***4567",
    "访客ID为 AA12345678": "访客ID为 AA****5678",
}


@pytest.mark.parametrize("typed", TYPED)
def test_a_foreign_passport_number_keeps_only_its_last_four(typed: str) -> None:
    assert mask_numbers_in(typed) == TYPED[typed]


@pytest.mark.parametrize(
    "typed",
    [
        "型号 TK1234567",  # no document named: a model
        "证件已核。型号AB1234567",  # named in the sentence before
        "业主凭身份证登记，顺丰SF1234567890123",  # no passport's shape: a waybill
        "业主凭身份证登记，搬出冰箱BCD-1234000",
        "paid AB1234567",  # id inside a word is no ID
    ],
)
def test_a_things_code_in_a_note_naming_a_document_is_kept(typed: str) -> None:
    assert mask_numbers_in(typed) == typed


def test_open_by_hand_reason_with_a_japanese_passport_goes_up_masked(client: TestClient, site: Site) -> None:
    r = client.post(
        "/api/lanes/door/open",
        json={"reason": "外籍访客护照号为TK1234567，忘带二维码"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 200, r.text

    def upstream(c):  # type: ignore[no-untyped-def]
        return [p for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'lane_action'")]

    sent = site.gw.on_worker(upstream).result(10)
    assert sent and not any("TK1234567" in p for p in sent), f"sent upstream in clear: {sent}"
    assert any("TK***4567" in p for p in sent), sent
