"""Review 66 E3: the booth ended a crew's permit the centre had sent (the owner complained), the
matter was settled, and the office extended it: the centre's delta was applied, the new end
stored, yet the pass stayed checked out, so its QR was refused as expired (已过期) on a pass whose
end is weeks away, and nothing told the centre. The centre's entry extending a pass's end, once
told of the check-out, now reopens one the booth ended (docs/mqtt.md, *Passes*), on the audit
trail as the centre's; one sent again unchanged leaves it ended."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store import passes as pass_store
from gateway.timefmt import to_db
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta

REF, QR = "RENO-2025-0042", "CQR-RENO-0042-abcdef"
DAY = timedelta(days=1)


def _crew(days: int, company: str = "好家装饰") -> dict[str, Any]:
    return {
        "kind": "pass",
        "ref": REF,
        "pass_kind": "contractor",
        "name": "赵师傅",
        "company": company,
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_from": T0.isoformat(),
        "valid_to": (T0 + days * DAY).isoformat(),
        "credentials": [{"kind": "qr", "value": QR}],
    }


def _ended_at_the_booth(gw: Gateway) -> int:
    delta(gw, 1, 0, T0, upsert=[_crew(30)])
    (pass_id,) = gw.conn.execute("SELECT id FROM passes WHERE ref = ?", (REF,)).fetchone()
    pass_store.check_out(gw.conn, pass_id, T0 + DAY, "admin")  # the owner complained
    return int(pass_id)


def _door(gw: Gateway, days: int) -> str:
    return str(gw.handle(Presented("door", "qr", QR, 1.0, T0 + days * DAY, "s")).reason)


def test_the_centre_extending_a_permit_the_booth_ended_reopens_it(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    pass_id = _ended_at_the_booth(gw)
    assert _door(gw, 2) == "expired"
    # The centre was told of the check-out (its record went up; Review K: one still queued leaves
    # the pass ended, tests/parking/test_centre_reopen_when_told_fix66M.py).
    with gw.conn:
        gw.conn.execute("UPDATE outbox SET sent_at = ? WHERE topic = 'pass'", (to_db(T0 + DAY),))
    delta(gw, 2, 1, T0 + 2 * DAY, upsert=[_crew(60)])  # settled: the office extends it
    row = pass_store.get_pass(gw.conn, pass_id)
    assert row["checked_out_at"] is None, row
    assert _door(gw, 3) == "contractor"
    trail = gw.conn.execute("SELECT actor, target FROM audit WHERE action = 'contractor.reopen'").fetchall()
    assert trail == [("central", f"pass:{pass_id}")]


def test_the_permit_sent_again_with_its_window_unchanged_stays_ended(make_gw: Callable[..., Gateway]) -> None:
    gw = make_gw()
    pass_id = _ended_at_the_booth(gw)
    delta(gw, 2, 1, T0 + 2 * DAY, upsert=[_crew(30, company="好家装饰有限公司")])  # a new name alone
    assert pass_store.get_pass(gw.conn, pass_id)["checked_out_at"] is not None
    assert _door(gw, 3) == "expired"
