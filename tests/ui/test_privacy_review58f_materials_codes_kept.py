"""Review 58f: since 650c775 a materials record's `items` go through privacy.mask_numbers_in, which
masked every run of 7 or more digits, whatever was written with it. What a 物品出门 record is for (the
property company tells the owner exactly what left, and checks it if he disputes it) was lost: an
appliance's model and serial, a laptop's asset tag, a courier's waybill number were stored, shown,
audited and sent to the centre as ****: "顺丰 SF1234567890123" became "SF123****0123", "海尔
BCD-2160000" became "BCD-****000". None is a phone or ID number (letters written with it, and not a
phone's or ID card's shape); the mover's mobile in the same text must still go masked. Found by
reviewer f."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from gateway.privacy import mask_numbers_in
from tests.ui.conftest import Site, bearer

PHONE, MASKED = "13812345678", "138****5678"
CODES = ("SF1234567890123", "BCD-2160000", "SN:C1Z2034567")


def test_codes_in_what_leaves_are_kept_and_only_the_phone_masked(client: TestClient, site: Site) -> None:
    r = client.post(
        "/api/residents",
        json={"ref": "R9", "building": "3栋", "unit": "2单元", "room": "302", "name": "李四"},
        headers=bearer(site.admin_token),
    )
    assert r.status_code == 200, r.text
    items = f"冰箱 1 台 海尔 {CODES[1]} {CODES[2]}；快递寄出 顺丰 {CODES[0]}（搬家 王师傅 {PHONE}）"
    r = client.post(
        "/api/materials",
        json={"items": items, "host_building": "3栋", "host_unit": "2单元"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 201, r.text
    assert r.json()["items"] == items.replace(PHONE, MASKED)  # the codes as typed, the mobile masked

    def upstream(c):  # type: ignore[no-untyped-def]
        rows = c.execute("SELECT payload FROM outbox WHERE topic = 'materials'").fetchall()
        return [json.loads(payload)["record"]["items"] for (payload,) in rows]

    assert site.gw.on_worker(upstream).result(10) == [items.replace(PHONE, MASKED)]  # the centre's too


@pytest.mark.parametrize(
    "code",
    [
        "顺丰SF1234560123",
        "海尔 BCD-1234000",
        "S/N: 12345678",
        "No.1234567",
        "资产标签 ＳＮ：１２３４５６７８",  # 全角 mode
        "型号 2160000W",
        "中通 YT1234567890123",
    ],
)
def test_a_things_code_is_kept(code: str) -> None:
    assert mask_numbers_in(code) == code


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("SF13812345678", "SF138****5678"),  # a mobile's shape: masked, letters or not
        ("Tel:87654321", "Tel:****4321"),  # a contact word before it
        ("Mobile-87654321", "Mobile-****4321"),
        ("QQ:12345678", "QQ:****5678"),
        ("ID:11010119900307123X", "ID:**************123X"),
        ("SN:11010119900307123X", "SN:**************123X"),  # an ID card's shape
        ("TEL 0512-65123456", "TEL 0512-****3456"),
        ("AB051265123456", "AB051****3456"),  # a landline with its area code
        ("座机87654321", "座机****4321"),  # no letters: as before
        ("AB 1234567", "AB ****567"),  # letters apart from it: as before
    ],
)
def test_a_persons_number_is_masked_even_written_like_a_code(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent
