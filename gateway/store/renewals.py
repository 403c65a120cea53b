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

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from gateway.core.model import Billing
from gateway.store.stay_rows import decided_with
from gateway.timefmt import to_db

# A stay's car paid up past `:at`.
_PAID_UP = "EXISTS (SELECT 1 FROM vehicles v WHERE v.id = stays.vehicle_id AND v.monthly_until > :at)"


# The open stays of the cars `{vehicles}` (SQL for their ids) that came in paying because their
# period had run out and whose period now runs past `:at`. One whose billing stopped already (a
# shared slot's second car handed its slot, a renewal before) keeps that moment. A clock behind the
# car's entry stops it at the entry: the renewal covers all of it (never "before" it began, which
# would be charged as a day). Found by the flags of the decision the stay stands on: those kept on
# the stay where it was decided again (redecided_flags), else its entry's own record, which says why
# the car paid. A car recorded inside (gateway/parking/inside.py) has no entry record, and its
# record's flags are kept on the stay: looked for on an entry record alone, it paid three days at
# the temporary cap for a renewal made the morning it was recorded. A slot's car made its second car
# by a record of an earlier time (inside.py _SECOND_CAR) came in resident by its access record: read
# there, its renewal was missed and it paid for the hours the renewal covered.
_RENEWED = f"""
UPDATE stays SET billed_until = max(entered_at, :at), billed_until_cause = 'renewal'
WHERE exited_at IS NULL AND billing = '{Billing.TEMPORARY.value}' AND billed_until IS NULL
AND vehicle_id IN ({{vehicles}})
AND {_PAID_UP}
AND {decided_with(["monthly_expired"])}
"""
# The open stays of those cars on their own slot whose period had run out when they came in (the
# end it had then kept on the stay by schema migration 40's trigger, at this write) and now runs
# past `:at`. Such a car pays nothing on its slot, but a record of a car inside from before its
# entry makes it the slot's second car from that entry, and it came in so paying, its month run
# out (gateway/parking/inside.py): its renewal is noted now as a paying car's is, its stay stopped
# then, the end kept cleared as that of a stay a renewal stopped (_STOPPED_AGAIN). Unnoted, the
# record decided it by the register after the renewal, monthly, and it left free.
_RENEWED_ON_SLOT = f"""
UPDATE stays SET billed_until = max(entered_at, :at), billed_until_cause = 'renewal', monthly_until = NULL
WHERE exited_at IS NULL AND billing = '{Billing.SLOT.value}' AND billed_until IS NULL
AND vehicle_id IN ({{vehicles}})
AND {_PAID_UP}
AND monthly_until <= entered_at
"""


# The open stays of those cars whose billing a renewal stopped. Such a stay is billed again from
# the end of the period the renewal paid for (gateway/parking/book.py, reading the register first).
# A write of the car's period finds on the stay the end before it (monthly_until, kept by schema
# migration 28's trigger), or when billing resumed after an earlier write; the writer's time (a
# trigger has only SQLite's clock) then says what it means. A car on its slot whose renewal was
# noted (_RENEWED_ON_SLOT) is followed alike: billed nothing there, it is billed so once a record
# makes it the slot's second car.
_STOPPED = f"""
stays.exited_at IS NULL AND stays.billing IN ('{Billing.TEMPORARY.value}', '{Billing.SLOT.value}')
AND stays.billed_until_cause = 'renewal' AND stays.vehicle_id IN ({{vehicles}})
"""
# Billed again until now (billing resumed at monthly_until, by `:at`), or its handover.
_UNTIL = "min(:at, coalesce(stays.handed_over_at, :at))"
# Renewed again, after billing resumed: it stops again now. Resumed no later than the renewal (the
# period moved back before it), the renewal paid for none of the stay: billed from its entry.
_AS_NEVER_RENEWED = f"""
UPDATE stays SET billed_until = max(entered_at, {_UNTIL}), billed_again = NULL
WHERE {_STOPPED} AND monthly_until <= :at AND monthly_until <= billed_until AND {_PAID_UP}
"""
# Otherwise the time billed again is kept, priced on its own at the exit.
_BILLED_AGAIN = f"""
UPDATE stays SET billed_again = coalesce(billed_again || ';', '') || monthly_until || '/' || {_UNTIL}
WHERE {_STOPPED} AND monthly_until <= :at AND monthly_until > billed_until
AND {_UNTIL} > monthly_until AND {_PAID_UP}
"""
# Paid up past now: billing is stopped; the end kept is the register's again.
_STOPPED_AGAIN = f"UPDATE stays SET monthly_until = NULL WHERE {_STOPPED} AND {_PAID_UP}"
# Not paid up past now (cleared, moved back, run out): billing resumed at the period's end, as the
# register says it, else as kept (cleared: the end it had, or now, if that is earlier; struck off
# and added again without one: the end kept when struck off, schema migration 30, or now, if that is
# earlier, as for a clearing). None kept and none in the register: it stays stopped.
_RESUMED = f"""
UPDATE stays SET monthly_until = min(coalesce(
    (SELECT v.monthly_until FROM vehicles v WHERE v.id = stays.vehicle_id), monthly_until), :at)
WHERE {_STOPPED} AND NOT {_PAID_UP}
"""


# Of the cars `{vehicles}`, those with an open stay. Each write below is to an open stay of one of
# the cars, and none ends a stay or moves it to another car: those cars are found once (a few, or
# none, of an import's step of a thousand cars), not the cars' ids six times over (11 ms of CPU for
# each thousand cars an import wrote, 3 ms now).
_PARKED = "SELECT DISTINCT vehicle_id FROM stays WHERE exited_at IS NULL AND vehicle_id IN ({vehicles})"


def renewed_while_parked(
    conn: sqlite3.Connection, at: datetime, vehicles: str, params: Mapping[str, Any]
) -> None:
    """The cars `vehicles` (SQL for their ids, with the named `params`) had their period written at
    `at`: those parked paying since their period ran out and now paid up past `at` stop paying at
    `at`; those renewed so whose period now ends by `at` (the renewal taken back) pay again from
    its end, and stop again when renewed once more (the time between billed on its own). One on
    its own slot that came in with its period run out has its renewal noted alike, for a record
    that makes it the slot's second car since its entry. The caller owns the transaction."""
    values = {**params, "at": to_db(at)}
    parked = [car for (car,) in conn.execute(_PARKED.format(vehicles=vehicles), values)]
    if not parked:
        return
    values = {"parked": json.dumps(parked), "at": values["at"]}
    for sql in (_AS_NEVER_RENEWED, _BILLED_AGAIN, _STOPPED_AGAIN, _RENEWED, _RENEWED_ON_SLOT, _RESUMED):
        conn.execute(sql.format(vehicles="SELECT value FROM json_each(:parked)"), values)
