"""Review 58c: every other text a guard types (a hand opening's reason, a pass's destination and
reason, a 交班 note, an alarm's note) had phone and ID numbers masked before it was stored or sent
(gateway/privacy.py mask_numbers_in, REQUIREMENTS *Privacy*). A materials record's `items` (搬家公司
王师傅 138…) was not: the clear number stayed in materials_out (180 days), in the audit trail's
materials.out row (365 days) and went to the centre (events/materials). Nor was a contractor pass's
`company` (好家装饰 电话…), typed at the booth or sent by the centre. Found by reviewer c."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient

from gateway.privacy import Secrets
from gateway.sync.entries import parse_entry
from tests.ui.conftest import Site, bearer
from tests.ui.test_guard_materials import CONTRACTOR

PHONE = "13812345678"
MASKED = "138****5678"


def _in_clear(site: Site, *queries: str) -> dict[str, list[str]]:
    def rows(sql: str) -> list[str]:
        found = site.gw.on_worker(lambda c: c.execute(sql).fetchall()).result(10)
        return [text for r in found if PHONE in (text := json.dumps(list(r), ensure_ascii=False))]

    return {sql.split(" FROM ")[1].split()[0]: rows(sql) for sql in queries}


def test_a_phone_typed_in_what_leaves_is_kept_and_sent_masked(client: TestClient, site: Site) -> None:
    r = client.post(
        "/api/residents",
        json={"ref": "R9", "building": "3栋", "unit": "2单元", "room": "302", "name": "李四"},
        headers=bearer(site.admin_token),
    )
    assert r.status_code == 200, r.text
    r = client.post(
        "/api/materials",
        json={
            "items": f"旧沙发 1 张（搬家公司 王师傅 {PHONE}）",
            "host_building": "3栋",
            "host_unit": "2单元",
        },
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 201, r.text
    assert r.json()["items"] == f"旧沙发 1 张（搬家公司 王师傅 {MASKED}）"  # the rest as typed
    kept = _in_clear(
        site, "SELECT items FROM materials_out", "SELECT detail FROM audit", "SELECT payload FROM outbox"
    )
    assert kept == {"materials_out": [], "audit": [], "outbox": []}


def test_a_phone_typed_in_a_contractors_company_is_kept_and_sent_masked(
    client: TestClient, site: Site
) -> None:
    valid_to = (site.gw.now() + timedelta(days=30)).date().isoformat()
    body = {**CONTRACTOR, "company": f"好家装饰 电话{PHONE}", "valid_to": valid_to}
    r = client.post("/api/contractors", json=body, headers=bearer(site.admin_token))
    assert r.status_code == 201, r.text
    assert r.json()["company"] == f"好家装饰 电话{MASKED}"
    kept = _in_clear(site, "SELECT company FROM passes", "SELECT payload FROM outbox")
    assert kept == {"passes": [], "outbox": []}


def test_a_phone_in_a_central_passes_company_is_kept_masked() -> None:
    entry = {
        "kind": "pass",
        "ref": "P9",
        "pass_kind": "contractor",
        "name": "赵装修",
        "company": f"好家装饰 {PHONE}",
        "valid_from": "2020-01-01",
        "valid_to": "2099-01-01",
    }
    _, row = parse_entry(entry, ZoneInfo("Asia/Shanghai"), Secrets(b"k" * 32))
    assert row.company == f"好家装饰 {MASKED}"  # type: ignore[union-attr]
