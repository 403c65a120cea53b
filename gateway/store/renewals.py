"""A monthly car renewed while it is parked, after it came in as a paying car: its billing stops then.

A monthly car whose period had run out comes in as a temporary car (flag monthly_expired) and
leaves as one; but the renewal paid for the time after it, so it pays at its exit only for the
time before (docs/parking.md, Monthly), as a car whose period ran out while it was parked leaves
free once renewed. Billed to its exit, a car renewed the morning after its month ran out paid
three days at the temporary rate for days its renewal covered.

Every path that writes a car's `monthly_until` calls this after its write, with its own time: an
admin's change (registry.update_vehicle, the guard pages' renewal through it), a car deleted and
added again (registry.add_vehicle), a CSV import, the central server's delta or snapshot. A
trigger on `vehicles` would have only SQLite's clock, not the writer's (a delta's time, a test's).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gateway.core.model import Billing
from gateway.timefmt import to_db

# The open stays of the cars `{vehicles}` (SQL for their ids) that came in paying because their
# period had run out and whose period now runs past `:at`. One whose billing stopped already (a
# shared slot's second car handed its slot, a renewal before) keeps that moment. A clock behind the
# car's entry stops it at the entry: the renewal covers all of it (never "before" it began, which
# would be charged as a day). Found by the entry's own record, which says why the car paid.
_RENEWED = f"""
UPDATE stays SET billed_until = max(entered_at, :at), billed_until_cause = 'renewal'
WHERE exited_at IS NULL AND billing = '{Billing.TEMPORARY.value}' AND billed_until IS NULL
AND vehicle_id IN ({{vehicles}})
AND EXISTS (SELECT 1 FROM vehicles v WHERE v.id = stays.vehicle_id AND v.monthly_until > :at)
AND EXISTS (SELECT 1 FROM access_log a WHERE a.event_id = stays.entry_event
            AND instr(',' || a.flags || ',', ',monthly_expired,') > 0)
"""


def renewed_while_parked(
    conn: sqlite3.Connection, at: datetime, vehicles: str, params: Mapping[str, Any]
) -> None:
    """The cars `vehicles` (SQL for their ids, with the named `params`) had their period written at
    `at`: those parked paying since their period ran out and now paid up past `at` stop paying at
    `at`. The caller owns the transaction."""
    conn.execute(_RENEWED.format(vehicles=vehicles), {**params, "at": to_db(at)})
