"""Two temporary cars whose plates differ by one look-alike character (苏E12345 and 苏E1234S) come in
at the same moment, one at each gate. The north camera misreads 苏E12345 as 苏E1234S: with soft
anti-passback that entry is admitted `already_inside` and closes the south car's stay as `reentry`.
The guard sees it on the live page and corrects the north entry to 苏E12345 (docs/parking.md,
*Misread plates*): the corrected car's stay moves onto its plate, and the south car's stay, which
the misread closed, is open again: 苏E1234S, parked all along, pays for its stay at the exit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.core import Presented
from gateway.events import AccessEvent
from gateway.runtime.gateway import Gateway
from tests.parking.test_api import serving
from tests.rush_helpers import RELAYS, parking_gw

H = timedelta(hours=1)
S = timedelta(seconds=1)
REAL = "苏E12345"
LOOKALIKE = "苏E1234S"

SOUTH = """
[[gates]]
id = "south"
name = "南门"

[[lanes]]
id = "car-in-b"
gate = "south"
direction = "entrance"
type = "vehicle"
zone = "main"

[[lanes]]
id = "car-out-b"
gate = "south"
direction = "exit"
type = "vehicle"
zone = "main"
"""


def _show(gw: Gateway, lane: str, plate: str, at: datetime) -> AccessEvent:
    p = Presented(lane, "plate", plate, 0.97, at, f"{lane}-camera")
    return gw.on_worker(lambda _: gw.handle(p)).result(timeout=10)


def _misread(gw: Gateway, now: datetime) -> tuple[AccessEvent, AccessEvent]:
    """The south car comes in three hours ago; the north one, an hour later, is misread as it."""
    south = _show(gw, "car-in-b", LOOKALIKE, now - 3 * H)
    assert south.admitted and south.reason == "temporary"
    north = _show(gw, "car-in", LOOKALIKE, now - 2 * H)  # really 苏E12345
    assert north.admitted and "already_inside" in north.flags
    return south, north


@pytest.mark.parametrize("reentry", ["void", "charge"])
def test_correcting_a_misread_entry_gives_back_the_stay_it_closed(tmp_path: Path, reentry: str) -> None:
    """Both cars are in the car park after the correction: two open stays, and each is asked for
    its own stay at the exit, once: the south car its three hours (9元), not the hour the misread
    made a missed exit of carried on top (reentry = "charge"), nor refused as having no entry."""
    with serving(parking_gw(tmp_path, extra=RELAYS + SOUTH, reentry=reentry)) as (gw, client, auth):
        now = gw.now()
        _, north = _misread(gw, now)
        fixed = client.post(f"/api/events/{north.event_id}/plate", headers=auth, json={"plate": REAL})
        assert fixed.status_code == 200 and fixed.json()["stay_moved"] is True, fixed.text
        inside = sorted(r[0] for r in gw.conn.execute("SELECT plate FROM stays WHERE exited_at IS NULL"))
        held = _show(gw, "car-out-b", LOOKALIKE, now - 60 * S)
        assert (held.reason, held.flags, held.fee_fen) == ("payment_due", (), 900), (
            f"the south car, parked 3 h, is decided {held.reason} {held.flags} {held.fee_fen} fen at "
            f"the exit; open stays after the correction: {inside}"
        )
        alone = _show(gw, "car-out", REAL, now - 30 * S)  # the north car: its own two hours
        assert (alone.reason, alone.flags, alone.fee_fen) == ("payment_due", (), 700)
        assert inside == [REAL, LOOKALIKE]


def test_the_correction_that_gives_back_a_stay_says_so_upstream(tmp_path: Path) -> None:
    """The audit trail and the upstream plate_correction record name the stay given back, and the
    missed-exit charge the misread carried (reentry = "charge") goes upstream again as voided."""
    with serving(parking_gw(tmp_path, extra=RELAYS + SOUTH, reentry="charge")) as (gw, client, auth):
        south, north = _misread(gw, gw.now())
        carried = gw.conn.execute("SELECT id FROM charges WHERE kind = 'reentry'").fetchall()
        assert len(carried) == 1, "the misread carried the south car's first hour as a missed exit"
        fixed = client.post(f"/api/events/{north.event_id}/plate", headers=auth, json={"plate": REAL})
        assert fixed.status_code == 200, fixed.text
        stay_id = gw.conn.execute("SELECT id FROM stays WHERE entry_event = ?", (south.event_id,)).fetchone()[
            0
        ]
        detail = gw.conn.execute("SELECT detail FROM audit WHERE action = 'plates.correct'").fetchone()[0]
        assert f"stay {stay_id} of {LOOKALIKE} open again" in detail, detail
        sent = [
            (topic, json.loads(payload))
            for topic, payload in gw.conn.execute("SELECT topic, payload FROM outbox ORDER BY seq")
        ]
        correction = next(body for topic, body in sent if topic == "plate_correction")
        assert correction["stay_reopened"] == stay_id
        voided = [body for topic, body in sent if topic == "charge" and body.get("change") == "voided"]
        assert [(v["charge_id"], v["owed_fen"]) for v in voided] == [(carried[0][0], 0)], voided
        kept = gw.conn.execute("SELECT id, voided_at IS NOT NULL FROM charges").fetchall()
        assert kept == [(carried[0][0], 1)], "the charge is kept, marked void: its id names it for good"
