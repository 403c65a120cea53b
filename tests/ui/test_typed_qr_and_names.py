"""What 32a00a8 (gateway/typed.py) left out or changed: a pass's QR content typed (or keyed in by
a scanner acting as a keyboard) with the tablet in 全角 mode; a resident's name typed with Chinese
brackets stored with ASCII ones."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.ui.conftest import Site, bearer, stored

FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


def test_pass_qr_typed_full_width_is_checked(client: TestClient, site: Site) -> None:
    """访客登记's 核验通行证 (docs/guard-app.md: "Check a pass by scanning or typing its QR content").
    The visitor's phone will not scan, so the guard types the code under the QR; his keyboard is in
    全角 mode (as for the phone and card numbers 32a00a8 now takes full-width). The gateway answers
    no pass has this QR code, and the visitor is turned away or let in unchecked. The same code
    typed full-width must find the pass, as a card number typed so finds the card."""
    guard = bearer(site.guard_token)
    made = client.post(
        "/api/visitors", json={"name": "李四", "host_building": "3栋", "host_unit": "2单元"}, headers=guard
    )
    assert made.status_code == 201, made.text
    token = made.json()["qr"]
    assert client.post("/api/passes/check", json={"token": token}, headers=guard).status_code == 200
    r = client.post("/api/passes/check", json={"token": token.translate(FULL_WIDTH)}, headers=guard)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == made.json()["id"]


def test_resident_name_keeps_its_chinese_brackets(client: TestClient, site: Site) -> None:
    """The admin adds a tenant on 管理 as the office writes her: 王芳（租户）. The register (and
    `gateway export`, and the admin's lookup) now holds 王芳(租户): NFKC rewrote the Chinese
    brackets into ASCII ones, so the same person is spelled one way when the admin typed her and
    another when the centre or an import sent her (and a lookup of the other spelling misses).
    docs/guard-app.md says only the invisible characters a paste carries are dropped from a name;
    the name must be stored as typed."""
    admin = bearer(site.admin_token)
    body = {"ref": "R7", "building": "3栋", "unit": "2单元", "name": "王芳（租户）"}
    r = client.post("/api/residents", json=body, headers=admin)
    assert r.status_code == 200, r.text
    assert stored(site, "SELECT name FROM residents WHERE ref = 'R7'") == [("王芳（租户）",)]


def test_pass_qr_typed_full_width_is_blocked(client: TestClient, site: Site) -> None:
    """A pass being misused is blocked by its QR content (挂失/拉黑): typed full-width, the guard was
    told no such QR is registered and the pass kept opening the gate. It must be blocked."""
    guard = bearer(site.guard_token)
    made = client.post(
        "/api/visitors", json={"name": "李四", "host_building": "3栋", "host_unit": "2单元"}, headers=guard
    ).json()
    block = {"kind": "qr", "value": made["qr"].translate(FULL_WIDTH), "reason": "冒用"}
    r = client.post("/api/credentials/block", json=block, headers=guard)
    assert r.status_code == 200, r.text
    assert client.get(f"/api/passes/{made['id']}", headers=guard).json()["state"] == "blocked"


def test_company_and_account_names_keep_their_chinese_punctuation(client: TestClient, site: Site) -> None:
    """A crew's company (好家装饰（二队）), a visitor's name and an account's display name are kept as
    typed, Chinese brackets and full-width letters too; only a pasted zero-width space goes."""
    admin = bearer(site.admin_token)
    crew = {
        "name": "\u200b赵装修（队长）",
        "company": "好家装饰（二队）",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_to": (site.gw.now() + timedelta(days=30)).date().isoformat(),
    }
    r = client.post("/api/contractors", json=crew, headers=admin)
    assert r.status_code == 201, r.text
    assert stored(site, "SELECT name, company FROM passes WHERE id = ?", r.json()["id"]) == [
        ("赵装修（队长）", "好家装饰（二队）")
    ]
    account = {"username": "night", "password": "night-shift-1", "display_name": "夜班（Ａ岗）"}
    r = client.post("/api/accounts", json=account, headers=admin)
    assert r.status_code in (200, 201), r.text
    assert stored(site, "SELECT display_name FROM accounts WHERE username = 'night'") == [("夜班（Ａ岗）",)]
