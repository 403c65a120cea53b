"""Review 63s of 0c68689 (phones in free text and on the visitor form).

A guard's note goes upstream masked (REQUIREMENTS *Privacy*). Still sent whole or nearly: a North
American or UK number with brackets round its area code or its (0) (+1 (415) 555-2671, +44 (0)20
7946 0958), a Hong Kong number with its country code written without + as HK cards print it (852
9123 4567, （852）9123 4567), a mobile broken over two lines. Mangled since 0c68689: a count before a
time or a date (加时 +1 2030-2200, 月卡续费 +12 2026-11-25 到期) read as a number dialled with +1 or
+12. A visitor registered with 00852 was not found again by +852 (two people). A refused phone's
page words said 手机号格式不对 (a landline is no mobile; nothing said what to type), and one over 20
characters was refused with a generic invalid_request naming no field."""

# ruff: noqa: F811  (pytest fixtures imported, then named as arguments)
from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.privacy import Secrets, mask_numbers_in
from gateway.store.database import open_database
from gateway.store.passes import find_returning
from gateway.web.i18n import TEXTS
from tests.ui.conftest import Site, app, bearer, client, site  # noqa: F401

VISITOR = {"name": "陈小姐", "host_building": "3栋", "host_unit": "2单元"}


@pytest.mark.parametrize(
    ("typed", "hidden"),
    [
        # A Hong Kong mobile with its country code written without + (as HK business cards print it)
        ("港车司机 852 9123 4567", "9123"),
        ("王生（852）9123 4567", "9123"),
        ("电话 852-9123-4567", "123"),  # was 电话 ****123-4567: 7 of 11 digits shown
        # North America's and the UK's usual international forms, brackets round the area code or (0)
        ("外籍访客 +1 (415) 555-2671", "555"),
        ("Tel: +1 (212) 555-0147", "212"),
        ("外籍访客 +44 (0)20 7946 0958", "7946"),
    ],
)
def test_a_phone_dialled_from_abroad_is_masked_to_its_last_four(typed: str, hidden: str) -> None:
    sent = mask_numbers_in(typed)
    assert hidden not in sent, (
        f"{typed!r} went upstream as {sent!r}: the phone should keep only its last four"
    )


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("港车司机 852 9123 4567", "港车司机 852 ****4567"),
        ("王生（852）9123 4567", "王生（852）****4567"),
        ("电话 852-9123-4567", "电话 852-****4567"),
        ("澳门 853 6612 3456 送货", "澳门 853 ****3456 送货"),
        ("台湾客户 886 912 345 678", "台湾客户 886 *****5678"),
        ("外籍访客 +1 (415) 555-2671", "外籍访客 +1 ******2671"),
        ("Tel: +1 (212) 555-0147", "Tel: +1 ******0147"),
        ("外籍访客 +44 (0)20 7946 0958", "外籍访客 +44 *******0958"),
        ("司机 +852 2030-2200", "司机 +852 ****2200"),  # Hong Kong's 8 digits, 4 and 4: no time
        # A mobile typed over two lines is one number; the line break is kept after it.
        ("电话 +86 138 1234\n5678 王师傅", "电话 +86 138****5678\n 王师傅"),
        ("司机 +852 9123\n4567", "司机 +852 ****4567\n"),
    ],
)
def test_what_is_sent_of_a_phone_dialled_from_abroad(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent


@pytest.mark.parametrize(
    "typed",
    [
        "加时 +1 2030-2200",  # tests/test_privacy_phones_abroad_fix63e.py keeps "+2 2030-2200"
        "访客 +1 1800-2200 到访",
        "今晚访客车辆 +12 1800-2200 入场",
        "月卡续费 +12 2026-11-25 到期",
        "车位费 +30 2026-11-25 起",
        "+1 2026.11.25 补登",
        "加班 +2 (1800-2400)",
        "车位 852 2030-2200 占用",  # 852 a place, then a time
        "3栋852室 1800-2200 装修",
        "收费 852 元",
        "电话 +852 9123 4567\n1800 到",  # a number on the next line is not the phone's
    ],
)
def test_a_count_before_a_time_or_date_is_kept(typed: str) -> None:
    kept = mask_numbers_in(typed)
    if "\n1800" in typed:  # the phone masked, the time on the next line kept
        assert kept == "电话 +852 ****4567\n1800 到"
    else:
        assert kept == typed, f"the note should read as typed, not {kept!r}"


@pytest.mark.parametrize(
    ("registered", "typed_later"),
    [
        ("138 1234 5678", "+86 138-1234-5678"),
        ("13812345678", "(+86)138.1234.5678"),
        # the same Hong Kong mobile dialled with + one day and 00 the next (the form takes both)
        ("+852 9123 4567", "00852 9123 4567"),
        ("00852-9123-4567", "+852 9123 4567"),
    ],
)
def test_a_returning_visitor_is_found_by_her_phone_however_typed(
    client: TestClient, site: Site, registered: str, typed_later: str
) -> None:
    guard = bearer(site.guard_token)
    r = client.post("/api/visitors", json={**VISITOR, "phone": registered}, headers=guard)
    assert r.status_code == 201, r.text
    assert "9123" not in r.json()["phone"] and "1234" not in r.json()["phone"], r.json()["phone"]
    found = client.post("/api/visitors/find", json={"phone": typed_later}, headers=guard).json()
    assert found["found"], f"registered with {registered!r}, she should be found again by {typed_later!r}"


KEY = bytes(range(32))
AT = "2026-10-03T01:00:00.000000+00:00"


def test_a_visitor_registered_with_00_before_the_upgrade_is_found_again(tmp_path: Path) -> None:
    """An older gateway hashed every digit typed, 00852 9123 4567 as 0085291234567: she is found by
    the number typed with + or 00 after the upgrade."""
    conn = open_database(tmp_path / "gateway.db").conn
    old = hmac.new(KEY, b"phone:0085291234567", hashlib.sha256).hexdigest()
    conn.execute(
        "INSERT INTO passes (id, kind, name, phone_masked, phone_hash, valid_from, valid_to, created_at) "
        "VALUES (1, 'visitor', '陈*', '008****4567', ?, ?, ?, ?)",
        (old, AT, AT, AT),
    )
    for typed in ("00852 9123 4567", "+852 9123 4567", "(+852) 9123-4567"):
        found = find_returning(conn, Secrets(KEY), typed, "")
        assert found is not None and found["id"] == 1, f"not recognised by {typed!r}"


def test_the_page_says_what_form_of_phone_to_type(client: TestClient, site: Site) -> None:
    body = {**VISITOR, "phone": "0571-8765 4321转8001"}
    r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_pass", r.text
    assert r.json()["error"]["fields"] == ["phone"]
    zh, en = TEXTS["err.invalid_phone"]  # what the page shows under 以下项目填写有误：电话
    assert "7" in zh and "20" in zh and "手机号" not in zh, zh
    assert "分机" in zh and "extension" in en, "a landline's extension goes elsewhere: the words say where"
    assert "7" in en and "20" in en and "mobile" not in en.lower(), en


@pytest.mark.parametrize(
    ("where", "body"),
    [
        ("phone", {**VISITOR, "phone": "0571-8765 4321 转 8001"}),
        (
            "occupants.0.phone",
            {
                **VISITOR,
                "plate": "皖A12345",
                "occupants": [{"name": "李四", "phone": "0571-8765 4321 转 8001"}],
            },
        ),
    ],
)
def test_a_long_phone_is_refused_naming_its_field(
    client: TestClient, site: Site, where: str, body: dict
) -> None:
    r = client.post("/api/visitors", json=body, headers=bearer(site.guard_token))
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] == "invalid_pass" and error["fields"] == [where], error
    assert "7 to 20 digits" in error["message"] and "8765" not in r.text, error
    assert re.search(r"\(\+86\)138 0013 8000", error["message"])
