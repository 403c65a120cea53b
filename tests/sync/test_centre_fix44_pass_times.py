"""The `pass` record's times (docs/mqtt.md: "Outbox records ... `at` (ISO 8601 with the site's
offset)"; "Its times, as every record's, carry the site's offset"; a registry record's period
"read back from the store, is sent as the same moment in the site's"). A centre that files a visitor's
validity and check-out by their local date (the estate's day, as its reports do) reads a pass's
times as sent."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from centre_helpers import H, centre

from tests.parking.conftest import T0

SITE_OFFSET = "+08:00"


def test_a_visitors_pass_goes_up_with_its_times_in_the_sites_offset(tmp_path: Path) -> None:
    """A guard registers a visitor at 21:00 on 3 March, valid to the end of that day (typed as the
    day), who checks out at 07:30 next morning. The `pass` records went up with the window and the
    check-out read back from the store: UTC with microseconds, "2025-03-03T16:00:00.000000+00:00"
    for midnight on the 4th and "2025-03-03T23:30:00.000000+00:00" for 07:30 on the 4th, so a
    centre taking the estate's day from them has the visitor checked out on the 3rd."""
    with centre(tmp_path) as c:
        r = c.post(
            "/api/visitors",
            {"name": "钱七", "host_building": "3栋", "host_unit": "2单元", "valid_to": "2025-03-03"},
            T0 + 12 * H,
        )
        assert r.status_code == 201, r.text
        pass_id = r.json()["id"]
        out = c.post(f"/api/passes/{pass_id}/checkout", {}, T0 + 22 * H + 30 * timedelta(minutes=1))
        assert out.status_code == 200, out.text
        c.drain()
        records = [m for m in c.records("pass") if m["pass"]["id"] == pass_id]
    assert [m["op"] for m in records] == ["created", "checked_out"]
    times = {
        f"{m['op']}.{field}": m["pass"][field]
        for m in records
        for field in ("valid_from", "valid_to", "checked_out_at")
        if m["pass"][field] is not None
    }
    not_local = {k: v for k, v in times.items() if not str(v).endswith(SITE_OFFSET)}
    assert not not_local, (
        f"the pass record's times are not in the site's offset ({SITE_OFFSET}), as every record's "
        f"are: {not_local}; read by its date, the visitor checked out on "
        f"{str(times['checked_out.checked_out_at'])[:10]}, not on "
        f"{(T0 + 22 * H + 30 * timedelta(minutes=1)).date()}"
    )
    assert datetime.fromisoformat(times["created.valid_to"]) == T0.replace(hour=0) + 24 * H


def test_materials_carried_out_early_morning_go_up_dated_on_the_estates_day(tmp_path: Path) -> None:
    """At 07:30 on 4 March a guard records an old cabinet carried out for 3栋 2单元 (no pass). The
    `materials` record's own `at` carries the site's offset, but the record inside it, read back from
    the store, said "2025-03-03T23:30:00.000000+00:00": a centre telling the owner when the cabinet
    left, by the record's date, tells him the 3rd."""
    carried = T0 + 22 * H + 30 * timedelta(minutes=1)  # 07:30 on the 4th
    with centre(tmp_path) as c:
        r = c.post(
            "/api/materials", {"items": "旧橱柜 1 套", "host_building": "3栋", "host_unit": "2单元"}, carried
        )
        assert r.status_code == 201, r.text
        c.drain()
        (record,) = c.records("materials")
    inner = str(record["record"]["at"])
    assert inner.endswith(SITE_OFFSET) and inner[:10] == "2025-03-04", (
        f"the materials record says the cabinet left at {inner}, not in the site's offset ({SITE_OFFSET}): "
        f"read by its date, on {inner[:10]}, not on {carried.date()}"
    )
    assert datetime.fromisoformat(inner) == carried
