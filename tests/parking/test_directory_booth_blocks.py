"""A block set at the booth (a stolen car, a lost card) and the central server's register: an entry
that says nothing of `blocked` keeps the block; one that says `"blocked": false` lifts it, on the
audit trail as the centre's doing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from gateway.core import Presented
from gateway.runtime.gateway import Gateway
from gateway.store.registry import set_blocked, upsert_resident
from gateway.sync.apply import apply_snapshot_steps
from gateway.sync.messages import encode_snapshot
from gateway.sync.staging import STAGING_NAME, StageJob, open_staging, save_part, stage
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta

STOLEN = "皖C44444"  # R3's monthly car in the seeded register
CARD = "0022334455"


def _snapshot(gw: Gateway, version: int, entries: list[dict[str, Any]], at: datetime) -> None:
    """Stage and apply a full snapshot at `at`, as the directory sync does."""
    staging = gw.data_dir / STAGING_NAME
    conn = open_staging(staging)
    for i, body in enumerate(parts := encode_snapshot(version, entries, per_part=10)):
        save_part(conn, version, i + 1, len(parts), len(entries), body)
    conn.close()
    meta = stage(
        StageJob(staging, gw.db_path, gw.data_dir, "Asia/Shanghai", ("main",), 100, "snapshot", version)
    )
    assert meta["status"] == "staged", meta
    apply_snapshot_steps(gw.conn, staging, version, meta["counts"], 0, 100, at, lambda: True, lambda r, _: r)


def _block_stolen_car(gw: Gateway) -> None:
    set_blocked(gw.conn, T0, "guard1", ("plate", STOLEN), True, "车辆被盗")
    assert show(gw, "car-in", STOLEN, T0 + timedelta(minutes=5)).reason == "blocked"


def _unblocks(gw: Gateway) -> list[tuple[str, str]]:
    return gw.conn.execute("SELECT actor, target FROM audit WHERE action LIKE '%.unblock'").fetchall()


def test_a_plate_blocked_at_the_booth_stays_blocked_through_a_monthly_renewal_delta(gw: Gateway) -> None:
    """R3's monthly car is reported stolen: the guard blocks its plate at the booth at night. In
    the morning the owner's online renewal reaches the gateway as a delta with the car's new
    monthly_until and no `blocked` (the centre's billing knows nothing of the night's block). The
    car must still be refused; the renewal lifted the block, and nothing on the audit trail said so."""
    _block_stolen_car(gw)
    renewal = {"kind": "vehicle", "plate": STOLEN, "resident": "R3", "monthly_until": "2027-12-31"}
    delta(gw, 1, 0, T0 + timedelta(hours=1), upsert=[renewal])
    assert show(gw, "car-in", STOLEN, T0 + timedelta(hours=2)).reason == "blocked"
    assert _unblocks(gw) == []


def test_a_plate_blocked_at_the_booth_stays_blocked_through_the_next_snapshot(gw: Gateway) -> None:
    """The night's block on the stolen car holds through the centre's daily snapshot too, when the
    snapshot's entry for the car says nothing of `blocked`."""
    _block_stolen_car(gw)
    resident = {"kind": "resident", "ref": "R3", "building": "6栋", "unit": "1单元", "name": "王五"}
    car = {"kind": "vehicle", "plate": STOLEN, "resident": "R3", "monthly_until": "2026-12-31"}
    _snapshot(gw, 1, [resident, car], T0 + timedelta(hours=1))
    assert show(gw, "car-in", STOLEN, T0 + timedelta(hours=2)).reason == "blocked"


def test_a_card_blocked_at_the_booth_stays_blocked_when_the_centre_extends_it(gw: Gateway) -> None:
    """R2 reports the car card lost; the guard blocks it. The centre then extends the card's
    validity in a delta without `blocked`: the lost card must still be refused."""
    card = {"kind": "card", "card": CARD, "resident": "R2", "plate": "皖B33333"}
    delta(gw, 1, 0, T0 - timedelta(hours=1), upsert=[card])
    set_blocked(gw.conn, T0, "guard1", ("card", CARD), True, "业主报失")
    delta(gw, 2, 1, T0 + timedelta(hours=1), upsert=[{**card, "valid_to": "2030-12-31"}])
    tapped = gw.handle(Presented("car-in", "card", CARD, 1.0, T0 + timedelta(hours=2), "reader"))
    assert tapped.reason == "blocked"


def test_a_resident_blocked_at_the_booth_stays_blocked_when_the_centre_changes_their_phone(
    gw: Gateway,
) -> None:
    """The admin blocks R3 (moved out owing fees) at the booth. The centre then sends R3's new phone
    number in a delta without `blocked`: R3's car must still be refused."""
    r3 = {"ref": "R3", "building": "6栋", "unit": "1单元", "name": "王五"}
    upsert_resident(gw.conn, gw.secrets, T0, "admin", {**r3, "blocked": True})
    delta(gw, 1, 0, T0 + timedelta(hours=1), upsert=[{"kind": "resident", **r3, "phone": "13800138000"}])
    assert show(gw, "car-in", STOLEN, T0 + timedelta(hours=2)).reason == "blocked"


def test_the_centre_lifting_a_booth_block_is_on_the_audit_trail(gw: Gateway) -> None:
    """The stolen car is found; the office lifts the block in the central register, whose delta
    says `"blocked": false`. The car comes in as monthly again, and the audit trail says the
    centre lifted the guard's block."""
    _block_stolen_car(gw)
    found = {
        "kind": "vehicle",
        "plate": STOLEN,
        "resident": "R3",
        "monthly_until": "2026-12-31",
        "blocked": False,
    }
    delta(gw, 1, 0, T0 + timedelta(hours=1), upsert=[found])
    assert show(gw, "car-in", STOLEN, T0 + timedelta(hours=2)).reason == "monthly"
    assert _unblocks(gw) == [("central", f"plate:{STOLEN}")]
