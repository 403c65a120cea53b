"""The centre's register (docs/mqtt.md, Snapshot): its dates and card numbers, checked "with the same
rules as a CSV import", since 9c4e34a's strict date forms and EM4100 decimal card check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.config import parse_config
from gateway.runtime.gateway import Gateway
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, open_staging, save_part, site_job, stage
from gateway.timefmt import parse_local
from tests.conftest import site_toml
from tests.parking.conftest import TZ, parking_config

DECIMAL_READER = """
[[devices]]
id = "door-reader"
lane = "door"
kind = "reader"
driver = "serial-reader"
port = "/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0"
format = "em4100"
em4100_number = "decimal"
"""


def _staged(gw: Gateway, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """Snapshot 1 of `entries` staged as the directory sync stages it (its job from the site's
    config, its checks, its verdict)."""
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    (body,) = encode_snapshot(1, entries, per_part=len(entries))
    save_part(conn, 1, 1, 1, len(entries), body)
    conn.close()
    return stage(site_job(gw.site.config, gw.data_dir, gw.db_path, "snapshot", 1))


@pytest.mark.parametrize(
    "valid_to",
    [
        "2027-06-30T23:59:59.0000000+08:00",  # .NET DateTime.ToString("o"): 7 fraction digits
        "2027-06-30T15:59:59.123456789Z",  # Java Instant.toString(): nanoseconds
        "2027-06-30 23:59:59+08",  # PostgreSQL's timestamptz as text
    ],
)
def test_an_iso_8601_date_time_from_the_centre_is_taken(tmp_path: Path, valid_to: str) -> None:
    """docs/mqtt.md: the centre's dates are YYYY-MM-DD "or ISO 8601 date-times". A centre written
    in .NET (7 fraction digits), Java (nanoseconds) or reading PostgreSQL (+08) sends valid_to in
    one of these ISO 8601 forms; the gateway took them (datetime.fromisoformat) before 9c4e34a.
    Now the one entry is "not a date", and by all-or-nothing the whole snapshot of thousands of
    residents is refused: after the upgrade no change from the centre is applied any more (a card
    struck off keeps opening). Expected: the date-time is taken, as before."""
    gw = Gateway(parking_config(tmp_path / "data"))
    try:
        meta = _staged(
            gw,
            [
                {
                    "kind": "resident",
                    "ref": "R1",
                    "building": "3栋",
                    "unit": "2单元",
                    "name": "张三",
                    "valid_to": valid_to,
                },
            ],
        )
    finally:
        gw.conn.close()
    assert meta["status"] == "staged", meta.get("problems")


def test_a_card_from_the_centre_without_its_leading_zero_is_refused_as_in_an_import(tmp_path: Path) -> None:
    """Where every card reader gives EM4100 decimal numbers (10 digits, zeros kept), `gateway
    import` and the admin page refuse a card 372653390 (Excel dropped its 0): the reader gives
    0372653390 and the card would be refused `unknown` at the door. The centre, fed the same Excel
    list, sends card 372653390 in its snapshot, and the gateway takes it without a word: on day one
    the resident's card is refused at the door, and nobody is told which card or why. docs/mqtt.md:
    entries are checked "with the same rules as a CSV import (`gateway import`): ... card numbers".
    Expected: the entry is named in a sync_error, as the import names the row."""
    cfg = parse_config(site_toml(tmp_path / "data") + DECIMAL_READER, "site.toml")
    gw = Gateway(cfg)
    try:
        meta = _staged(
            gw,
            [
                {"kind": "resident", "ref": "R1", "building": "3栋", "unit": "2单元", "name": "张三"},
                {"kind": "card", "card": "372653390", "resident": "R1"},
            ],
        )
    finally:
        gw.conn.close()
    assert meta["status"] == "rejected", "a 9-digit card at a site whose readers give 10 digits was taken"
    assert any("372653390" in p and "digits" in p for p in meta["problems"]), meta["problems"]


def test_a_pass_card_from_the_centre_without_its_leading_zero_is_refused(tmp_path: Path) -> None:
    """A contractor's pass from the centre carrying the same short card as its credential: the
    door's reader gives 0372653390 and the contractor is refused `unknown`. Expected: the pass is
    named in the sync_error, as a card entry is."""
    cfg = parse_config(site_toml(tmp_path / "data") + DECIMAL_READER, "site.toml")
    gw = Gateway(cfg)
    try:
        meta = _staged(
            gw,
            [
                {
                    "kind": "pass",
                    "ref": "P1",
                    "pass_kind": "contractor",
                    "name": "李工",
                    "valid_from": "2027-06-01",
                    "valid_to": "2027-06-30",
                    "credentials": [{"kind": "card", "value": "372653390"}],
                },
            ],
        )
    finally:
        gw.conn.close()
    assert meta["status"] == "rejected", (
        "a 9-digit pass card at a site whose readers give 10 digits was taken"
    )
    assert any("P1" in p and "372653390" in p and "digits" in p for p in meta["problems"]), meta["problems"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-06-30T23:59:59.0000000+08:00", datetime(2027, 6, 30, 23, 59, 59, tzinfo=TZ)),
        ("2027-06-30T15:59:59.123456789Z", datetime(2027, 6, 30, 15, 59, 59, 123456, tzinfo=UTC)),
        ("2027-06-30 23:59:59+08", datetime(2027, 6, 30, 23, 59, 59, tzinfo=TZ)),
        ("2027-06-30T23:59:59,5+0800", datetime(2027, 6, 30, 23, 59, 59, 500000, tzinfo=TZ)),
        ("2027-06-30T10:59:59-05", datetime(2027, 6, 30, 10, 59, 59, tzinfo=timezone(timedelta(hours=-5)))),
    ],
)
def test_the_iso_8601_date_times_taken(text: str, expected: datetime) -> None:
    """The fraction cut to the microsecond Python keeps; +08 is eight hours, not eight minutes."""
    at = parse_local(text, TZ)
    assert at == expected and at.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    "text", ["2027-06-30T23:59:59.+08", "2027-06-30T23:59:59+8", "2027-06-30T23", "20270630T235959Z"]
)
def test_other_date_times_are_still_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_local(text, TZ)
