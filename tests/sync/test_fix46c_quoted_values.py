"""Values quoted in a sync_error's problems: docs/mqtt.md says each is cut short past 80 characters."""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sync_helpers import wait_for
from test_sync_downlink import Site, site  # noqa: F401

from gateway.privacy import Secrets
from gateway.quoting import QUOTED_CHARS
from gateway.store.csv_rows import RowError, parse_resident
from gateway.sync.entries import EntryError, parse_entry, parse_key

TZ = ZoneInfo("Asia/Shanghai")
LONG = "Z" * 10_000
PASS = {
    "kind": "pass",
    "ref": "P1",
    "pass_kind": "visitor",
    "name": "李四",
    "valid_from": "2025-01-01",
    "valid_to": "2025-01-02",
}


def _invalid(at: Site) -> dict:
    return wait_for(
        "an invalid sync_error",
        lambda: next((e for e in at.upstream("/sync/error") if e.get("code") == "invalid"), None),
    )


def _quotes(problem: str) -> list[str]:
    return re.findall(r"'([^']*)'", problem)


def test_a_problem_quotes_a_100_character_plate_whole(site: Site) -> None:  # noqa: F811
    """A delta whose vehicle plate is 100 characters (the longest the field takes) is refused
    `invalid`; the centre got a problem quoting the whole 100-character value, where docs/mqtt.md
    promises any value a problem quotes is cut past 80 characters, ending in `…`."""
    plate = "粤B" + "Z" * 98  # 100 characters: the longest a plate field is read at
    site.delta(1, 0, upsert=[{"kind": "vehicle", "plate": plate, "resident": "R1"}])
    error = _invalid(site)
    problem = error["problems"][0]
    quoted = _quotes(problem)
    assert all(len(q) <= 80 for q in quoted), (
        f"problem quotes a value of {max(len(q) for q in quoted)} characters: {problem[:160]}…"
    )
    assert "…" in problem


@pytest.mark.parametrize(
    "entry",
    [
        {"kind": "vehicle", "plate": "粤B12345", "resident": "R1", "class": LONG[:100]},
        {"kind": "vehicle", "plate": "粤B12345", "resident": "R1", "blocked": LONG[:100]},
        {"kind": "vehicle", "plate": "粤B12345", "resident": "R1", "valid_to": LONG},
        {"kind": "vehicle", "plate": "粤B12345", "resident": "R1", "valid_to": "2025-01-01" + LONG},
        {"kind": "card", "card": "12345678", "resident": "R1", "hours": "07:00-21:00" + LONG[:80]},
        PASS | {"pass_kind": LONG[:100]},
        PASS | {"vehicle_class": LONG[:100]},
        PASS | {"registered_fields": [LONG[:150]]},
        PASS | {"credentials": [{"kind": "card", "value": LONG}]},
        PASS | {"credentials": [{"kind": "plate", "value": LONG}]},
    ],
    ids=lambda e: next(k for k in reversed(e)),
)
def test_every_pushed_value_an_entry_problem_quotes_is_cut(entry: dict[str, Any]) -> None:
    with pytest.raises(EntryError) as caught:
        parse_entry(entry, TZ, Secrets(b"k" * 32))
    problem = str(caught.value)
    assert len(problem) < 300, problem[:200]
    assert "…" in problem and "z" * (QUOTED_CHARS - 1) not in problem.lower(), problem


@pytest.mark.parametrize("key", [{"kind": "vehicle", "plate": LONG}, {"kind": "card", "card": LONG}])
def test_a_delete_quotes_its_key_cut(key: dict[str, str]) -> None:
    with pytest.raises(EntryError) as caught:
        parse_key(key)
    assert len(str(caught.value)) < 200 and "…" in str(caught.value)


def test_a_phone_is_never_quoted() -> None:
    """Privacy: a phone or ID number is named by its field alone, in a push as in a CSV import."""
    phone, masked = "12-34-5x", "13812345678"
    for entry in (
        {"kind": "resident", "ref": "R1", "building": "3", "unit": "2", "name": "张三", "phone": phone},
        PASS | {"phone": phone},
        PASS | {"id_number": "1234x"},
    ):
        with pytest.raises(EntryError) as caught:
            parse_entry(entry, TZ, Secrets(b"k" * 32))
        assert "not repeated" in str(caught.value) and "12" not in str(caught.value)
    row = {"ref": "R1", "building": "3", "unit": "2", "name": "张三"}
    for column, value in (("phone", phone), ("phone_masked", masked)):
        with pytest.raises(RowError) as raised:
            parse_resident(row | {column: value}, TZ)
        assert raised.value.column == column
        assert "not repeated" in str(raised.value) and value not in str(raised.value)
