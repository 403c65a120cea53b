"""What a guard types with a Chinese input method (全角 full-width, Chinese punctuation, text pasted
from WeChat) on the booth tablet, sent to the gateway as the pages send it (review s43_ime): the
same number, plate, name or hours as typed half-width (gateway/typed.py)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.ui.conftest import CARD, PHONE, Site, bearer, stored

# 11010519491231002X, a valid GB 11643 number, as a pinyin keyboard in 全角 mode types it.
ID_HALF = "11010519491231002X"
ID_FULL = "１１０１０５１９４９１２３１００２Ｘ"
PHONE_FULL = "１３８００１３８０００"


def test_visitor_id_number_typed_full_width_is_registered(client: TestClient, site: Site) -> None:
    """The guard's Android pinyin keyboard is in 全角 (full-width) mode, as for the plate, which the
    gateway takes (docs/plates.md, grammar.normalize: "Ａ１２ count as their ASCII selves"). He types
    the visitor's ID number 11010519491231002X into 身份证号 and gets 以下项目填写有误：身份证号 (the API
    says "an ID card number has 18 characters", though he typed 18); the same number typed half-width
    is registered. Full-width digits are the same digits: the pass should be registered with the
    ID masked ****002X as for the half-width number."""
    guard = bearer(site.guard_token)
    body = {"name": "李四", "id_number": ID_FULL, "host_building": "3栋", "host_unit": "2单元"}
    r = client.post("/api/visitors", json=body, headers=guard)
    assert r.status_code == 201, r.text
    assert r.json()["id_number"].endswith("002X")


def test_visitor_phone_typed_full_width_is_registered(client: TestClient, site: Site) -> None:
    """A phone number pasted from the host's WeChat message or typed on a keyboard left in 全角
    mode reads １３８００１３８０００. The visitor form refuses it (phone: is not a phone number) while
    13800138000 is taken; the guard sees the field named and the number looking right. It should
    be registered as 138****8000."""
    guard = bearer(site.guard_token)
    body = {"name": "李四", "phone": PHONE_FULL, "host_building": "3栋", "host_unit": "2单元"}
    r = client.post("/api/visitors", json=body, headers=guard)
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "138****8000"


def test_returning_visitor_found_by_id_number_typed_full_width(client: TestClient, site: Site) -> None:
    """A visitor registered last week (ID typed half-width) comes back; the guard's keyboard is in
    全角 mode and he taps 查找 after typing the same ID number. The page says 未找到 (not found),
    and he types host, destination and plate all over again. The same number must find the visit."""
    guard = bearer(site.guard_token)
    body = {
        "name": "李四",
        "id_number": ID_HALF,
        "host_building": "3栋",
        "host_unit": "2单元",
        "plate": "苏E88888",
    }
    assert client.post("/api/visitors", json=body, headers=guard).status_code == 201
    found = client.post("/api/visitors/find", json={"id_number": ID_FULL}, headers=guard)
    assert found.status_code == 200, found.text
    assert found.json()["found"] is True and found.json()["plate"] == "苏E88888", found.json()


def test_lost_card_number_typed_full_width_is_blocked(client: TestClient, site: Site) -> None:
    """A resident reports card 0A1B2C3D4E lost at night; the guard types its number into 禁用卡或车牌
    on 查询 with his keyboard in 全角 mode: ０Ａ１Ｂ２Ｃ３Ｄ４Ｅ. The gateway answers 422
    号码格式不对，请重新输入, he types it again the same way, and the lost card keeps opening the
    door. A plate typed so is taken; the card number must be too, and the card blocked."""
    guard = bearer(site.guard_token)
    typed = CARD.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
    assert typed == "０Ａ１Ｂ２Ｃ３Ｄ４Ｅ"
    r = client.post(
        "/api/credentials/block", json={"kind": "card", "value": typed, "reason": "业主报失"}, headers=guard
    )
    assert r.status_code == 200, r.text
    assert stored(site, "SELECT blocked FROM credentials WHERE kind = 'card' AND value = ?", CARD) == [(1,)]


def test_lookup_by_phone_typed_full_width_finds_the_resident(client: TestClient, site: Site) -> None:
    """查询 Lookup by phone (docs/guard-app.md: residents by plate, card number, phone...). The guard
    types the caller's number with the keyboard in 全角 mode (１３９１２３４５６７８): nobody is
    found, though 13912345678 finds 张三丰. Full-width digits must find the resident too."""
    guard = bearer(site.guard_token)
    assert [x["ref"] for x in client.get("/api/lookup", params={"q": PHONE}, headers=guard).json()] == ["R1"]
    typed = PHONE.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    found = client.get("/api/lookup", params={"q": typed}, headers=guard).json()
    assert [x["ref"] for x in found] == ["R1"], found


def test_plate_typed_with_a_chinese_full_stop_is_the_plate(client: TestClient, site: Site) -> None:
    """Plates are printed 京A·12345 and guards type the dot. On a Chinese keyboard in Chinese
    punctuation mode the '.' key gives 。 (the ideographic full stop): 苏E。88888. The gateway takes
    the dot as ·, ・, . and ．, but refuses 。 (车牌格式不对), so the car typed at 输入车牌 is not
    decided. It should be read as 苏E88888, as every other dot is."""
    guard = bearer(site.guard_token)
    r = client.post("/api/lanes/car-in/plate", json={"plate": "苏E。88888"}, headers=guard)
    assert r.status_code == 200, r.text
    assert (r.json().get("plate") or r.json().get("value")) == "苏E88888", r.json()


def test_visitor_name_pasted_with_zero_width_space_keeps_its_surname_masked(
    client: TestClient, site: Site
) -> None:
    """The host forwards his visitor's name in a WeChat message; the guard pastes it into 姓名 and it
    carries the invisible U+200B WeChat/QQ text carries (the gateway drops it from a pasted plate,
    tests/ui/test_plate_pasted.py). The pass then reads ** for the name: the mask kept the invisible
    character as the 'surname' and hid 王, so the guard cannot tell whose pass it is at the lane,
    on the visitor list or the printout. It should read 王* as for the name typed."""
    guard = bearer(site.guard_token)
    body = {"name": "\u200b王五", "host_building": "3栋", "host_unit": "2单元"}
    r = client.post("/api/visitors", json=body, headers=guard)
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "王*", repr(r.json()["name"])
    stored_name = stored(site, "SELECT name FROM passes WHERE id = ?", r.json()["id"])[0][0]
    assert stored_name == "王五", repr(stored_name)


def test_contractor_hours_typed_with_chinese_colon_are_taken(client: TestClient, site: Site) -> None:
    """The admin issues a renovation crew's pass at the booth tablet, 每日时段 typed with the
    keyboard in Chinese punctuation mode, where ':' gives '：': 08：00-18：00. The form refuses it
    (以下项目填写有误：每日时段; hours '08：00-18：00' are not HH:MM-HH:MM) though it reads exactly
    08:00-18:00. The page already splits windows on the Chinese ；and ， (app.js LIST_SEPARATORS);
    the Chinese colon inside a window must count as ':' too, and the pass be issued for 08:00-18:00."""
    admin = bearer(site.admin_token)
    body = {
        "name": "赵六",
        "company": "好家装修",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_to": (site.gw.now() + timedelta(days=30)).date().isoformat(),
        "hours": ["08：00-18：00"],
    }
    r = client.post("/api/contractors", json=body, headers=admin)
    assert r.status_code == 201, r.text
    assert r.json()["hours"] == ["08:00-18:00"], r.json()["hours"]
