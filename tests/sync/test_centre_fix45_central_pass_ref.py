"""A visitor pass the centre sent down (its `ref`), checked out at the booth."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from centre_helpers import Uplink

from gateway.core import Presented
from gateway.store.passes import check_out
from tests.parking.conftest import T0
from tests.parking.directory_exit_helpers import delta

H = timedelta(hours=1)
M = timedelta(minutes=1)
QR = "VQR-P77-2b9e41c07d3a"


def test_the_centre_can_tell_which_of_its_passes_was_checked_out(tmp_path: Path) -> None:
    """The centre registers visitor P77 (李四, 3栋2单元) and sends it down; she walks in on its QR at
    09:10 and the guard checks her out at the booth at 10:00. The centre gets an `access` record
    naming holder visitor N and a `pass` `checked_out` record of pass N, the gateway's own row id,
    which no record ever tied to P77 (a central pass is never sent up as `created`): the centre
    cannot tell that its P77 left and still shows her inside. The record should name the pass as
    the centre knows it (`ref` P77)."""
    up = Uplink(tmp_path)
    gw = up.gw
    pushed = {
        "kind": "pass",
        "ref": "P77",
        "pass_kind": "visitor",
        "name": "李四",
        "host_building": "3栋",
        "host_unit": "2单元",
        "valid_from": T0.isoformat(),
        "valid_to": (T0 + 12 * H).isoformat(),
        "credentials": [{"kind": "qr", "value": QR}],
    }
    delta(gw, 1, 0, T0, upsert=[pushed])
    (pass_id,) = gw.conn.execute("SELECT id FROM passes WHERE ref = 'P77'").fetchone()
    came_in = gw.handle(Presented("door", "qr", QR, 1.0, T0 + 10 * M, "door-reader"))
    assert came_in.admitted
    check_out(gw.conn, pass_id, T0 + H, "guard1")
    records = up.deliver(T0 + 2 * H)
    up.close()
    entry = [r for r in records if r["type"] == "access"][-1]
    of_pass = [r for r in records if r["type"] == "pass"]
    told = [(r["op"], r["pass"]["id"], r["pass"].get("ref")) for r in of_pass]
    assert [ref for _, _, ref in told] == ["P77"], (
        f"the centre's P77 came in as holder {entry['holder']} and its check-out went up as {told} "
        "(op, the gateway's id, ref): nothing names P77, so the centre cannot close its visit"
    )
