"""Review 58j: a passport or Hong Kong/Macau permit number typed into free text (a 开闸 reason, a
materials record, an alarm note) was kept in clear in the audit trail and sent upstream in clear. The
gateway takes these documents as ID numbers (a pass's id_kind passport or hk_macau_permit is masked
to its last four), and docs/mqtt.md says free text has any phone- or ID-like number in it masked;
but privacy.mask_numbers_in took the letter glued to the digits for a thing's code (_a_code, Review
58f2) and kept them, even after "ID:". Found by reviewer j."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from gateway.privacy import mask_numbers_in
from tests.ui.conftest import Site, bearer

# A passport, a 回乡证 (Hong Kong), an older 回乡证 (Macau, 10 digits).
DOCUMENTS = {"E12345678": "E****5678", "H12345678": "H****5678", "M1234567890": "M******7890"}


@pytest.mark.parametrize("number", DOCUMENTS)
@pytest.mark.parametrize("typed", ["外籍访客护照{}忘带二维码", "ID:{}", "证件号 {}", "Passport No. {}"])
def test_a_document_number_keeps_only_its_last_four(number: str, typed: str) -> None:
    assert mask_numbers_in(typed.format(number)) == typed.format(DOCUMENTS[number])


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("护照EA1234567", "护照EA***4567"),  # an E passport once E's 8 digits ran out
        ("护照E19900307", "护照E****0307"),  # its digits a date: still a passport
        ("永久居留证 USA123456789012", "永久居留证 USA********9012"),  # 2017 card: only the last four
        ("回乡证 H-1234567", "回乡证 H-****567"),  # any code after a document word
        ("ID: AB-1234567", "ID: AB-****567"),
    ],
)
def test_a_document_written_otherwise_is_masked(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent


@pytest.mark.parametrize("code", ["Android SN:12345678", "E12345678W", "型号 H1234567", "证 SF1234560123"])
def test_a_things_code_near_such_letters_is_kept(code: str) -> None:
    assert mask_numbers_in(code) == code


def test_open_by_hand_reason_with_passport_is_masked_in_the_audit_trail(
    client: TestClient, site: Site
) -> None:
    r = client.post(
        "/api/lanes/door/open",
        json={"reason": "外籍访客护照E12345678忘带二维码"},
        headers=bearer(site.guard_token),
    )
    assert r.status_code == 200, r.text
    rows = client.get("/api/audit", params={"action": "lane.open"}, headers=bearer(site.admin_token)).json()
    details = [row["detail"] for row in (rows["rows"] if isinstance(rows, dict) and "rows" in rows else rows)]
    assert details == ["外籍访客护照E****5678忘带二维码"], details

    def upstream(c):  # type: ignore[no-untyped-def]
        return [p for (p,) in c.execute("SELECT payload FROM outbox WHERE topic = 'lane_action'")]

    sent = site.gw.on_worker(upstream).result(10)
    assert sent and not any("E12345678" in p for p in sent), f"sent upstream in clear: {sent}"
    assert any("E****5678" in p for p in sent), sent
