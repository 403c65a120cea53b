"""Review 63e: a guard registers a visitor from Hong Kong, Macau or Taiwan (the visitor form takes
their permits) and writes the contact's phone in the reason, as guards do (送货，联系电话 +852 9123
4567). The reason goes upstream with the pass: REQUIREMENTS *Privacy* says never in clear. A
mainland mobile there is masked to 138****5678; a Taiwan mobile in its usual groups (0912-345-678,
+886 912 345 678) went up whole, and a Hong Kong or Macau one with its country code kept 7 of its 8
digits (+****123 4567): privacy._NUMBER_IN_TEXT knew only mainland groupings. Now any number dialled
with its country code, and a Taiwan mobile in its groups, keeps at most its last four digits."""

# ruff: noqa: F811  (pytest fixtures imported, then named as arguments)
from __future__ import annotations

import json
import re
import sqlite3

import pytest
from fastapi.testclient import TestClient

from gateway.privacy import mask_numbers_in
from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401

VISITOR = {"name": "陈大文", "host_building": "3栋", "host_unit": "2单元"}


@pytest.mark.parametrize(
    ("reason", "local_digits"),
    [
        ("送货，联系电话 +852 9123 4567", "91234567"),  # Hong Kong mobile
        ("探亲，电话 +853 6612 3456", "66123456"),  # Macau mobile
        ("台湾客户，电话 0912-345-678", "912345678"),  # Taiwan mobile, as Taiwan writes it
        ("台湾客户，电话 +886 912 345 678", "912345678"),
    ],
)
def test_a_phone_in_the_reason_goes_upstream_masked(
    client: TestClient, site: Site, reason: str, local_digits: str
) -> None:
    r = client.post("/api/visitors", json={**VISITOR, "reason": reason}, headers=bearer(site.guard_token))
    assert r.status_code == 201, r.text
    with sqlite3.connect(f"file:{site.gw.db_path}?mode=ro", uri=True) as conn:
        (payload,) = conn.execute("SELECT payload FROM outbox WHERE topic = 'pass'").fetchone()
    sent = json.loads(payload)["pass"]["reason"]
    digits = re.sub(r"\D", "", sent)
    # At most the last four of the person's own number may go up (as 138****5678 keeps).
    assert local_digits[-5:] not in digits, (
        f"the reason sent upstream should hide the visitor's phone but its last four digits, "
        f"it was sent as {sent!r}"
    )


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("联系电话 +852 9123 4567", "联系电话 +852 ****4567"),
        ("电话 +853 6612 3456", "电话 +853 ****3456"),
        ("电话 0912-345-678", "电话 ******5678"),
        ("电话 0912 345678", "电话 ******5678"),
        ("电话 +886 912 345 678", "电话 +886 *****5678"),
        ("电话 +886-912-345-678", "电话 +886-*****5678"),
        ("司机 (+852) 9123-4567 送货", "司机 (+852) ****4567 送货"),
        ("司机 ＋８５２　９１２３　４５６７", "司机 ＋８５２　****4567"),  # 全角, as a tablet types it
        ("司机 00852 9123 4567", "司机 00852 ****4567"),  # dialled with 00
        ("外籍访客 +44 20 7946 0958", "外籍访客 +44 ******0958"),
        ("外籍访客 +1 415-555-2671", "外籍访客 +1 ******2671"),
        ("+8529123 4567", "+*******4567"),  # the code glued to the number's first group
        # As before: a mainland mobile keeps its first three, with the country code or without.
        ("(+86)139 1234 5678", "(+86)139****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("0086 138 1234 5678", "0086 138****5678"),
        ("+8613812345678", "+138****5678"),
    ],
)
def test_a_phone_with_its_country_code_or_in_taiwan_s_groups_keeps_its_last_four(
    typed: str, sent: str
) -> None:
    assert mask_numbers_in(typed) == sent


def test_a_time_after_a_number_dialled_from_abroad_hides_none_of_the_number() -> None:
    masked = mask_numbers_in("王先生 +852 9123 4567 2030-2200 到访")
    assert "9123" not in masked and "912" not in re.sub(r"\D", "", masked)[:6], masked


@pytest.mark.parametrize(
    "typed",
    [
        "温度 +12.5 度",
        "停车费+2400-3600元",  # a + before an amount: no code and 7 digits after it
        "人数3+2 2030-2200 到访",
        "加时 +2 2030-2200",
        "+86 2030",  # too few digits for a phone
        "搬运时间 0830-1130",
        "车位 0912-345",  # no Taiwan mobile's 9 digits after 09
    ],
)
def test_pluses_times_and_amounts_are_kept(typed: str) -> None:
    assert mask_numbers_in(typed) == typed
