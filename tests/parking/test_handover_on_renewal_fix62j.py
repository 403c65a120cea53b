"""一位多车: a second car passed over at a handover because its registration had lapsed is handed
the free slot once it is registered again (review 62f).

R1's lease lapses at 10:00 (the renewed contract typed late); A leaves B001 at 12:00 and B, R1's
second car waiting in the shared spaces, is rightly not handed the slot (it would come in as a
stranger now). At 13:00 the lease (or B's own registration) is renewed: B is a registered car of a
free slot from then on, yet nothing handed it B001: it paid by the hour till it left at 19:00
(23元), the slot standing empty beside it. Handed B001 at the renewal, it pays 09:01-13:00: 11元
(30 minutes free, 5元 the first hour, 2元 an hour after it). Whoever writes the registration: the
central server's delta or snapshot, an admin's edit of the lease, a `gateway import`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.runtime.gateway import Gateway
from gateway.store.admin import import_csv
from gateway.store.registry_residents import upsert_resident
from gateway.timefmt import to_db
from tests.conftest import write_csv
from tests.parking.conftest import T0, gw, make_gw, show  # noqa: F401  (fixtures)
from tests.parking.directory_exit_helpers import delta
from tests.sync.snapshot_steps import register, snapshot

H = timedelta(hours=1)
A, B = "皖A11111", "皖A22222"
B001 = {"kind": "slot", "zone": "main", "number": "B001", "resident": "R1", "plates": [A, B]}
HANDED_AT_RENEWAL = 1100  # 09:01-13:00: 5元 + 3 x 2元


def _lease(valid_to: datetime) -> dict[str, Any]:
    return {
        "kind": "resident",
        "ref": "R1",
        "building": "3栋",
        "unit": "2单元",
        "name": "张三",
        "valid_to": valid_to.isoformat(),
    }


def _car_b(valid_to: datetime) -> dict[str, Any]:
    return {"kind": "vehicle", "plate": B, "resident": "R1", "valid_to": valid_to.isoformat()}


def _passed_over(gw: Gateway, lapsed: Callable[[datetime], None], start: datetime) -> None:  # noqa: F811
    """A on B001 and B paying beside it from `start`; the registration lapses an hour in, A leaves at two."""
    assert show(gw, "car-in", A, start).billing == "slot"
    second = show(gw, "car-in", B, start + timedelta(minutes=1))
    assert (second.reason, second.flags) == ("temporary", ("shared_slot",))
    lapsed(start + H)
    assert show(gw, "car-out", A, start + 3 * H).admitted
    assert _slot_of(gw, B) is None  # lapsed: not handed B001


def _slot_of(gw: Gateway, plate: str) -> str | None:  # noqa: F811
    row = gw.conn.execute(
        "SELECT sl.number FROM stays s LEFT JOIN slots sl ON sl.id = s.slot_id "
        "WHERE s.plate = ? AND s.exited_at IS NULL",
        (plate,),
    ).fetchone()
    return row[0]


def _leaves_paying_till_the_renewal(gw: Gateway) -> None:  # noqa: F811
    assert _slot_of(gw, B) == "B001"
    out = show(gw, "car-out", B, T0 + 10 * H)
    assert (out.reason, out.fee_fen) == ("payment_due", HANDED_AT_RENEWAL), (
        out.reason,
        out.fee_fen,
        out.flags,
    )


@pytest.mark.parametrize("entry", [_lease, _car_b], ids=["lease", "car_registration"])
def test_delta_renewing_the_registration_hands_the_free_slot(gw: Gateway, entry: Any) -> None:  # noqa: F811
    _passed_over(gw, lambda at: delta(gw, 1, 0, at, upsert=[entry(at)]), T0)
    delta(gw, 2, 1, T0 + 4 * H, upsert=[entry(T0 + 400 * H)])
    _leaves_paying_till_the_renewal(gw)


def test_admin_renewing_the_lease_hands_the_free_slot(gw: Gateway) -> None:  # noqa: F811
    def lease_to(at: datetime, until: datetime) -> None:
        upsert_resident(gw.conn, gw.secrets, at, "admin", {"ref": "R1", "valid_to": until})

    _passed_over(gw, lambda at: lease_to(at, at), T0)
    lease_to(T0 + 4 * H, T0 + 400 * H)
    _leaves_paying_till_the_renewal(gw)


def test_snapshot_renewing_the_lease_hands_the_free_slot(gw: Gateway) -> None:  # noqa: F811
    _passed_over(gw, lambda at: delta(gw, 1, 0, at, upsert=[_lease(at)]), T0)
    entries = [e if e.get("ref") != "R1" else _lease(T0 + 400 * H) for e in register([B001])]
    snapshot(gw, 2, entries, T0 + 4 * H, rows=1)
    _leaves_paying_till_the_renewal(gw)


def test_import_renewing_the_lease_hands_the_free_slot(gw: Gateway, tmp_path: Path) -> None:  # noqa: F811
    """An import is written at the wall clock's time: the stays are set a few hours before it."""
    start = datetime.now(T0.tzinfo).replace(microsecond=0) - 5 * H
    _passed_over(gw, lambda at: delta(gw, 1, 0, at, upsert=[_lease(at)]), start)
    lease = write_csv(tmp_path / "r.csv", "ref,building,unit,name,valid_to\nR1,3栋,2单元,张三,2099-12-31\n")
    import_csv(gw.site.config, [lease])
    assert _slot_of(gw, B) == "B001"
    handed = gw.conn.execute(
        "SELECT handed_over_at FROM stays WHERE plate = ? AND exited_at IS NULL", (B,)
    ).fetchone()
    assert handed[0] >= to_db(start + 3 * H), handed  # at the import, after A left
