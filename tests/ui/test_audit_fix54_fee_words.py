"""A fee on the audit page reads in the guard's words, in yuan, while the row stays as stored."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.api.app import create_app
from gateway.core import Presented
from gateway.web.audit_words import payment_detail
from gateway.web.i18n import translator
from tests.conftest import TARIFF_TOML
from tests.ui.conftest import GUARD, Site, bearer, log_in, make_config, start_site, stored


@pytest.fixture
def paying(tmp_path: Path) -> Iterator[Site]:
    s = start_site(make_config(tmp_path / "data", TARIFF_TOML))
    yield s
    s.gw.stop()


def _fee_row(client: TestClient) -> str:
    page = client.get("/audit?action=payment").text
    row = re.search(r"<tr><td>(?:(?!</tr>).)*payment\.take.*?</tr>", page)
    assert row is not None, page
    return re.sub(r"\s*<[^>]+>\s*", "|", row.group(0))


def test_a_fee_on_the_audit_page_is_in_yuan_and_the_guards_words(paying: Site) -> None:
    """A 2-hour stay's fee taken in cash at the booth read "900 fen cash B-1 at booth" on the
    Chinese audit page (and in fen on the English one): the guard checking a driver's dispute must
    read the amount as the driver paid it, in yuan."""
    site = paying
    p = Presented("car-in", "plate", "鲁B12345", 1.0, site.gw.now() - timedelta(hours=2), "car-in-camera")
    assert site.gw.on_worker(lambda _: site.gw.handle(p)).result(timeout=10).admitted
    with TestClient(create_app(site.gw)) as client:
        guard = bearer(site.guard_token)
        due = client.get("/api/parking/quote", params={"plate": "鲁B12345"}, headers=guard).json()["due_fen"]
        paid = {"plate": "鲁B12345", "amount_fen": due, "method": "cash", "receipt": "B-1"}
        assert client.post("/api/parking/prepay", json=paid, headers=guard).status_code == 200
        h = log_in(client, GUARD)  # Chinese by default
        yuan = f"{due / 100:g}"
        row = _fee_row(client)
        assert f"{yuan}元 · 现金 · 收据号 B-1 · 岗亭" in row, row
        assert "fen" not in row, row
        assert client.post("/api/me/language", json={"language": "en"}, headers=h).status_code == 204
        row = _fee_row(client)
        assert f"{yuan} yuan · cash · Receipt no. B-1 · booth" in row, row
    # As stored, and as the centre reads it: unchanged.
    details = stored(site, "SELECT detail FROM audit WHERE action = 'payment.take'")
    assert details == [(f"{due} fen cash B-1 at booth",)], details


@pytest.mark.parametrize(
    ("detail", "zh", "en"),
    [
        (
            "1050 fen qr 20250303-0001 at car-out",
            "10.5元 · 扫码支付 · 收据号 20250303-0001 · 北门出口",
            "10.5 yuan · QR payment · Receipt no. 20250303-0001 · 北门出口",
        ),
        ("0 fen monthly  at booth", "0元 · 月租 · 岗亭", "0 yuan · monthly · booth"),
        (
            "500 fen voucher V1 at gone",
            "5元 · voucher · 收据号 V1 · gone",
            "5 yuan · voucher · Receipt no. V1 · gone",
        ),
        ("a detail of another shape", "a detail of another shape", "a detail of another shape"),
    ],
)
def test_a_fees_detail_is_worded_or_left_as_stored(detail: str, zh: str, en: str) -> None:
    """A lane by its name, a method with no words by its code, a detail that is no fee's as stored."""
    names = {"car-out": "北门出口"}
    assert payment_detail(detail, translator("zh"), names) == zh
    assert payment_detail(detail, translator("en"), names) == en
