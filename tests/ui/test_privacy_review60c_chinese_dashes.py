"""Review 60c: a phone or ID number typed with the dash a Chinese keyboard gives for the hyphen (— or
—— in Chinese punctuation mode, – from a phone's keyboard or a paste from WeChat) into free text a
guard types (a materials record's items, a reason, a note) was stored, shown, audited and sent
upstream in clear: privacy._NUMBER_IN_TEXT took only a space, a dot, '·' or '-' between the groups,
though the gateway reads these dashes as '-' in hours and tickets (typed.DASHES). Found by reviewer c."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.privacy import mask_numbers_in
from gateway.runtime.gateway import Gateway
from gateway.store.materials import record_materials_out
from gateway.store.registry import upsert_resident


@pytest.mark.parametrize(
    "typed, sent",
    [
        ("搬家公司王师傅 138—1234—5678", "搬家公司王师傅 138****5678"),  # the '-' key in Chinese mode
        ("搬家公司王师傅 138——1234——5678", "搬家公司王师傅 138****5678"),  # an input method's ——
        ("搬家公司王师傅 138–1234–5678，明早到", "搬家公司王师傅 138****5678，明早到"),  # en dash
        ("车主身份证 110101—19900307—123X", "车主身份证 **************123X"),
        ("车主身份证 110101——1990——0307——1233", "车主身份证 **************1233"),  # other groups
        ("车主电话 0571—8765 4321", "车主电话 057****4321"),
        ("物业座机 8765—4321", "物业座机 ****4321"),
    ],
)
def test_a_number_in_groups_with_chinese_dashes_is_masked(typed: str, sent: str) -> None:
    assert mask_numbers_in(typed) == sent


@pytest.mark.parametrize(
    "typed",
    [
        "2026—2027年度 物业费",  # a year's range
        "开放时间 07:00—21:00",
        "开放时间 07:00——21:00",
        "搬运时间 0830—1130",
        "2030—2200 封闭",
        "3栋2201——2204室",
        "交班 2026—11—25",
        "收据 20261125—0001",
        "冰箱 BCD—2160000",  # a model: its dash as a Chinese keyboard types it
        "冰箱 型号BCD——2160000",  # and as an input method types it, two (review 60l)
        "空调 SN——12345678",
        "快递单号 SF——1234567890123",
    ],
)
def test_what_is_no_ones_number_is_kept_with_chinese_dashes(typed: str) -> None:
    assert mask_numbers_in(typed) == typed


def test_a_materials_record_sends_the_movers_phone_masked(gateway: Gateway) -> None:
    """The guard records a sofa carried out by 王师傅, typing his mobile as 138—1234—5678: the
    centre's `materials` message and the audit trail keep it masked, the rest as typed."""
    at = datetime.now(UTC) - timedelta(minutes=5)
    upsert_resident(
        gateway.conn,
        gateway.secrets,
        at,
        "admin",
        {"ref": "R1", "name": "张三", "building": "3栋", "unit": "2单元", "room": "301"},
    )
    record_materials_out(
        gateway.conn,
        at,
        "guard1",
        items="旧沙发 1 套，搬家公司王师傅 138—1234—5678",
        host_building="3栋",
        host_unit="2单元",
    )
    (payload,) = gateway.conn.execute("SELECT payload FROM outbox WHERE topic = 'materials'").fetchone()
    (detail,) = gateway.conn.execute("SELECT detail FROM audit WHERE action = 'materials.out'").fetchone()
    assert json.loads(payload)["record"]["items"] == "旧沙发 1 套，搬家公司王师傅 138****5678"
    assert "1234" not in detail and "138****5678" in detail
