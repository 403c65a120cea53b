"""Schema migrations, from 13 on (the first twelve are in gateway/store/schema_first.py). Each step
runs once, in order (an upgrade's steps in one transaction); PRAGMA user_version counts them.

Never edit a step that has shipped: add a new one.
"""

from __future__ import annotations

from gateway.store.card_respell import old_spelling, spelled_sql
from gateway.store.schema_first import FIRST_MIGRATIONS, follow, highest_named, parked

# Migration 17's: the time now as a trigger reads it, written as gateway.timefmt.to_db writes times
# (UTC, microseconds), so that text order stays time order. The gateway's own clock (Gateway.now)
# is this same system clock; a trigger has no other, whoever's write fired it (a delta, an import
# in its own process, an admin).
_NOW = "strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')"

# Migration 66's: the outbox stream records are queued in now, the newest (gateway/store/outbox.py).
_STREAM_NOW = "SELECT stream FROM outbox_streams ORDER BY first_seq DESC LIMIT 1"


def _move_subject(old: str, new: str) -> str:
    """Migration 17's trigger body: what is still open under the subject `old` (stays, booth
    payments not yet applied, charges not yet settled, presence on foot) goes to `new`."""
    return "".join(
        f"UPDATE {table} SET subject = {new} WHERE subject = {old}{still_open}; "
        for table, still_open in (
            ("payments", " AND charge_id IS NULL"),
            ("charges", " AND settled_at IS NULL"),
            ("stays", " AND exited_at IS NULL"),
            ("presence", ""),
        )
    )


def _stays_to_vehicle(vehicle: str, which: str) -> str:
    """Migrations 20 and 21's: the open stays `which` (an SQL condition) name the vehicle `vehicle`
    (NULL: none, the plate struck off or a pass's now). A monthly stay keeps the end of the period
    it had, as migration 17 keeps a struck-off car's: the vehicle's own period is read first
    (gateway/store/parking.py _STAY), so a renewal brought with the car sent again counts."""
    was = "(SELECT v.monthly_until FROM vehicles v WHERE v.id = stays.vehicle_id)"
    kept = f"coalesce({was}, monthly_until, {_NOW})"
    return (
        f"UPDATE stays SET vehicle_id = {vehicle}, "
        f"monthly_until = CASE WHEN billing = 'monthly' THEN {kept} ELSE monthly_until END "
        f"WHERE exited_at IS NULL AND vehicle_id IS NOT {vehicle} AND {which}; "
    )


def _parked_or_owing(plate: str) -> str:
    """Migration 20's trigger condition: the plate's car is inside (parked), or the plate still
    owes a charge (on the index charges_unsettled_plate). A large import of plates neither parked
    nor owing runs no statement for them."""
    return f"({parked(plate)} OR EXISTS (SELECT 1 FROM charges WHERE plate = {plate} AND settled_at IS NULL))"


def _follow_plate(plate: str, subject: str, vehicle: str) -> str:
    """Migration 20's trigger body: migration 10's (follow) for the open stay of `plate`, which
    also names the vehicle `vehicle` now; and every charge of `plate` still owed goes to `subject`,
    parked or not (follow's own move of charges is the part of it for the open stay). Settled
    charges stay where they are."""
    return (
        follow(plate, subject)
        + _stays_to_vehicle(vehicle, f"plate = {plate}")
        + f"UPDATE charges SET subject = {subject} "
        f"WHERE plate = {plate} AND settled_at IS NULL AND subject IS NOT {subject};"
    )


# Migration 20's: whose a plate is now (migration 7's view), as a trigger on `credentials` reads it;
# and the vehicle the plate of an open stay names now, as a statement over `stays` reads it.
_PLATE_SUBJECT = "(SELECT subject FROM plate_subjects WHERE plate = NEW.value)"
_VEHICLE_OF_PLATE = (
    "(SELECT c.vehicle_id FROM credentials c WHERE c.kind = 'plate' AND c.value = stays.plate)"
)
# Migration 20's triggers on `credentials`, word for word (migration 48 makes them again on the
# table it rebuilds).
_PLATE_FOLLOWED_20 = f"""CREATE TRIGGER stays_follow_plate_added AFTER INSERT ON credentials
    WHEN NEW.kind = 'plate' AND {_parked_or_owing("NEW.value")}
    BEGIN {_follow_plate("NEW.value", _PLATE_SUBJECT, "NEW.vehicle_id")} END;
    CREATE TRIGGER stays_follow_plate_moved
    AFTER UPDATE OF value, resident_id, pass_id, vehicle_id ON credentials
    WHEN NEW.kind = 'plate' AND {_parked_or_owing("NEW.value")}
    BEGIN {_follow_plate("NEW.value", _PLATE_SUBJECT, "NEW.vehicle_id")} END;
    CREATE TRIGGER stays_follow_plate_removed AFTER DELETE ON credentials
    WHEN OLD.kind = 'plate' AND {_parked_or_owing("OLD.value")}
    BEGIN {_follow_plate("OLD.value", "'plate:' || OLD.value", "NULL")} END;"""

# Migration 13's: a mask as the old code wrote it (first three digits and last four), not a mobile's.
_OLD_MASK = (
    "phone_masked GLOB '[0-9][0-9][0-9][*][*][*][*][0-9][0-9][0-9][0-9]' AND phone_masked NOT GLOB '1*'"
)
# Migration 13's: each id sequence raised, where it lags, above every id named anywhere.
_SEQUENCES_ABOVE_NAMED = "\n".join(
    f"UPDATE sqlite_sequence SET seq = max(seq, {highest_named(table, logged, kinds)})"
    f" WHERE name = '{table}';"
    for table, logged, kinds in (
        ("residents", "SELECT holder_id FROM access_log WHERE holder_kind = 'resident'", ("resident",)),
        (
            "vehicles",
            "SELECT vehicle_id FROM access_log UNION ALL SELECT vehicle_id FROM stays",
            ("vehicle",),
        ),
        (
            "passes",
            "SELECT holder_id FROM access_log WHERE holder_kind IN ('visitor', 'contractor')",
            ("visitor", "contractor"),
        ),
    )
)

# Migrations 25 and 26's: the openings by hand of a gateway before migration 22, which recorded
# them only by closing the stay (closed_by 'hand', no exit_event): each names the last payment_due
# decision `a` of the stay `s`'s car (`held_on`, an SQL condition) in the half hour up to its
# close, unless an opening names it already; `unless`: another condition (AND ...) on `s` and it, `h`.
_HELD_ON_ITS_CAR = """(a.kind = 'plate' AND a.value = s.plate)
               OR (a.vehicle_id IS NOT NULL AND a.vehicle_id = s.vehicle_id)"""
# Migration 26's: a car held on the QR of a pass or on a resident's card, its stay that holder's;
# and a stay whose opening migration 25 found already (at its close, at that lane).
_HELD_ON_ITS_HOLDER = "a.kind IN ('qr', 'card') AND a.holder_kind || ':' || a.holder_id = s.subject"
_FOUND_BY_25 = (
    " AND NOT EXISTS (SELECT 1 FROM let_outs_by_hand o WHERE o.at = s.exited_at AND o.lane = h.lane)"
)


def _openings_by_hand_found(held_on: str, unless: str = "") -> str:
    return f"""
    INSERT INTO let_outs_by_hand (at, lane, held_event)
    SELECT s.exited_at, h.lane, h.event_id FROM stays s
    JOIN access_log h ON h.id = (
        SELECT a.id FROM access_log a INDEXED BY access_log_held_at
        WHERE a.reason = 'payment_due' AND a.at <= s.exited_at
          AND a.at >= strftime('%Y-%m-%dT%H:%M:%f', s.exited_at, '-1800 seconds')
          AND ({held_on})
        ORDER BY a.id DESC LIMIT 1)
    WHERE s.closed_by = 'hand' AND s.exit_event IS NULL
      AND NOT EXISTS (SELECT 1 FROM let_outs_by_hand o WHERE o.held_event = h.event_id){unless}
    ORDER BY s.exited_at, s.id;
    """


# Migration 42's, as they were when it shipped (gateway/store/parking.py charge_owed_sql then):
# what a charge `c` is still owed, and what the payments linked to a charge paid it, each payment
# less what of it paid carried charges (payments.carried_fen, migration 36).
def _paid_to_42(charge: str) -> str:
    return (
        "(SELECT coalesce(sum(p.amount_fen - p.carried_fen), 0) FROM payments p "
        f"WHERE p.charge_id = {charge})"
    )


_OWED_42 = f"c.amount_fen - {_paid_to_42('c.id')}"


# Migration 42's: a new message's event id as gateway/ids.py makes one (UUIDv7: the time now in
# milliseconds, then random bits), for the records a step queues; evaluated anew for each row.
_MS_NOW_42 = "printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"
_EVENT_ID_42 = (
    f"lower(substr({_MS_NOW_42}, 1, 8) || '-' || substr({_MS_NOW_42}, 9, 4) "
    "|| '-7' || substr(hex(randomblob(2)), 2) "
    "|| '-' || substr('89ab', 1 + abs(random() % 4), 1) || substr(hex(randomblob(2)), 2) "
    "|| '-' || hex(randomblob(6)))"
)
# Migration 42's records are dated at the re-entry charge's own time (`at`: the re-entry, or the
# guard's opening that let its car out by hand, whose event_id is the hold's decision), as
# carry_reentry dates those it writes. SQL knows no site zone: they are queued with that UTC text
# and their event ids kept under this config_seen key; the gateway, opening the database with the
# site's config, gives them the site's offset before anything goes up (gateway/store/database.py
# date_in_site_zone), as docs/mqtt.md promises every record's `at`.
DATED_IN_UTC = "records_dated_in_utc"
# Migration 47's: the `pass` and `materials` records a release before 57ed245 queued sent their
# own times as the store keeps them (UTC text, `+00:00`): a pass's validity and check-out, the
# materials record's inner `at`. Those waiting are listed by event id under this config_seen key
# (SQL knows no site zone: in a site whose zone is UTC the text is right already), and the gateway,
# opening the database with the site's config, gives those times the site's offset before anything
# goes up (gateway/store/database.py date_in_site_zone), as docs/mqtt.md promises.
DATED_IN_UTC_47 = "records_with_times_in_utc"
TIMES_IN_UTC_47 = ("$.pass.valid_from", "$.pass.valid_to", "$.pass.checked_out_at", "$.record.at")
_ANY_IN_UTC_47 = " OR ".join(f"json_extract(payload, '{path}') LIKE '%+00:00'" for path in TIMES_IN_UTC_47)


# Migration 44: the cards and QRs struck off under an older release whose holder the register has
# forgotten too (a resident deleted while at home, a pass withdrawn while its visitor was in),
# remembered as the trigger would have been: the holder of the latest admitted entry on foot on
# each, whom that release's exit door let out. Without them, one deleted at home before the
# upgrade was shut in after it. The cards and QRs seen on foot are walked through the index of
# passages on foot by credential (migration 38), from one to the next (a jump each, not every
# passage of each: a year's log of a busy estate upgrades in a moment); only those the register
# no longer knows read their latest entry. The WHEREs must stay word for word what the index says,
# for SQLite to use it.
_STRUCK_OFF_BEFORE_44 = f"""
WITH RECURSIVE seen(id) AS (
    SELECT (SELECT id FROM access_log INDEXED BY access_log_on_foot
            WHERE admitted = 1 AND lane_type = 'pedestrian' ORDER BY kind, value LIMIT 1)
    UNION ALL
    SELECT coalesce(
        (SELECT n.id FROM access_log n INDEXED BY access_log_on_foot
         WHERE n.admitted = 1 AND n.lane_type = 'pedestrian' AND n.kind = s.kind AND n.value > s.value
         ORDER BY n.value LIMIT 1),
        (SELECT n.id FROM access_log n INDEXED BY access_log_on_foot
         WHERE n.admitted = 1 AND n.lane_type = 'pedestrian' AND n.kind > s.kind
         ORDER BY n.kind, n.value LIMIT 1))
    FROM seen JOIN access_log s ON s.id = seen.id
)
INSERT INTO struck_off_on_foot (kind, value, holder_kind, holder_id, entry_id, at)
SELECT a.kind, a.value, a.holder_kind, a.holder_id, a.id, {_NOW}
FROM seen JOIN access_log s ON s.id = seen.id
JOIN access_log a ON a.id = (
    SELECT e.id FROM access_log e INDEXED BY access_log_on_foot
    WHERE e.kind = s.kind AND e.value = s.value AND e.admitted = 1 AND e.lane_type = 'pedestrian'
      AND e.direction = 'entrance' AND e.holder_kind IS NOT NULL
    ORDER BY e.id DESC LIMIT 1)
WHERE s.kind IN ('card', 'qr')
  AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.kind = s.kind AND c.value = s.value)
  AND NOT CASE a.holder_kind WHEN 'resident' THEN EXISTS (SELECT 1 FROM residents r WHERE r.id = a.holder_id)
      ELSE EXISTS (SELECT 1 FROM passes p WHERE p.id = a.holder_id) END;
"""

# Migration 47: the cards and QRs migration 44's trigger remembered though they were blocked when
# struck off, told by the audit trail in the order it was written (its ids: its times are the box's
# clock as it was, a stale boot clock's too, never re-dated when NTP sets it). The trail names a card
# or QR by its number masked as gateway/store/registry_base.py _shown masks it (its last four
# characters): a block or unblock in `target` (credential.block, credential.unblock), a card issued
# or struck off in `detail` (card.add, card.delete, qr.delete); a resident deleted with their cards
# is `resident:<id>` (resident.delete). Those rows are read once into trail_47, each under that name.
# One is forgotten where the last block, unblock or issue of its number up to its strike-off is a
# block: a card found and issued again after its block was not blocked when struck off. Its
# strike-off is its own row on the trail, the last that names it (its number's delete, its holder's
# delete); where there is none (the central server's snapshot or delta, retention of a pass), the
# row written last by the box's clock at the moment it was struck off (struck_off_on_foot.at). The
# entry remembered is not compared: dated on the same clock, a block typed on a stale boot clock read
# as before it, and so as lifted; a block before an entry that was admitted was lifted on the trail
# (an unblock, or the card issued again) before it. A block or issue of another card masked alike in
# that time counts as this one's: one forgotten so lets its holder, deleted at home, be refused
# `unknown` at the exit door, and the guard opens. One whose block has left the audit trail
# (retention.audit_days) is left remembered.
_MASKED_47 = (
    "s.kind || ':' || replace(hex(zeroblob(max(length(s.value) - 4, 0))), '00', '*') || substr(s.value, -4)"
)
_BLOCKED_WHEN_STRUCK_OFF_47 = f"""
CREATE TEMP TABLE trail_47 (id INTEGER PRIMARY KEY, action TEXT NOT NULL, mark TEXT NOT NULL);
INSERT INTO trail_47 (id, action, mark)
SELECT id, action, CASE WHEN action IN ('card.add', 'card.delete', 'qr.delete')
                        THEN substr(action, 1, instr(action, '.') - 1) || ':' || detail ELSE target END
FROM audit WHERE action IN ('credential.block', 'credential.unblock', 'card.add', 'card.delete',
                            'qr.delete', 'resident.delete');
CREATE INDEX temp.trail_47_mark ON trail_47(mark, id);
DELETE FROM struck_off_on_foot WHERE (kind, value) IN (
    SELECT kind, value FROM (
        SELECT s.kind, s.value, {_MASKED_47} AS mark, coalesce(
            (SELECT max(o.id) FROM trail_47 o
             WHERE (o.mark = {_MASKED_47} AND o.action = s.kind || '.delete')
                OR (o.mark = 'resident:' || s.holder_id AND o.action = 'resident.delete'
                    AND s.holder_kind = 'resident')),
            (SELECT a.id FROM audit a WHERE a.at <= s.at ORDER BY a.at DESC, a.id DESC LIMIT 1)) AS struck_off
        FROM struck_off_on_foot s) r
    WHERE (SELECT t.action FROM trail_47 t
           WHERE t.mark = r.mark AND t.id <= r.struck_off
             AND t.action IN ('credential.block', 'credential.unblock', 'card.add')
           ORDER BY t.id DESC LIMIT 1) = 'credential.block');
DROP TABLE temp.trail_47;
"""

# Migration 47's trigger on `credentials`, word for word (migration 48 makes it again on the table
# it rebuilds): a card or QR struck off is remembered for the exit door unless it was blocked.
_STRUCK_OFF_REMEMBERED_47 = f"""CREATE TRIGGER struck_off_on_foot_remembered AFTER DELETE ON credentials
    WHEN OLD.kind IN ('card', 'qr')
    BEGIN
        DELETE FROM struck_off_on_foot WHERE kind = OLD.kind AND value = OLD.value;
        INSERT INTO struck_off_on_foot (kind, value, holder_kind, holder_id, entry_id, at)
        SELECT a.kind, a.value, a.holder_kind, a.holder_id, a.id, {_NOW} FROM access_log a
        WHERE NOT OLD.blocked
          AND a.kind = OLD.kind AND a.value = OLD.value AND a.admitted = 1 AND a.lane_type = 'pedestrian'
          AND a.direction = 'entrance'
          AND CASE WHEN OLD.resident_id IS NOT NULL
              THEN a.holder_kind = 'resident' AND a.holder_id = OLD.resident_id
              ELSE a.holder_kind != 'resident' AND a.holder_id = OLD.pass_id END
        ORDER BY a.id DESC LIMIT 1;
    END;"""

# Migration 51's: migration 47's, the card's entry found under the spelling it had before migration
# 51 respelled it too (a resident in on foot before the upgrade, struck off after it), and
# remembered under the card's spelling now, which the reader gives.
_STRUCK_OFF_REMEMBERED_51 = f"""CREATE TRIGGER struck_off_on_foot_remembered AFTER DELETE ON credentials
    WHEN OLD.kind IN ('card', 'qr')
    BEGIN
        DELETE FROM struck_off_on_foot WHERE kind = OLD.kind AND value = OLD.value;
        INSERT INTO struck_off_on_foot (kind, value, holder_kind, holder_id, entry_id, at)
        SELECT a.kind, OLD.value, a.holder_kind, a.holder_id, a.id, {_NOW} FROM access_log a
        WHERE NOT OLD.blocked
          AND a.kind = OLD.kind AND a.value IN (OLD.value, {old_spelling("OLD.value")})
          AND a.admitted = 1 AND a.lane_type = 'pedestrian' AND a.direction = 'entrance'
          AND CASE WHEN OLD.resident_id IS NOT NULL
              THEN a.holder_kind = 'resident' AND a.holder_id = OLD.resident_id
              ELSE a.holder_kind != 'resident' AND a.holder_id = OLD.pass_id END
        ORDER BY a.id DESC LIMIT 1;
    END;"""

# Migration 47's: the holder a booth block's `registry` record (gateway/store/registry_credentials.py
# set_blocked, the only one with an `id`) names as the centre knows it, for a record waiting in the
# outbox: a pass's `ref` by its `pass_id` (null for a pass registered at the booth), else the
# resident's `ref` whose credential it is, that credential still the one blocked (its id, kind and
# value: a card struck off since leaves its id to be taken by another). No row where that pass,
# or that credential, is gone since.
_BLOCK_HOLDER_47 = """
    SELECT NULL AS resident, p.ref AS pass_ref FROM passes p
    WHERE p.id = json_extract(outbox.payload, '$.pass_id')
    UNION ALL
    SELECT r.ref, NULL FROM credentials c JOIN residents r ON r.id = c.resident_id
    WHERE json_extract(outbox.payload, '$.pass_id') IS NULL AND c.id = json_extract(outbox.payload, '$.id')
      AND c.kind = json_extract(outbox.payload, '$.kind')
      AND c.value = json_extract(outbox.payload, '$.value')"""


def _highest_named_48(table: str, audited: str, entities: str, logged: str = "") -> str:
    """Migration 48's: SQL for the highest id of `table` named anywhere: its rows, `logged` (more
    ids, as `UNION ALL SELECT ...`), the audit rows `<kind>:<id>` of the actions `audited` (an add
    or a delete: a block's names the card's value, masked, which may be four digits), and the
    `registry` records of the entities `entities` (their `id`), sent or waiting. Both SQL lists."""
    return f"""(SELECT coalesce(max(id), 0) FROM (
        SELECT id FROM {table}{logged}
        UNION ALL SELECT CAST(substr(target, instr(target, ':') + 1) AS INTEGER) FROM audit
        WHERE action IN ({audited})
        UNION ALL SELECT CAST(json_extract(payload, '$.id') AS INTEGER) FROM outbox
        WHERE topic = 'registry' AND json_extract(payload, '$.entity') IN ({entities})))"""


# The records for the centre that name a slot by id (stay, access: a handover, a second car, a stay
# restored), sent or waiting: a slot the centre added and took back names itself nowhere else.
_SLOTS_IN_RECORDS_48 = "".join(
    f" UNION ALL SELECT CAST(json_extract(payload, '{path}') AS INTEGER) FROM outbox"
    for path in ("$.slot_id", "$.second_car.slot_id", "$.restored.slot_id")
)


MIGRATIONS: list[str] = [
    *FIRST_MIGRATIONS,
    # For a box upgraded from an older gateway, what later fixes left behind (each statement does
    # nothing where there is nothing to mend, so every box runs it):
    # - The old code masked any number of seven digits or more as its first three and last four: a
    #   landline showed seven of its eight digits (876****4321). The number's length is lost, so every
    #   such mask but a mobile's (first digit 1) keeps its last four only, as a landline does now; a
    #   mobile typed with +86 (861****8000) among them, whose own first digits were never stored.
    # - Migration 12 was mended after it first shipped; a box that ran the first one lacks the mends:
    #   its sequences stood above the log, presence and stays only, so a new pass could take the id
    #   of a pruned one that still owed money (and was asked for it at the exit); and it lacks the
    #   passes_plate index.
    f"""
    UPDATE residents SET phone_masked = '****' || substr(phone_masked, -4) WHERE {_OLD_MASK};
    UPDATE passes SET phone_masked = '****' || substr(phone_masked, -4) WHERE {_OLD_MASK};
    UPDATE pass_people SET phone_masked = '****' || substr(phone_masked, -4) WHERE {_OLD_MASK};

    CREATE INDEX IF NOT EXISTS passes_plate ON passes(plate) WHERE plate IS NOT NULL;
    {_SEQUENCES_ABOVE_NAMED}
    """,
    # People at the doors were kept in and out under their car when the card they used also named
    # it (vehicle:N); they are kept under themselves now (resident:N, gateway/store/lookup.py
    # subject_of). The rows under a car are left over: one still "inside" would count a person on
    # foot for ever on the occupancy page. (Cars' own comings and goings are stays, not presence.)
    """
    DELETE FROM presence WHERE subject LIKE 'vehicle:%';
    """,
    # What was paid on a charge is summed by charge_id at an exit that carries an unpaid charge and
    # in each daily report: payments are kept for ever, so without this each of those read them all.
    # The outbox is pruned of old messages other than access records (gateway/store/outbox.py
    # prune_sent, retention.py) on the decision worker: without the last two each pruning read every
    # access record queued upstream, and the lanes waited the longer the longer the box had run.
    """
    CREATE INDEX IF NOT EXISTS payments_charge ON payments(charge_id) WHERE charge_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS outbox_sent ON outbox(sent_at) WHERE topic != 'access';
    CREATE INDEX IF NOT EXISTS outbox_created ON outbox(created_at) WHERE topic != 'access';
    """,
    # The audit trail is kept `retention.audit_days` (gateway/store/retention.py prune_audit), no
    # longer for ever. Rows still cannot be changed, and one less than 180 days older than the newest
    # row cannot be deleted (AUDIT_FLOOR_DAYS, gateway/config/parking.py): measured against the trail
    # itself, whose times are the gateway's clock, not against SQLite's own reading of the time.
    """
    DROP TRIGGER audit_no_delete;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    WHEN old.at > strftime('%Y-%m-%dT%H:%M:%f', (SELECT at FROM audit ORDER BY id DESC LIMIT 1), '-180 days')
    BEGIN
        SELECT RAISE(ABORT, 'audit rows of the last 180 days cannot be deleted');
    END;
    """,
    # A monthly car's stay keeps the end of its paid-up period when its vehicle no longer says it
    # (stays.monthly_until; gateway/store/parking.py reads the vehicle's first, so a renewal pushed
    # while the car is parked still counts). Read only from the vehicle, a car whose month the centre
    # or an import's empty cell cleared while it was parked, or a car struck off the register after
    # its month ran out, left free however long it stayed. Cleared, the month ended then (or when it
    # ran out, if earlier); struck off, it keeps the end it had, and one with none known (left by an
    # older gateway, mended here too) ends then, never free for ever.
    # And a pass that the centre sends again as another kind (a visitor's pass re-sent as a
    # contractor's) keeps its open stays, booth payments not yet applied, charges still owed and
    # presence: they are keyed kind:id, and under the old kind the car left as no_entry_record
    # while its stay held a shared space for good (as migration 10's triggers do for a plate).
    f"""
    ALTER TABLE stays ADD COLUMN monthly_until TEXT;
    -- So that striking off thousands of cars (a snapshot, an owner's cascade) reads only the open stays.
    CREATE INDEX stays_open_vehicle ON stays(vehicle_id) WHERE exited_at IS NULL;
    CREATE TRIGGER stays_keep_monthly_end_cleared AFTER UPDATE OF monthly_until ON vehicles
    WHEN OLD.monthly_until IS NOT NULL AND NEW.monthly_until IS NULL
    BEGIN
        UPDATE stays SET monthly_until = min(OLD.monthly_until, {_NOW})
        WHERE vehicle_id = OLD.id AND exited_at IS NULL AND billing = 'monthly';
    END;
    CREATE TRIGGER stays_keep_monthly_end_struck_off BEFORE DELETE ON vehicles
    BEGIN
        UPDATE stays SET monthly_until = coalesce(OLD.monthly_until, monthly_until, {_NOW})
        WHERE vehicle_id = OLD.id AND exited_at IS NULL AND billing = 'monthly';
    END;
    UPDATE stays SET monthly_until = {_NOW}
    WHERE exited_at IS NULL AND billing = 'monthly' AND NOT EXISTS (
        SELECT 1 FROM vehicles v WHERE v.id = stays.vehicle_id AND v.monthly_until IS NOT NULL);

    CREATE TRIGGER stays_follow_pass_kind AFTER UPDATE OF kind ON passes WHEN NEW.kind IS NOT OLD.kind
    BEGIN {_move_subject("OLD.kind || ':' || OLD.id", "NEW.kind || ':' || NEW.id")} END;
    """,
    # Which way a record's lane faced and what it was for, as the lane was configured when the
    # record was written: the daily report counts passages by them, and read from the config now a
    # lane renamed or removed since left its morning's cars out of the day's report (its refusals
    # in). The log is append-only: records written before stay NULL, read by the config now.
    """
    ALTER TABLE access_log ADD COLUMN direction TEXT;
    ALTER TABLE access_log ADD COLUMN lane_type TEXT;
    """,
    # What the site config said, as the gateway first saw it, where an edit in place would change
    # records already made (gateway/runtime/config_edits.py): each tariff version's prices
    # ('tariff:t1'; edited, cars parked under the old numbers pay the new ones, stamped with the old
    # name) and the site id the records went upstream under ('site_id'; changed, the centre is told
    # from which seq the records come under the new one).
    """
    CREATE TABLE config_seen (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        first_seen TEXT NOT NULL
    ) WITHOUT ROWID;
    """,
    # A car struck off and registered again while parked (the same plate, a new vehicle id: the
    # central server sending it again, an office renewing it by delete and add): its stay followed
    # the plate to the new vehicle's subject (migration 10) but kept the old vehicle's id, which the
    # slot and fee code read. A car on its own slot was moved into the shared spaces, a shared
    # slot's second car was never handed the slot, and a renewal sent with the car did not count.
    # The stay now names the plate's vehicle (none once struck off); stays left so are mended.
    # And a charge still owed follows its plate whether or not the car is parked: an admin-closed
    # stay left its missed exit's charge under the old holder (vehicle:N of a car deleted since, or
    # the stranger's plate:X), never asked again and unsettled upstream for good.
    f"""
    CREATE INDEX charges_unsettled_plate ON charges(plate) WHERE settled_at IS NULL;
    DROP TRIGGER stays_follow_plate_added;
    DROP TRIGGER stays_follow_plate_moved;
    DROP TRIGGER stays_follow_plate_removed;
    {_PLATE_FOLLOWED_20}

    {_stays_to_vehicle(_VEHICLE_OF_PLATE, f"subject = 'vehicle:' || {_VEHICLE_OF_PLATE}")}
    UPDATE charges SET subject = (SELECT subject FROM plate_subjects WHERE plate = charges.plate)
    WHERE settled_at IS NULL AND plate IN (SELECT plate FROM plate_subjects)
    AND subject IS NOT (SELECT subject FROM plate_subjects WHERE plate = charges.plate);
    -- A plate nobody holds now (its car struck off), its car not parked (a parked car's money is
    -- its stay's, migration 10): the plate itself owes, as the triggers have it.
    UPDATE charges SET subject = 'plate:' || plate
    WHERE settled_at IS NULL AND plate IS NOT NULL AND plate NOT IN (SELECT plate FROM plate_subjects)
    AND subject != 'plate:' || plate
    AND NOT EXISTS (SELECT 1 FROM stays s WHERE s.plate = charges.plate AND s.exited_at IS NULL);
    """,
    # Migration 20's mend of open stays read only those under the plate's vehicle now: a car struck
    # off while parked under an older gateway, its stay moved to its plate (plate:X) or to a pass,
    # still named the deleted vehicle, and the guard's stays list showed it registered. An open
    # stay names a vehicle only under that vehicle's subject, as migration 20's triggers keep it;
    # a monthly one keeps the end of its period as a car struck off now does.
    f"""
    {_stays_to_vehicle("NULL", "subject IS NOT 'vehicle:' || vehicle_id")}
    """,
    # The car each access record names, as a hold at an exit is keyed (gateway/store/holds.py
    # car_held_sql), kept as it was when the record was written: read from the register later, a car
    # held on its card and struck off since (or on the QR of a pass withdrawn since) was no longer the
    # car held: the day's report, rebuilt, no longer counted its hold, and the guard's quote lost a
    # car still at the barrier. Records written before keep NULL and are read from the register.
    # And each opening by hand that let out a car held to pay (ParkingDesk.let_out_by_hand), naming
    # the hold's last decision: the hold ends there. Until now only the stay it closed said so, and a
    # car held with no stay (no entry record) stayed shown at the lane after it had gone. The stays
    # closed by hand so far are copied in, at the lane they were held at.
    """
    ALTER TABLE access_log ADD COLUMN car TEXT;
    CREATE TABLE let_outs_by_hand (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        lane TEXT NOT NULL,
        held_event TEXT NOT NULL
    );
    CREATE INDEX let_outs_by_hand_at ON let_outs_by_hand(at);
    INSERT INTO let_outs_by_hand (at, lane, held_event)
    SELECT s.exited_at, h.lane, s.exit_event FROM stays s JOIN access_log h ON h.event_id = s.exit_event
    WHERE s.closed_by = 'hand' ORDER BY s.exited_at, s.id;
    """,
    # A missed-exit charge a guard's plate correction undoes (gateway/store/corrections.py) is kept,
    # marked void, no longer deleted: SQLite gave a deleted newest charge's id to the next charge,
    # another car's, under which the centre already had the voided one; and a report of the day it
    # was charged, rebuilt after the correction, no longer said it had been owed. The booth payments
    # it took in go back to the stay and name it (voided_charge_id), so that such a report still
    # counts them as paid against it. Openings by hand go with the access records they name
    # (gateway/store/retention.py), found by them.
    """
    ALTER TABLE charges ADD COLUMN voided_at TEXT;
    ALTER TABLE payments ADD COLUMN voided_charge_id INTEGER REFERENCES charges(id);
    CREATE INDEX payments_voided_charge ON payments(voided_charge_id) WHERE voided_charge_id IS NOT NULL;
    CREATE INDEX let_outs_by_hand_held ON let_outs_by_hand(held_event);
    """,
    # The cars held at an exit to pay, by time: a hold's start and end, the report's held count and
    # flags, the guard's quote and a receipt's check look back through them alone, not through every
    # decision of the half hour before (the report of a busy day took 3 s of its 2 s budget).
    """
    CREATE INDEX access_log_held_at ON access_log(at) WHERE reason = 'payment_due';
    """,
    # Migration 22 copied the openings by hand from the stays they closed through the stay's
    # exit_event, which the gateway before it never wrote: a box upgraded from it lost them all, and
    # its lanes showed a car let out by hand before the upgrade as still held (the next opening let
    # nobody out). They are found as that gateway found them: the last payment_due decision of the
    # car (its plate, or the car its card was taken for) in the half hour up to the stay's close.
    _openings_by_hand_found(_HELD_ON_ITS_CAR),
    # Migration 25 found those of cars held on their plate or their card's car only: a car held on
    # the QR of a pass without a plate (or on a resident's card that names no car), its stay the
    # pass's or the resident's, was let out by hand all the same, and after the upgrade the lane
    # still showed it held (the next opening let nobody out). Those are found by their holder, the
    # stay's subject. A stay migration 25 found already is left as it is: its opening is there, at
    # the stay's close at that lane (one opening lets one car out).
    _openings_by_hand_found(f"{_HELD_ON_ITS_CAR} OR ({_HELD_ON_ITS_HOLDER})", _FOUND_BY_25),
    # A monthly car that came in as a paying car after its period ran out (flag monthly_expired) and
    # was renewed while parked pays only for the time before the renewal: its billing stops then
    # (billed_until, gateway/store/renewals.py). Until now only a handover stopped a stay's billing,
    # and the daily report counts handovers by billed_until: why it stopped is kept beside it (NULL,
    # as for every stay before: a handover; 'renewal').
    """
    ALTER TABLE stays ADD COLUMN billed_until_cause TEXT;
    """,
    # A shared slot's second car renewed while parked and handed the slot later keeps the renewal's
    # billed_until (its billing stopped then), so the daily report, counting handovers by
    # billed_until, missed its handover, sent upstream all the same: when a stay was first handed a
    # slot is kept on its own (the handovers so far: their billed_until). And a missed-exit charge
    # that a guard's correction voided and a later one restored kept no trace of its void: a report
    # whose period ended while it was void, rebuilt, counted it, and the report of the restore
    # counted it nowhere. Each void a restore ended is kept (gateway/store/corrections.py).
    # A renewal taken back while the car is parked (or run out, or moved back) left its billing
    # stopped for good: the stay is billed again from the period's end (gateway/parking/book.py).
    # The end before each write of a renewed car's period is kept on its stay (monthly_until, as
    # migration 17 keeps a monthly car's), for the writer to say when billing resumed, at its own
    # time (gateway/store/renewals.py); the times billed again and stopped again by a later
    # renewal are kept as `from/until` pairs, `;` apart (billed_again).
    """
    ALTER TABLE stays ADD COLUMN billed_again TEXT;
    CREATE TRIGGER stays_keep_renewed_end AFTER UPDATE OF monthly_until ON vehicles
    WHEN OLD.monthly_until IS NOT NULL
    BEGIN
        UPDATE stays SET monthly_until = coalesce(monthly_until, OLD.monthly_until)
        WHERE vehicle_id = OLD.id AND exited_at IS NULL AND billed_until_cause = 'renewal';
    END;
    ALTER TABLE stays ADD COLUMN handed_over_at TEXT;
    UPDATE stays SET handed_over_at = billed_until
    WHERE billed_until IS NOT NULL AND billed_until_cause IS NULL;
    CREATE INDEX stays_handed_over ON stays(handed_over_at) WHERE handed_over_at IS NOT NULL;
    CREATE TABLE charges_restored (
        id INTEGER PRIMARY KEY,
        charge_id INTEGER NOT NULL REFERENCES charges(id),
        voided_at TEXT NOT NULL,
        restored_at TEXT NOT NULL
    );
    CREATE INDEX charges_restored_charge ON charges_restored(charge_id);
    CREATE INDEX charges_restored_at ON charges_restored(restored_at);
    """,
    # The outbox's seqs come in streams, one per database's run of them (gateway/runtime/
    # outbox_stream.py): a new box's fresh database under the same site id, or a box put back on an
    # older copy of its database, starts a stream of its own, so that the centre no longer takes
    # its seqs for the ones it already holds. Each stream from its first seq (its outbox_started
    # record) to the next one's. The highest seq handed out before this step, on a box upgraded
    # (none on a new database): those rows go up without a stream, as the older gateway sent them.
    f"""
    CREATE TABLE outbox_streams (
        first_seq INTEGER PRIMARY KEY,
        stream TEXT NOT NULL UNIQUE,
        previous_stream TEXT,
        reason TEXT NOT NULL,
        started_at TEXT NOT NULL
    );
    INSERT INTO config_seen (key, value, first_seen)
    SELECT 'outbox_before_streams', seq, {_NOW} FROM sqlite_sequence WHERE name = 'outbox' AND seq > 0;
    """,
    # A car renewed while parked (its billing stopped at the renewal, migration 27) and struck off
    # the register before it leaves kept no end of the period the renewal paid for: migration 28's
    # trigger keeps it only when the period is written, migration 17's only for a monthly stay. Its
    # billing stayed stopped for good, free however long it stayed past the period. It keeps the
    # end as a monthly car struck off does (docs/parking.md Monthly: it leaves as it would have on
    # the register, paying for the time after its period), when its vehicle is deleted and when its
    # stay stops naming the vehicle first (the plate's credential removed before the car: migration
    # 20's trigger), as migration 28's keeps it: an end kept already (billing resumed) stays. Stays
    # left so by the older gateway, with no end known, end now (as migration 17 mends its own).
    f"""
    CREATE TRIGGER stays_keep_renewed_end_struck_off BEFORE DELETE ON vehicles
    BEGIN
        UPDATE stays SET monthly_until = coalesce(monthly_until, OLD.monthly_until)
        WHERE vehicle_id = OLD.id AND exited_at IS NULL AND billed_until_cause = 'renewal';
    END;
    CREATE TRIGGER stays_keep_renewed_end_unnamed AFTER UPDATE OF vehicle_id ON stays
    WHEN OLD.vehicle_id IS NOT NULL AND NEW.vehicle_id IS NOT OLD.vehicle_id
    AND NEW.exited_at IS NULL AND NEW.billed_until_cause = 'renewal'
    BEGIN
        UPDATE stays SET monthly_until = coalesce(
            monthly_until, (SELECT v.monthly_until FROM vehicles v WHERE v.id = OLD.vehicle_id))
        WHERE id = NEW.id;
    END;
    UPDATE stays SET monthly_until = {_NOW}
    WHERE exited_at IS NULL AND billed_until_cause = 'renewal' AND vehicle_id IS NULL
    AND monthly_until IS NULL;
    """,
    # The highest alarm id told upstream without a stream: the older gateway's alarms (and, on a box
    # that ran migration 29 before this step, those its `upgrade` stream raised, which went up so).
    # Only they are told with `alarm_stream` null in an `upgrade` stream; alarms raised after carry
    # the stream (gateway/store/alarms.py): a box put back on its copy from before the upgrade
    # (README, going back) numbers its next alarm as the upgraded one did, and under a null
    # alarm_stream both named one alarm at the centre.
    f"""
    INSERT INTO config_seen (key, value, first_seen)
    SELECT 'alarms_before_streams', coalesce(max(id), 0), {_NOW} FROM alarms;
    """,
    # A car already inside that no entry of the gateway's let in (an estate's first day replacing
    # an old system; a car found parked whose entry a camera missed) is recorded by an admin or by
    # `gateway import-inside` (gateway/parking/inside.py): its stay has no entry event, and who
    # recorded it is kept here (NULL: its entry opened it), for the stays list and the upstream
    # `stay` record.
    """
    ALTER TABLE stays ADD COLUMN recorded_by TEXT;
    """,
    # A pass's messages upstream (topic `pass`) by the pass's id, for the hourly retention pass that
    # deletes or scrubs them with the pass (gateway/store/retention.py _PASS_MESSAGES, whose
    # expression must stay this one for SQLite to use the index). Without it each batch of expired
    # passes read the whole outbox, every decision's row kept as long as its access record, on the
    # decision worker: a card at the door waited half a second on a busy estate's box. Only the
    # pass rows are in it, and building it reads the outbox once (docs/benchmarks.md).
    """
    CREATE INDEX outbox_pass ON outbox(json_extract(payload, '$.pass.id')) WHERE topic = 'pass';
    """,
    # A car recorded inside (migration 32) since a time after which an exit let it out with no
    # entry record (no stay to close) was taken: it was counted inside and its slot read taken once
    # it had gone. The cars the vehicle exits let out, by the car each record names (access_log.car,
    # migration 22) and time, for gateway/parking/inside.py to find that exit without reading the
    # log. And whether a recorded stay's entered_at was typed (1: the admin's or the import's time,
    # a true one) or the clock's now (NULL, as an entry's): a stale boot clock set right re-dates
    # only the latter (gateway/store/redate.py).
    """
    CREATE INDEX access_log_exits ON access_log(car, at)
    WHERE admitted = 1 AND direction = 'exit' AND lane_type = 'vehicle';
    ALTER TABLE stays ADD COLUMN entered_typed INTEGER;
    """,
    # A car whose stay was decided again after its entry (gateway/parking/inside.py: on a slot it
    # came in on free, made the slot's second car when the car there first was recorded inside) is
    # counted in the daily report's entries as decided again: what its entry would have been, its
    # kind (`redecided_reason`) and flags (`redecided_flags`, comma-separated). Its access record is
    # kept as written (the log is append-only, and went upstream so): counted from it, the report
    # gave the car a resident's entry and a temporary exit. The report reads them by the entry's
    # event id, through an index of the few stays decided again.
    """
    ALTER TABLE stays ADD COLUMN redecided_reason TEXT;
    ALTER TABLE stays ADD COLUMN redecided_flags TEXT;
    CREATE INDEX stays_redecided_entry ON stays(entry_event) WHERE redecided_reason IS NOT NULL;
    """,
    # What of a booth payment paid the charges carried from earlier stays that it settled at its
    # stay's re-entry (gateway/store/parking.py carry_reentry): a payment is one row linked to one
    # charge, and the quote it paid asked those charges with the stay's fee. The rest paid the stay,
    # the figure its charge is owed less; counted whole, that charge owed less than nothing.
    """
    ALTER TABLE payments ADD COLUMN carried_fen INTEGER NOT NULL DEFAULT 0;
    """,
    # The tickets of cars with no plate (无牌-0303-07) in the access log and the stays, for the next
    # ticket to give (gateway/store/tickets.py next_ticket, in the entrance decision's transaction):
    # a ticket is never given again while any record kept names it, whatever that record's date (an
    # exit after midnight, never delivered to the centre, outlives its entry and its stay). Only the
    # rows of tickets are in them, so a plate's record costs nothing more to write; their WHERE must
    # stay word for word what the queries there say, for SQLite to use them.
    """
    CREATE INDEX access_log_tickets ON access_log(value)
    WHERE kind = 'plate' AND substr(value, 1, 3) = '无牌-';
    CREATE INDEX stays_tickets ON stays(plate) WHERE substr(plate, 1, 3) = '无牌-';
    """,
    # The passages on foot each card or QR was let through, for an exit door to find the person a
    # card or QR the register no longer knows let in (a resident deleted while at home, a pass
    # withdrawn while its visitor was in: gateway/store/lookup.py _struck_off_on_foot) without
    # reading the log, as most cards unknown at a door are strangers' never seen there. Its WHERE
    # must stay word for word what the query says, for SQLite to use it.
    """
    CREATE INDEX access_log_on_foot ON access_log(kind, value)
    WHERE admitted = 1 AND lane_type = 'pedestrian';
    """,
    # The payments of each stay, for the re-dating of a stale boot clock (gateway/store/redate.py
    # _stays: the payments made ahead at the booth by each car the boot let in, on the decision
    # worker while every lane waits) and the booth payments a stay's exit applies: payments are
    # kept for good, and without it each car read every payment ever taken (2 s for 200 cars on a
    # year's store). A payment for no stay is not in it; a query's `stay_id = ?` still uses it.
    """
    CREATE INDEX payments_stay ON payments(stay_id) WHERE stay_id IS NOT NULL;
    """,
    # A car on its own slot whose month had run out when it came in keeps, at the first write of
    # its period since, the end that period had then (stays.monthly_until: a car on its slot is
    # billed nothing, so the column is free): a renewal while it is parked so is then noted on its
    # stay as a paying car's is (gateway/store/renewals.py _RENEWED_ON_SLOT, at the writer's time),
    # and a record of a car inside from before its entry that makes it the slot's second car decides
    # it as it came in, its month run out, paying until the renewal (gateway/parking/inside.py).
    # Read from the register as it is after the renewal, it was decided monthly and left free.
    """
    CREATE TRIGGER stays_keep_lapsed_end_on_slot AFTER UPDATE OF monthly_until ON vehicles
    WHEN OLD.monthly_until IS NOT NULL
    BEGIN
        UPDATE stays SET monthly_until = OLD.monthly_until
        WHERE vehicle_id = OLD.id AND exited_at IS NULL AND billing = 'slot' AND monthly_until IS NULL
          AND billed_until_cause IS NULL AND OLD.monthly_until <= entered_at;
    END;
    """,
    # Every `access` record carries the lane's `direction` and `lane_type` as the access log keeps
    # them (docs/mqtt.md), for the centre to count entries and exits. Those an older gateway queued
    # without them (the link down at the upgrade) get them here, once, from their access record:
    # the rows then go up as this version writes them. Filled at send time instead, every record
    # sent would read the access log again, at thousands a second, for rows that exist only once.
    # The rows waiting (quarantined ones too: they may be put back in line) are found through their
    # indexes: the access records sent, kept as long as the log, are most of the outbox.
    """
    UPDATE outbox SET payload = (
        SELECT json_set(outbox.payload, '$.direction', a.direction, '$.lane_type', a.lane_type)
        FROM access_log a WHERE a.event_id = outbox.event_id)
    WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL
                  UNION ALL SELECT seq FROM outbox WHERE quarantined IS NOT NULL AND sent_at IS NULL)
      AND topic = 'access' AND json_type(payload, '$.direction') IS NULL
      AND EXISTS (SELECT 1 FROM access_log a WHERE a.event_id = outbox.event_id AND a.direction IS NOT NULL);
    """,
    # A car re-entering (its exit missed) under a gateway before migration 36 had its booth payments
    # put whole against the re-entry's charge, although the quote they paid asked the charges
    # carried from before with the stay's fee: those stayed owed, and the re-entry's charge owed less
    # than nothing (in at 09:00, in again at 12:00 with 9元 carried, 14元 paid at 13:00, in again at
    # 15:00: 9元 still owed, and -5元). A payment of what the booth asked next (4元) settled neither,
    # as a payment settles carried charges whole, oldest first, and the car was asked it again. Each
    # such charge is mended as gateway/store/parking.py carry_reentry now writes one: the payments
    # settle the car's older charges still owed, oldest first, each one whole, as far as they pay
    # (at the re-entry charge's time, naming its decision); what of them did so is kept on them
    # (carried_fen, from the first payment on); and the charge is at least what is left of them (no
    # refund). Each charge settled goes upstream settled, and the mended charge with its figures
    # (`"change": "repaired"`, docs/mqtt.md), dated at the charge's own time in the site's offset
    # once the gateway starts (DATED_IN_UTC), with an audit row (`gateway charge.repair`). One
    # charge after the other, oldest first, by a trigger on a work table: a later re-entry's
    # payments paid what the earlier one's mending leaves owed.
    f"""
    CREATE TEMP TABLE reentry_repairs (
        charge_id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL
    );
    CREATE TEMP TABLE reentry_settles (
        charge_id INTEGER PRIMARY KEY,
        reentry_id INTEGER NOT NULL,
        owed_fen INTEGER NOT NULL,
        event_id TEXT NOT NULL
    );
    CREATE TEMP TABLE reentry_spent (
        payment_id INTEGER PRIMARY KEY,
        reentry_id INTEGER NOT NULL,
        part_fen INTEGER NOT NULL
    );
    CREATE TEMP TRIGGER reentry_repair AFTER INSERT ON reentry_repairs
    BEGIN
        INSERT INTO reentry_settles (charge_id, reentry_id, owed_fen, event_id)
        SELECT id, NEW.charge_id, owed, {_EVENT_ID_42} FROM (
            SELECT id, owed, max(reached) OVER (ORDER BY at, id) AS reached_by_then FROM (
                SELECT c.id, c.at, {_OWED_42} AS owed, sum({_OWED_42}) OVER (ORDER BY c.at, c.id) AS reached
                FROM charges c JOIN charges r ON r.id = NEW.charge_id
                WHERE c.subject = r.subject AND c.id < r.id AND c.settled_at IS NULL AND c.voided_at IS NULL))
        WHERE reached_by_then <= {_paid_to_42("NEW.charge_id")};
        UPDATE charges SET settled_at = (SELECT r.at FROM charges r WHERE r.id = NEW.charge_id)
        WHERE id IN (SELECT charge_id FROM reentry_settles WHERE reentry_id = NEW.charge_id);
        INSERT INTO reentry_spent (payment_id, reentry_id, part_fen)
        SELECT id, NEW.charge_id, min(unspent, covered - before) FROM (
            SELECT p.id, p.amount_fen - p.carried_fen AS unspent,
                   coalesce(sum(p.amount_fen - p.carried_fen) OVER (
                       ORDER BY p.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
                   (SELECT coalesce(sum(owed_fen), 0) FROM reentry_settles
                    WHERE reentry_id = NEW.charge_id) AS covered
            FROM payments p WHERE p.charge_id = NEW.charge_id)
        WHERE covered > before;
        UPDATE payments SET carried_fen = carried_fen + (
            SELECT part_fen FROM reentry_spent WHERE payment_id = payments.id)
        WHERE id IN (SELECT payment_id FROM reentry_spent WHERE reentry_id = NEW.charge_id);
        UPDATE charges SET amount_fen = max(amount_fen, {_paid_to_42("NEW.charge_id")})
        WHERE id = NEW.charge_id;
        INSERT INTO outbox (event_id, topic, payload, created_at)
        SELECT s.event_id, 'charge', json_object(
            'v', 1, 'type', 'charge', 'event_id', s.event_id, 'at', r.at, 'change', 'settled',
            'charge_id', c.id, 'kind', c.kind, 'plate', c.plate, 'amount_fen', c.amount_fen,
            'paid_fen', c.amount_fen - s.owed_fen, 'owed_fen', s.owed_fen, 'settled', json('true'),
            'access_event_id', r.event_id), {_NOW}
        FROM reentry_settles s JOIN charges c ON c.id = s.charge_id JOIN charges r ON r.id = s.reentry_id
        WHERE s.reentry_id = NEW.charge_id ORDER BY c.at, c.id;
        INSERT INTO outbox (event_id, topic, payload, created_at)
        SELECT NEW.event_id, 'charge', json_object(
            'v', 1, 'type', 'charge', 'event_id', NEW.event_id, 'at', r.at, 'change', 'repaired',
            'charge_id', r.id, 'kind', r.kind, 'plate', r.plate, 'stay_id', r.stay_id,
            'amount_fen', r.amount_fen, 'paid_fen', {_paid_to_42("r.id")},
            'owed_fen', r.amount_fen - {_paid_to_42("r.id")}, 'settled', json('false'),
            'access_event_id', r.event_id), {_NOW}
        FROM charges r WHERE r.id = NEW.charge_id;
        INSERT INTO audit (at, actor, action, target, detail)
        SELECT {_NOW}, 'gateway', 'charge.repair', 'charge:' || r.id, json_object(
            'schema_step', 42, 'settled', (SELECT json_group_array(charge_id) FROM reentry_settles
                                           WHERE reentry_id = r.id),
            'carried_fen', (SELECT coalesce(sum(part_fen), 0) FROM reentry_spent WHERE reentry_id = r.id),
            'amount_fen', r.amount_fen, 'owed_fen', r.amount_fen - {_paid_to_42("r.id")})
        FROM charges r WHERE r.id = NEW.charge_id;
    END;
    INSERT INTO reentry_repairs (charge_id, event_id)
    SELECT c.id, {_EVENT_ID_42} FROM charges c
    WHERE c.kind = 'reentry' AND c.settled_at IS NULL AND c.voided_at IS NULL AND {_OWED_42} < 0
    ORDER BY c.id;
    INSERT INTO config_seen (key, value, first_seen)
    SELECT '{DATED_IN_UTC}', event_ids, {_NOW} FROM (
        SELECT json_group_array(event_id) AS event_ids FROM (
            SELECT event_id FROM reentry_settles UNION ALL SELECT event_id FROM reentry_repairs))
    WHERE event_ids != '[]';
    DROP TRIGGER temp.reentry_repair;
    DROP TABLE temp.reentry_repairs;
    DROP TABLE temp.reentry_settles;
    DROP TABLE temp.reentry_spent;
    """,
    # Alarms by the time they were cleared, the audit trail by time and patrol rounds by when they
    # were due, for the daily report (gateway/parking/report.py, faults.py) and the hourly retention
    # pass (gateway/store/retention.py _OLD_ALARMS, _OLD_ROUNDS): without them each read every alarm,
    # audit row or round kept (the rounds' key begins with the route), and a day's report, or a
    # retention batch on the decision worker with nothing due, got slower every day the box ran.
    # And each device's repair_overdue alarms (few: one per late repair), for the report's look at
    # what the centre was told of each fault of its day (faults.py _overdue_raised), which read every
    # alarm kept once per fault. Only those rows: a look at the open alarms of a kind keeps to
    # alarms_open.
    """
    CREATE INDEX alarms_cleared ON alarms(cleared_at) WHERE cleared_at IS NOT NULL;
    CREATE INDEX alarms_overdue ON alarms(source, raised_at) WHERE kind = 'repair_overdue';
    CREATE INDEX audit_at ON audit(at);
    CREATE INDEX patrol_rounds_due ON patrol_rounds(due_at);
    """,
    # A card or QR struck off the register, with the holder it had then and that holder's latest
    # admitted entry on foot on it (gateway/store/lookup.py _struck_off_on_foot): an exit door lets
    # it out as that holder once the register has forgotten them too (a resident deleted while at
    # home, a pass withdrawn while its visitor was in), and only as that holder. Read from the log
    # by whoever had entered on it last, a card handed back and issued to another resident let
    # that resident out as the one who held it before; a lost card struck off alone walked its
    # owner, at home, out of the people inside. Kept by a trigger, so every path that strikes a
    # credential off is covered (an admin, the central server, retention of a visitor's pass); a
    # card or QR struck off again is remembered as it was then, and forgotten where its holder
    # never entered on it. Remembered as long as access records are kept (retention.py
    # prune_access_records, by `at`, the box's clock as the trigger reads it).
    # Those struck off under an older release are remembered here too (_STRUCK_OFF_BEFORE_44).
    # And the people recorded inside on foot, through their own index, for retention to keep the
    # latest admitted entry on foot of each on each of their cards and QRs (as it keeps an open
    # stay's entry) until they leave or are struck off (retention.py
    # _NOT_AN_ENTRY_OF_SOMEONE_INSIDE): a resident at home longer than access records are kept,
    # then deleted, was kept in at the exit door, his only entry on foot deleted. The index's
    # WHERE must stay word for word what the query says, for SQLite to use it.
    f"""
    CREATE TABLE struck_off_on_foot (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        holder_kind TEXT NOT NULL,
        holder_id INTEGER NOT NULL,
        entry_id INTEGER NOT NULL,
        at TEXT NOT NULL,
        PRIMARY KEY (kind, value)
    ) WITHOUT ROWID;
    CREATE INDEX struck_off_on_foot_at ON struck_off_on_foot(at);
    CREATE TRIGGER struck_off_on_foot_remembered AFTER DELETE ON credentials
    WHEN OLD.kind IN ('card', 'qr')
    BEGIN
        DELETE FROM struck_off_on_foot WHERE kind = OLD.kind AND value = OLD.value;
        INSERT INTO struck_off_on_foot (kind, value, holder_kind, holder_id, entry_id, at)
        SELECT a.kind, a.value, a.holder_kind, a.holder_id, a.id, {_NOW} FROM access_log a
        WHERE a.kind = OLD.kind AND a.value = OLD.value AND a.admitted = 1 AND a.lane_type = 'pedestrian'
          AND a.direction = 'entrance'
          AND CASE WHEN OLD.resident_id IS NOT NULL
              THEN a.holder_kind = 'resident' AND a.holder_id = OLD.resident_id
              ELSE a.holder_kind != 'resident' AND a.holder_id = OLD.pass_id END
        ORDER BY a.id DESC LIMIT 1;
    END;
    CREATE INDEX presence_inside ON presence(subject) WHERE inside = 1;
    {_STRUCK_OFF_BEFORE_44}
    """,
    # Every `pass` record names the pass by the centre's `ref` too (docs/mqtt.md; null for one
    # registered at the booth): a central pass never goes up as created, so its check-out is the
    # first the centre hears of it. Those an older gateway queued without it (the link down at the
    # upgrade) get it here, once, from their pass, as migration 41 mends queued `access` records:
    # a central visitor checked out before the upgrade went up with no `ref`, and the centre still
    # showed her inside. A record whose pass is gone (retention) is left as it was:
    # its `ref` is not known. The pass rows are found through their index by pass id (migration
    # 33: its expression and WHERE as written there, for SQLite to use it), not among every row
    # waiting; quarantined ones too (they may be put back in line).
    """
    UPDATE outbox SET payload = (
        SELECT json_set(outbox.payload, '$.pass.ref', p.ref) FROM passes p
        WHERE p.id = json_extract(outbox.payload, '$.pass.id'))
    WHERE topic = 'pass' AND json_extract(payload, '$.pass.id') IN (SELECT id FROM passes)
      AND sent_at IS NULL AND json_type(payload, '$.pass.ref') IS NULL;
    """,
    # A visitor or contractor checked out at the booth while inside on foot is marked so where she
    # was last seen (presence.lane '(checked out)', gateway/store/lookup.py CHECKED_OUT), and the
    # exit door she then walks out through lets her out as a plain exit, her entry on record. An
    # older gateway's check-out left the lane of her entry there: after the upgrade her exit was
    # flagged 无入场记录 (no_entry_record). Its check-out is found as it wrote it: out since the
    # moment her pass was checked out (presence.at, passes.checked_out_at), not since an exit door.
    # Where NTP then set the stale clock the box booted on, the older gateway re-dated the pass's
    # check-out but not presence.at: the check-out's audit row (never re-dated; action
    # '<kind>.check_out', target 'pass:<id>') still holds the moment it wrote there, found through
    # its index on `at`.
    """
    UPDATE presence SET lane = '(checked out)'
    WHERE subject IN (
        SELECT p.kind || ':' || p.id FROM passes p
        JOIN presence s ON s.subject = p.kind || ':' || p.id
        WHERE p.kind IN ('visitor', 'contractor') AND p.checked_out_at IS NOT NULL AND s.inside = 0
          AND (s.at = p.checked_out_at OR EXISTS (
              SELECT 1 FROM audit a WHERE a.at = s.at AND a.action = p.kind || '.check_out'
                AND a.target = 'pass:' || p.id)));
    """,
    # A card or QR blocked when it is struck off (a lost card, reported and blocked, then struck off
    # and a new one issued) is not remembered for the exit door (gateway/store/lookup.py
    # _struck_off_on_foot): a block is a person's word that it opens nothing. Remembered, it opened
    # the exit door as its owner once he had moved out and was deleted, though he had walked out on
    # his new card. Migration 44's trigger made again so (its older self is left as it shipped);
    # those it remembered blocked are forgotten (_BLOCKED_WHEN_STRUCK_OFF_47). And each holder's
    # passages on foot, whatever the card or QR, for the exit door to tell whether the holder a card
    # struck off lets out was out already (their last passage an exit, on their new card too): read
    # by that card alone, an exit on the new card was missed and a finder's tap recorded as the
    # owner leaving. Its WHERE must stay word for word what the query says, for SQLite to use it.
    # And a block set or lifted at the booth names its holder as the centre knows it (`resident`,
    # `pass_ref`: docs/mqtt.md, registry): those records an older gateway queued without them (the
    # link down at the upgrade) get them here, once, as migrations 41 and 45 mend queued records;
    # one whose holder is gone since (_BLOCK_HOLDER_47) goes up as it was queued. The rows waiting
    # are found through their indexes, quarantined ones too (they may be put back in line). So are
    # the `pass` and `materials` records a release before 57ed245 queued with their own times in
    # UTC, listed for the gateway to date in the site's offset as it starts (DATED_IN_UTC_47).
    f"""
    DROP TRIGGER struck_off_on_foot_remembered;
    {_STRUCK_OFF_REMEMBERED_47}
    {_BLOCKED_WHEN_STRUCK_OFF_47}
    CREATE INDEX access_log_on_foot_by_holder ON access_log(holder_kind, holder_id)
    WHERE admitted = 1 AND lane_type = 'pedestrian';
    UPDATE outbox SET payload = (
        SELECT json_set(outbox.payload, '$.resident', h.resident, '$.pass_ref', h.pass_ref)
        FROM ({_BLOCK_HOLDER_47}) h)
    WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL
                  UNION ALL SELECT seq FROM outbox WHERE quarantined IS NOT NULL AND sent_at IS NULL)
      AND topic = 'registry' AND json_extract(payload, '$.entity') = 'credential'
      AND json_extract(payload, '$.op') IN ('block', 'unblock') AND json_type(payload, '$.id') IS NOT NULL
      AND (json_type(payload, '$.pass_ref') IS NULL OR json_type(payload, '$.resident') IS NULL)
      AND EXISTS ({_BLOCK_HOLDER_47});
    INSERT INTO config_seen (key, value, first_seen)
    SELECT '{DATED_IN_UTC_47}', event_ids, {_NOW} FROM (
        SELECT json_group_array(event_id) AS event_ids FROM outbox
        WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL
                      UNION ALL SELECT seq FROM outbox WHERE quarantined IS NOT NULL AND sent_at IS NULL)
          AND topic IN ('pass', 'materials') AND ({_ANY_IN_UTC_47}))
    WHERE event_ids != '[]';
    """,
    # A card's, plate's or QR's id (credentials) and a slot's are never given to another either, as
    # migration 12 made residents', vehicles' and passes': SQLite gives the newest deleted id to the
    # next row, so a guard's 禁用 on a lookup page drawn before an admin deleted that card blocked
    # the card issued since to another resident (locked out at the door), and a stale 删除 of a slot
    # deleted another household's. The tables are rebuilt with AUTOINCREMENT (_migrate turns
    # foreign keys off around it), their columns, indexes and triggers as they were (migrations 1,
    # 20 and 47's), each sequence above every id its rows, the audit trail, the records for the
    # centre and, for a slot, the log and stays name.
    f"""
    CREATE TABLE credentials_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('card', 'plate', 'qr')),
        value TEXT NOT NULL,
        resident_id INTEGER REFERENCES residents(id) ON DELETE CASCADE,
        pass_id INTEGER REFERENCES passes(id) ON DELETE CASCADE,
        vehicle_id INTEGER REFERENCES vehicles(id) ON DELETE SET NULL,
        valid_from TEXT,
        valid_to TEXT,
        hours TEXT NOT NULL DEFAULT '',
        blocked INTEGER NOT NULL DEFAULT 0,
        UNIQUE (kind, value),
        CHECK ((resident_id IS NULL) != (pass_id IS NULL))
    );
    INSERT INTO credentials_new SELECT id, kind, value, resident_id, pass_id, vehicle_id, valid_from,
        valid_to, hours, blocked FROM credentials;
    DROP TABLE credentials;
    ALTER TABLE credentials_new RENAME TO credentials;
    CREATE INDEX credentials_resident ON credentials(resident_id);
    CREATE INDEX credentials_vehicle ON credentials(vehicle_id);
    CREATE INDEX credentials_pass ON credentials(pass_id);
    {_PLATE_FOLLOWED_20}
    {_STRUCK_OFF_REMEMBERED_47}

    CREATE TABLE slots_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        zone TEXT NOT NULL,
        number TEXT NOT NULL,
        resident_id INTEGER REFERENCES residents(id) ON DELETE SET NULL,
        UNIQUE (zone, number)
    );
    INSERT INTO slots_new SELECT id, zone, number, resident_id FROM slots;
    DROP TABLE slots;
    ALTER TABLE slots_new RENAME TO slots;
    CREATE INDEX slots_resident ON slots(resident_id);
    CREATE TRIGGER slots_counted AFTER INSERT ON slots BEGIN
        INSERT INTO zone_slots (zone, fixed) VALUES (NEW.zone, 1)
        ON CONFLICT (zone) DO UPDATE SET fixed = fixed + 1;
    END;
    CREATE TRIGGER slots_uncounted AFTER DELETE ON slots BEGIN
        UPDATE zone_slots SET fixed = fixed - 1 WHERE zone = OLD.zone;
    END;

    DELETE FROM sqlite_sequence WHERE name IN ('credentials', 'slots');
    INSERT INTO sqlite_sequence (name, seq) VALUES
        ('credentials', {
        _highest_named_48(
            "credentials",
            "'card.add', 'card.delete', 'plate.delete', 'qr.delete'",
            "'card', 'plate', 'qr', 'credential'",
        )
    }),
        ('slots', {
        _highest_named_48(
            "slots",
            "'slot.add', 'slot.delete'",
            "'slot'",
            " UNION ALL SELECT slot_id FROM access_log UNION ALL SELECT slot_id FROM stays"
            + _SLOTS_IN_RECORDS_48,
        )
    });
    """,
    # The vehicle exits whose barrier did not open (no relay of the lane took the pulse: 道闸故障),
    # the stay each closed put back open (gateway/store/exits_put_back.py put_back). The exit's access
    # record is kept as written (append-only), as the attempt: read as the passage it looks like, a
    # guard's opening by hand found no car at that barrier (gateway/store/holds.py refused_at_lane)
    # and the daily report counted the car's exit twice (gateway/parking/report.py). Goes with its
    # access record (gateway/store/retention.py).
    """
    CREATE TABLE IF NOT EXISTS exits_put_back (
        event_id TEXT PRIMARY KEY,
        stay_id INTEGER NOT NULL
    ) WITHOUT ROWID;
    """,
    # An exit whose barrier did not open that closed no stay: a car with no entry record that paid
    # its day's fee there (exit_without_entry = "charge"), kept as put back with no stay (stay_id
    # NULL), so that it leaves on what it paid (gateway/store/exits_put_back.py put_back). Rebuilt, as
    # SQLite changes a column; each step can run again over a newer schema (a box made at schema
    # 43 from a new database runs the migrations after 43 again: tests/parking/
    # test_fix45c_doors_upgrade.py).
    """
    CREATE TABLE IF NOT EXISTS exits_put_back_new (
        event_id TEXT PRIMARY KEY,
        stay_id INTEGER
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO exits_put_back_new (event_id, stay_id) SELECT event_id, stay_id FROM exits_put_back;
    DROP TABLE exits_put_back;
    ALTER TABLE exits_put_back_new RENAME TO exits_put_back;
    """,
    # A Wiegand number registered without its leading zeros (54:15694, as a supplier's sheet or
    # Excel writes 054:15694) stored as the reader spells it (gateway/core/credentials.py
    # canonical, card_forms.spelled), as an import, the API and the centre now write it, so that
    # they name the same row. Where the reader's spelling is registered too, the row is left for the
    # admin (an import says it repeats). The old spelling is kept (cards_respelled) for the access
    # log's passages made before (gateway/store/card_respell.py), and the trigger remembering a card
    # struck off for the exit door asks for it too.
    f"""
    CREATE TABLE IF NOT EXISTS cards_respelled (spelled TEXT PRIMARY KEY, was TEXT NOT NULL) WITHOUT ROWID;
    CREATE TEMP TABLE card_respelled AS
    SELECT id, value AS was, {spelled_sql("value")} AS spelled FROM credentials WHERE kind = 'card';
    DELETE FROM card_respelled WHERE spelled IS NULL OR spelled = was
        OR spelled IN (SELECT value FROM credentials WHERE kind = 'card')
        OR id > (SELECT min(r.id) FROM card_respelled r WHERE r.spelled = card_respelled.spelled);
    INSERT INTO audit (at, actor, action, target, detail)
    SELECT {_NOW}, 'gateway', 'card.respell', 'credential:' || id, json_object('schema_step', 51)
    FROM card_respelled ORDER BY id;
    INSERT OR REPLACE INTO cards_respelled (spelled, was) SELECT spelled, was FROM card_respelled;
    UPDATE credentials SET value = (SELECT spelled FROM card_respelled r WHERE r.id = credentials.id)
    WHERE id IN (SELECT id FROM card_respelled);
    DROP TABLE card_respelled;
    DROP TRIGGER IF EXISTS struck_off_on_foot_remembered;
    {_STRUCK_OFF_REMEMBERED_51}
    """,
    # The grace to leave each payment was given (parking.grace_minutes then: the receipt's leave_by),
    # kept so that a grace lowered in the config since does not ask a car that paid before for more
    # within what its receipt said (gateway/parking/book.py fee_end). Payments made before this
    # step have none: the config's counts for them.
    """
    CREATE TABLE IF NOT EXISTS payment_graces (
        payment_id INTEGER PRIMARY KEY,
        grace_s INTEGER NOT NULL
    );
    """,
    # A device back online whose device_offline alarm waits to clear until it has stayed online
    # `[alarms] clear_after_s` (gateway/store/device_returns.py): when it came back, kept across a
    # restart. Gone again within that time, the row goes and the alarm stays the one open, its
    # repair deadline counting from its first going off; however the alarm ends, its row goes.
    """
    CREATE TABLE IF NOT EXISTS device_returns (
        alarm_id INTEGER PRIMARY KEY,
        back_at TEXT NOT NULL
    );
    CREATE TRIGGER IF NOT EXISTS device_return_ends AFTER UPDATE OF cleared_at ON alarms
    WHEN NEW.cleared_at IS NOT NULL BEGIN
        DELETE FROM device_returns WHERE alarm_id = NEW.id;
    END;
    """,
    # The kind of document a visitor's (or a person's in her car) ID number is from: a passport, a
    # Hong Kong/Macau or Taiwan permit, a foreign permanent residence ID, besides the resident ID
    # card every number stored before this step was checked as (gateway/privacy.py IdKind). Unlike
    # the steps that make tables (IF NOT EXISTS), it cannot run again over a newer schema: a test
    # that sets user_version back drops these columns first (tests/parking/test_fix45c_doors_upgrade.py).
    """
    ALTER TABLE passes ADD COLUMN id_kind TEXT NOT NULL DEFAULT 'resident_id';
    ALTER TABLE pass_people ADD COLUMN id_kind TEXT NOT NULL DEFAULT 'resident_id';
    """,
    # What the guard did about an alarm, as he wrote it acknowledging it (gateway/store/alarms.py
    # acknowledge_alarm): shown in the alarm list and sent in its `acknowledged` record, where it was
    # kept in the audit trail only. Empty for those acknowledged before, whose note stays there. As
    # 54's, it cannot run again over a newer schema (tests/parking/test_fix45c_doors_upgrade.py).
    """
    ALTER TABLE alarms ADD COLUMN acknowledged_note TEXT NOT NULL DEFAULT '';
    """,
    # The last alarm raised before an event alarm (a forced barrier) ended unacknowledged stays on
    # the guard's list and badge until he acknowledges it (gateway/store/alarms.py
    # ON_THE_GUARDS_LIST), and those of them still open then: those that had ended ended unseen
    # under the rule of their day, and an upgrade does not bring months of them back onto the
    # booth's tablet at once; one still open (a barrier forced just before the upgrade, found down
    # at the start after it) ends under the new rule, and stays until acknowledged. One open alarm
    # at most per kind and source: a short list.
    f"""
    INSERT OR IGNORE INTO config_seen (key, value, first_seen)
    SELECT 'alarms_before_events_kept', coalesce(max(id), 0), {_NOW} FROM alarms;
    INSERT OR IGNORE INTO config_seen (key, value, first_seen)
    SELECT 'alarms_open_when_events_kept', json_group_array(id), {_NOW} FROM alarms WHERE cleared_at IS NULL;
    """,
    # Where a guard's shift begins among the payments (gateway/store/shifts.py): for his login's
    # or his handover's audit row, the newest payment written before it. A shift holds the
    # payments written after its row, by id, not those dated after it: a clock set back dates the
    # fees taken since before the login, and a fee waiting on the worker while the handover is
    # written is dated before it but written after. Logins before this step have none (the
    # payments dated from the login count, as before). A mark goes with its audit row (retention).
    """
    CREATE TABLE IF NOT EXISTS shift_marks (
        audit_id INTEGER PRIMARY KEY,
        payment_id INTEGER NOT NULL
    );
    CREATE TRIGGER IF NOT EXISTS shift_mark_goes AFTER DELETE ON audit BEGIN
        DELETE FROM shift_marks WHERE audit_id = OLD.id;
    END;
    """,
    # The charges voided, by when (gateway/parking/report.py _REVERSED): a daily report takes off a
    # charge an earlier report counted that was voided in its period (冲红), found among the few
    # voided, where the charges are kept for good.
    """
    CREATE INDEX IF NOT EXISTS charges_voided ON charges(voided_at) WHERE voided_at IS NOT NULL;
    """,
    # Event clips (gateway/runtime/event_clips.py): each clip a lane's camera cut for an alarm or an
    # opening by hand, tied to that alarm or audit row, so that a page finds it by the event, not
    # by a time a clock step could move. A row goes with its alarm or audit row (retention); its
    # file goes with the snapshots (retention.snapshots_days), and a page lists only files there.
    """
    CREATE TABLE IF NOT EXISTS event_clips (
        file TEXT PRIMARY KEY,
        camera TEXT NOT NULL,
        alarm_id INTEGER,
        audit_id INTEGER
    );
    CREATE INDEX IF NOT EXISTS event_clips_alarm ON event_clips(alarm_id) WHERE alarm_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS event_clips_audit ON event_clips(audit_id) WHERE audit_id IS NOT NULL;
    CREATE TRIGGER IF NOT EXISTS event_clip_goes_with_alarm AFTER DELETE ON alarms BEGIN
        DELETE FROM event_clips WHERE alarm_id = OLD.id;
    END;
    CREATE TRIGGER IF NOT EXISTS event_clip_goes_with_audit AFTER DELETE ON audit BEGIN
        DELETE FROM event_clips WHERE audit_id = OLD.id;
    END;
    """,
    # A `materials` record names its pass by the centre's `ref` too (`pass_ref`, docs/mqtt.md; null
    # for a pass registered at the booth, or none): the gateway's `pass_id` of a pass the centre sent
    # down reaches it only in a `checked_out` record, which a crew's pass that runs out never gets.
    # Those an older gateway queued without it (the link down at the upgrade) get it here, once,
    # from their pass, as migration 47 mends a booth block's record; one whose pass is gone since
    # (retention) goes up as it was queued. Found through the indexes of the rows waiting,
    # quarantined ones too (they may be put back in line).
    """
    UPDATE outbox SET payload = json_set(payload, '$.record.pass_ref', (
        SELECT p.ref FROM passes p WHERE p.id = json_extract(outbox.payload, '$.record.pass_id')))
    WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL
                  UNION ALL SELECT seq FROM outbox WHERE quarantined IS NOT NULL AND sent_at IS NULL)
      AND topic = 'materials' AND json_type(payload, '$.record.pass_ref') IS NULL
      AND (json_type(payload, '$.record.pass_id') IS NOT 'integer'
           OR json_extract(payload, '$.record.pass_id') IN (SELECT id FROM passes));
    """,
    # An `access` record's `holder` names the holder by the centre's `ref` too (docs/mqtt.md; null
    # for a pass registered at the booth): its `id` is the gateway's own, which the centre learns of
    # a pass it sent down only from a `checked_out` record a pass that runs out never gets. Those an
    # older gateway queued without it (the link down at the upgrade) get it here, once, from the
    # holder as the register has them; one whose holder is gone since (deleted, withdrawn,
    # retention) goes up as it was queued, as migration 60 leaves a materials record. Through the
    # indexes of the rows waiting, quarantined ones too (they may be put back in line).
    """
    UPDATE outbox SET payload = json_set(payload, '$.holder.ref', CASE json_extract(payload, '$.holder.kind')
        WHEN 'resident' THEN (SELECT r.ref FROM residents r WHERE r.id = json_extract(payload, '$.holder.id'))
        ELSE (SELECT p.ref FROM passes p WHERE p.id = json_extract(payload, '$.holder.id')) END)
    WHERE seq IN (SELECT seq FROM outbox WHERE sent_at IS NULL AND quarantined IS NULL
                  UNION ALL SELECT seq FROM outbox WHERE quarantined IS NOT NULL AND sent_at IS NULL)
      AND topic = 'access' AND json_type(payload, '$.holder') = 'object'
      AND json_type(payload, '$.holder.ref') IS NULL
      AND CASE json_extract(payload, '$.holder.kind')
          WHEN 'resident' THEN json_extract(payload, '$.holder.id') IN (SELECT id FROM residents)
          ELSE json_extract(payload, '$.holder.id') IN (SELECT id FROM passes) END;
    """,
    # People on foot inside on one subject (gateway/store/record.py): a pass registered for several
    # (人数: a crew, a family) lets each of them in on its QR, each counted inside (Review 60b: the
    # 2nd to 4th of a crew refused already inside, the people inside one). Read while inside = 1;
    # everyone inside before this is one person.
    """
    ALTER TABLE presence ADD COLUMN people INTEGER NOT NULL DEFAULT 1;
    """,
    # A snapshot owed to the register (gateway/sync/directory.py _give_up): one given up `not_staged`
    # (its staging child killed: out of memory) is asked for after resync_interval_s, and the centre
    # told so; kept here, when it was given up, so that a restart before then (the OOM killer, a
    # reboot) still asks for it (Review 60aa). Cleared as a snapshot goes in (apply.py _finish).
    """
    ALTER TABLE sync_state ADD COLUMN snapshot_owed_at TEXT;
    """,
    # The plates an exit refused as cars with no entry record, by time (gateway/store/holds.py: one a
    # guard corrected is the corrected car's hold): each plate decision at a lane looked back
    # through half an hour of every decision for them, and a busy lane's plate p99 doubled.
    """
    CREATE INDEX access_log_no_entry_refused ON access_log(at)
        WHERE admitted = 0 AND instr(',' || flags || ',', ',no_entry_record,') > 0;
    """,
    # Whether a patrol tap is a guard's (gateway/parking/patrol.py not_counted): why it walks no
    # round (a card on the register, not one of [patrol] guard_cards, blocked), NULL for one that
    # does. The taps an older version recorded (any card walked a round then) count as they did.
    """
    ALTER TABLE patrol_taps ADD COLUMN not_counted TEXT;
    """,
    # The outbox stream each row the centre keys by a gateway id was made in (gateway/store/
    # id_streams.py): a database numbers its receipts, charges, stays, passes and materials records
    # itself, and a copy put back (README, going back; a power cut with storage.sync = "normal")
    # numbers them on from where it stands, in a stream of its own. A payment taken before and
    # corrected after went up naming the new stream, a payment the centre never had, and the copy's
    # charge 2 was another car's charge 2 at the centre (Review 64B). Set as a row is made, from
    # the stream its records then go up in (NULL on a database with none yet: its first stream
    # gives it, gateway/store/outbox.py start_stream). The rows made before this step take the
    # stream in force when they were made, the newest started by then (not the stream of now: a
    # payment taken before a copy was put back, corrected after the upgrade, named a receipt the
    # centre never had, Review 64Rd); one made before the first, that first stream. A table hands
    # its ids out in order, so a stream's rows begin at the first row whose own time is at or
    # after the stream's start: a stay recorded inside later, with the earlier hour its car came
    # in, is the stream's too. (Unreleased when this backfill replaced the stream of now.)
    "".join(
        f"""
        ALTER TABLE {table} ADD COLUMN id_stream TEXT;
        CREATE TRIGGER {table}_id_stream AFTER INSERT ON {table} BEGIN
            UPDATE {table} SET id_stream = ({_STREAM_NOW}) WHERE id = NEW.id;
        END;
        CREATE TEMP TABLE made_from AS SELECT first_seq, stream,
            (SELECT min(id) FROM {table} WHERE {made} >= started_at) AS first_id FROM outbox_streams;
        UPDATE {table} SET id_stream = coalesce(
            (SELECT stream FROM made_from WHERE first_id <= {table}.id ORDER BY first_seq DESC LIMIT 1),
            (SELECT stream FROM outbox_streams ORDER BY first_seq LIMIT 1));
        DROP TABLE made_from;
        """
        for table, made in (
            ("payments", "at"),
            ("charges", "at"),
            ("stays", "entered_at"),
            ("passes", "created_at"),
            ("materials_out", "at"),
        )
    ),
    # The refusals at a closed lane (lane_closed), by time. Made for a rule that ran a car's fee at
    # a closed exit to its first refusal there (Review 64a), taken back the same day (docs/parking.md,
    # the limit under *At the exit lane*): no query uses it now; kept so that the numbers stand.
    """
    CREATE INDEX access_log_lane_closed ON access_log(at) WHERE reason = 'lane_closed';
    """,
    # The audit trail by person and by action, without regard to case as the audit page's filter
    # reads them (gateway/store/audit.py): the page for one guard, or for a card's blocks, read the
    # whole trail to find his few rows and count them, a busy year's 330,000 (Review 64E). Some
    # 6 to 8 MB each for that year. A query that compares either without regard to case (a guard's
    # login in the shift's 36 hours, a day's `stay.%` rows for its report) keeps to the time index
    # by name.
    """
    CREATE INDEX audit_actor ON audit(actor COLLATE NOCASE);
    CREATE INDEX audit_action ON audit(action COLLATE NOCASE);
    """,
    # When the gateway itself was not running (gateway/store/gateway_down.py), for the daily report
    # and its closed-management summary: a power cut from 08:00 to 20:00 read as a quiet day there
    # (Review 65 D3). The operations thread writes its heartbeat about once a minute, one row
    # overwritten (the kernel's boot id with it, and whether the stop was a clean one), and each
    # start keeps the stretch from the last heartbeat to itself. An upgraded box has no heartbeat
    # yet: its first start keeps no stretch.
    """
    CREATE TABLE gateway_heartbeat (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at TEXT NOT NULL,
        boot TEXT NOT NULL,
        clean INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE gateway_down (
        id INTEGER PRIMARY KEY,
        from_at TEXT NOT NULL,
        to_at TEXT NOT NULL,
        clean INTEGER NOT NULL,
        from_boot TEXT NOT NULL
    );
    CREATE INDEX gateway_down_to ON gateway_down(to_at);
    """,
    # How far a `gateway import` got (gateway/store/csv_steps.py): the last position in its order of
    # steps that is in the store, written in each step's own transaction, as sync_state.applying_done
    # is for the central server's snapshot. One cut short (SSH dropped, a power cut) was written
    # again from its first row by the next run: a card deleted or blocked at the booth meanwhile was
    # back, or unblocked, and opened the door (Review 65A). One row: one import runs at a time.
    """
    CREATE TABLE import_steps (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        import_id TEXT NOT NULL,
        done INTEGER NOT NULL
    );
    """,
    # The audit trail by person and action together (gateway/store/audit.py), without regard to
    # case as migration 68's: the page for what one guard opened by hand (`guard2`, `lane.open`)
    # read each of his rows, a year's, to find those few and count them (Review 65H). Each entry
    # ends with the row's id, so a person's rows of one action come newest first from it. Some 8 MB
    # for a busy year's 330,000 rows.
    """
    CREATE INDEX audit_actor_action ON audit(actor COLLATE NOCASE, action COLLATE NOCASE);
    """,
    # The gateway's heartbeat (migration 69) keeps when heartbeats began (`began`: the first start
    # that found none), and the monotonic clock at each (`mono`, time.monotonic(), with the kernel's
    # boot id it already has). A report of a day before the upgrade, rebuilt after it, read "ran
    # through" (gateway_down 0) for a day nobody kept (Review 65 Rd3): one whose period starts
    # before `began` has gateway_down null. A start within the same boot counts its stretch by the
    # monotonic clock, which a step of the wall clock while the service was stopped does not move: a
    # five-minute stop to set a clock a day behind was a day down. A box kept heartbeats since its
    # first stretch at least.
    """
    ALTER TABLE gateway_heartbeat ADD COLUMN began TEXT;
    ALTER TABLE gateway_heartbeat ADD COLUMN mono REAL;
    UPDATE gateway_heartbeat SET began = coalesce((SELECT min(from_at) FROM gateway_down), at);
    """,
    # The flat materials left from (gateway/store/materials.py): the room typed with the unit
    # (2单元1201, 3栋2单元1201, or in its own field) or the pass's own, as the register writes it.
    # Read to find the unit, then dropped: the centre was told 3栋 2单元, a stairwell of two
    # households, and could not tell which owner to inform (Review 66 E1). Records made before
    # have none ('').
    """
    ALTER TABLE materials_out ADD COLUMN host_room TEXT NOT NULL DEFAULT '';
    """,
    # When each account last logged in (gateway/store/accounts.py create_session, one write a
    # login), for the admin page, /api/accounts and `gateway user list` beside who made it and
    # when: the installer's old account could not be told from the others a year on (Review 67
    # D4). An upgraded box takes each account's newest login the audit trail still holds (by
    # migration 71's index), none where the trail holds none.
    """
    ALTER TABLE accounts ADD COLUMN last_login_at TEXT;
    UPDATE accounts SET last_login_at = (
        SELECT at FROM audit INDEXED BY audit_actor_action
        WHERE actor = accounts.username COLLATE NOCASE AND action = 'session.login' COLLATE NOCASE
        ORDER BY id DESC LIMIT 1
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
