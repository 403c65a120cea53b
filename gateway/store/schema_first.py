"""The first twelve schema migrations (the gateway as issues 1-7 built it, then the mends of its first
year in service); gateway/store/schema.py goes on from 13. Each step runs once, in order; PRAGMA
user_version counts them.

Never edit a step that has shipped: add a new one. The helpers here build shipped steps' SQL (some
of migration 13's and 20's too), so they are never to be changed either.
"""

from __future__ import annotations


def parked(plate: str) -> str:
    """Migration 10's trigger condition: the plate's car is inside. Nothing to move otherwise, and a
    large import of plates (none of them parked) runs no statement for them."""
    return f"EXISTS (SELECT 1 FROM stays WHERE plate = {plate} AND exited_at IS NULL)"


def follow(plate: str, subject: str) -> str:
    """A trigger's body in migration 10 (so, once shipped, never to be changed): the open stay of
    `plate`, with its booth payments not yet applied and its charges not yet settled, moves to
    `subject`."""
    open_stay = f"SELECT subject FROM stays WHERE plate = {plate} AND exited_at IS NULL"
    of_open_stay = f"plate = {plate} AND subject IN ({open_stay})"
    return (
        f"UPDATE payments SET subject = {subject} WHERE charge_id IS NULL AND {of_open_stay}; "
        f"UPDATE charges SET subject = {subject} WHERE settled_at IS NULL AND {of_open_stay}; "
        f"UPDATE stays SET subject = {subject} WHERE plate = {plate} AND exited_at IS NULL;"
    )


def highest_named(table: str, logged: str, subject_kinds: tuple[str, ...]) -> str:
    """SQL for the highest id of `table` named anywhere: its rows, the access log (`logged`), and
    the `kind:N` subjects of presence, stays, charges and payments (money is never pruned: a
    charge still owed names its holder long after the pass is gone).

    Migrations 12 and 13 have shipped with it: a change here changes them (as one to this made
    migration 12 differ between boxes), so a step needing another rule gets a helper of its own."""
    number = "CAST(substr(subject, instr(subject, ':') + 1) AS INTEGER)"
    named = " OR ".join(f"subject LIKE '{kind}:%'" for kind in subject_kinds)
    subjects = "\n".join(
        f"        UNION ALL SELECT {number} FROM {t} WHERE {named}"
        for t in ("presence", "stays", "charges", "payments")
    )
    return f"""(SELECT coalesce(max(id), 0) FROM (
        SELECT id FROM {table}
        UNION ALL {logged}
{subjects}))"""


FIRST_MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE residents (
        id INTEGER PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,
        building TEXT NOT NULL,
        unit TEXT NOT NULL,
        room TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL,
        phone_masked TEXT NOT NULL DEFAULT '',
        phone_hash TEXT NOT NULL DEFAULT '',
        valid_from TEXT,
        valid_to TEXT,
        blocked INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX residents_unit ON residents(building, unit);
    CREATE INDEX residents_phone ON residents(phone_hash) WHERE phone_hash != '';

    CREATE TABLE vehicles (
        id INTEGER PRIMARY KEY,
        plate TEXT NOT NULL UNIQUE,
        class TEXT NOT NULL DEFAULT 'car' CHECK (class IN ('car', 'motorcycle', 'bicycle')),
        resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
        monthly_until TEXT
    );
    CREATE INDEX vehicles_resident ON vehicles(resident_id);

    CREATE TABLE passes (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('visitor', 'contractor')),
        name TEXT NOT NULL,
        phone_masked TEXT NOT NULL DEFAULT '',
        phone_hash TEXT NOT NULL DEFAULT '',
        id_masked TEXT NOT NULL DEFAULT '',
        id_hash TEXT NOT NULL DEFAULT '',
        host_building TEXT NOT NULL DEFAULT '',
        host_unit TEXT NOT NULL DEFAULT '',
        company TEXT NOT NULL DEFAULT '',
        destination TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        passengers INTEGER NOT NULL DEFAULT 1,
        plate TEXT,
        valid_from TEXT NOT NULL,
        valid_to TEXT NOT NULL,
        hours TEXT NOT NULL DEFAULT '',
        registered_fields TEXT NOT NULL DEFAULT '',
        blocked INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL DEFAULT '',
        checked_out_at TEXT
    );
    CREATE INDEX passes_phone ON passes(phone_hash) WHERE phone_hash != '';
    CREATE INDEX passes_id ON passes(id_hash) WHERE id_hash != '';
    CREATE INDEX passes_valid ON passes(valid_to);

    CREATE TABLE credentials (
        id INTEGER PRIMARY KEY,
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
    CREATE INDEX credentials_resident ON credentials(resident_id);
    CREATE INDEX credentials_vehicle ON credentials(vehicle_id);
    CREATE INDEX credentials_pass ON credentials(pass_id);

    CREATE TABLE slots (
        id INTEGER PRIMARY KEY,
        zone TEXT NOT NULL,
        number TEXT NOT NULL,
        resident_id INTEGER REFERENCES residents(id) ON DELETE SET NULL,
        UNIQUE (zone, number)
    );
    CREATE TABLE slot_vehicles (
        slot_id INTEGER NOT NULL REFERENCES slots(id) ON DELETE CASCADE,
        vehicle_id INTEGER NOT NULL REFERENCES vehicles(id) ON DELETE CASCADE,
        PRIMARY KEY (slot_id, vehicle_id)
    ) WITHOUT ROWID;
    CREATE INDEX slot_vehicles_vehicle ON slot_vehicles(vehicle_id);

    -- Fixed slots per zone, kept by triggers so a decision never counts 50,000 rows.
    CREATE TABLE zone_slots (zone TEXT PRIMARY KEY, fixed INTEGER NOT NULL);
    CREATE TRIGGER slots_counted AFTER INSERT ON slots BEGIN
        INSERT INTO zone_slots (zone, fixed) VALUES (NEW.zone, 1)
        ON CONFLICT (zone) DO UPDATE SET fixed = fixed + 1;
    END;
    CREATE TRIGGER slots_uncounted AFTER DELETE ON slots BEGIN
        UPDATE zone_slots SET fixed = fixed - 1 WHERE zone = OLD.zone;
    END;

    -- A vehicle inside the estate; exited_at is NULL while it is in.
    CREATE TABLE stays (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        plate TEXT,
        vehicle_id INTEGER,
        class TEXT NOT NULL DEFAULT 'car',
        zone TEXT,
        slot_id INTEGER,
        billing TEXT,
        entered_at TEXT NOT NULL,
        entry_event TEXT,
        exited_at TEXT,
        exit_event TEXT,
        closed_by TEXT
    );
    CREATE INDEX stays_open_subject ON stays(subject) WHERE exited_at IS NULL;
    CREATE INDEX stays_open_shared ON stays(zone, class) WHERE exited_at IS NULL AND slot_id IS NULL;
    CREATE INDEX stays_open_slot ON stays(slot_id) WHERE exited_at IS NULL;

    -- People on foot: inside or not, for anti-passback at pedestrian lanes.
    CREATE TABLE presence (
        subject TEXT PRIMARY KEY,
        inside INTEGER NOT NULL,
        lane TEXT NOT NULL,
        at TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE access_log (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        lane TEXT NOT NULL,
        device TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        confidence REAL NOT NULL,
        admitted INTEGER NOT NULL,
        reason TEXT NOT NULL,
        billing TEXT,
        flags TEXT NOT NULL DEFAULT '',
        holder_kind TEXT,
        holder_id INTEGER,
        vehicle_id INTEGER,
        slot_id INTEGER,
        snapshot TEXT
    );
    CREATE INDEX access_log_at ON access_log(at);
    CREATE INDEX access_log_lane ON access_log(lane, id);
    CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log BEGIN
        SELECT RAISE(ABORT, 'access_log is append-only');
    END;

    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        payload TEXT NOT NULL,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        quarantined TEXT
    );
    CREATE INDEX outbox_pending ON outbox(seq) WHERE sent_at IS NULL AND quarantined IS NULL;

    CREATE TABLE alarms (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        source TEXT NOT NULL,
        message TEXT NOT NULL,
        raised_at TEXT NOT NULL,
        cleared_at TEXT,
        acknowledged_at TEXT,
        acknowledged_by TEXT
    );
    CREATE UNIQUE INDEX alarms_open ON alarms(kind, source) WHERE cleared_at IS NULL;

    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT ''
    );
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN
        SELECT RAISE(ABORT, 'audit is append-only');
    END;
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN
        SELECT RAISE(ABORT, 'audit is append-only');
    END;
    """,
    # parking and estate operations (issue 6): charges and payments, host validations, the handover
    # of a shared slot, daily reports, patrol rounds, and patrol taps where the drivers' migration
    # has not made them (the same table as theirs; it is only read here: at, checkpoint).
    """
    ALTER TABLE stays ADD COLUMN billed_until TEXT;
    CREATE INDEX stays_entered ON stays(entered_at);
    CREATE INDEX stays_exited ON stays(exited_at) WHERE exited_at IS NOT NULL;

    CREATE TABLE charges (
        id INTEGER PRIMARY KEY,
        stay_id INTEGER,
        subject TEXT NOT NULL,
        plate TEXT,
        class TEXT NOT NULL,
        billing TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('exit', 'reentry', 'no_entry')),
        tariff_version TEXT NOT NULL,
        started_at TEXT,
        ended_at TEXT NOT NULL,
        amount_fen INTEGER NOT NULL CHECK (amount_fen >= 0),
        event_id TEXT,
        at TEXT NOT NULL,
        settled_at TEXT
    );
    CREATE INDEX charges_at ON charges(at);
    CREATE INDEX charges_unsettled ON charges(subject) WHERE settled_at IS NULL;

    CREATE TABLE payments (
        id INTEGER PRIMARY KEY,
        subject TEXT NOT NULL,
        plate TEXT,
        stay_id INTEGER,
        lane TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        fee_until TEXT NOT NULL,
        amount_fen INTEGER NOT NULL CHECK (amount_fen > 0),
        method TEXT NOT NULL CHECK (method IN ('cash', 'qr', 'monthly')),
        receipt TEXT NOT NULL UNIQUE,
        actor TEXT NOT NULL,
        charge_id INTEGER REFERENCES charges(id)
    );
    CREATE INDEX payments_at ON payments(at);
    CREATE INDEX payments_unallocated ON payments(subject) WHERE charge_id IS NULL;
    CREATE TRIGGER payments_no_delete BEFORE DELETE ON payments BEGIN
        SELECT RAISE(ABORT, 'payments are kept');
    END;

    CREATE TABLE validations (
        stay_id INTEGER PRIMARY KEY,
        building TEXT NOT NULL,
        unit TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL
    );

    CREATE TABLE daily_reports (
        day TEXT PRIMARY KEY,
        period_start TEXT NOT NULL,
        period_end TEXT NOT NULL,
        built_at TEXT NOT NULL,
        body TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE IF NOT EXISTS patrol_taps (
        id INTEGER PRIMARY KEY,
        tap_id TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        lane TEXT NOT NULL,
        card TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS patrol_taps_checkpoint ON patrol_taps(checkpoint, at);
    CREATE INDEX IF NOT EXISTS patrol_taps_at ON patrol_taps(at);

    CREATE TABLE patrol_rounds (
        route TEXT NOT NULL,
        due_at TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('done', 'late', 'missed', 'overdue')),
        finished_at TEXT,
        missing TEXT NOT NULL DEFAULT '',
        evaluated_at TEXT NOT NULL,
        PRIMARY KEY (route, due_at)
    ) WITHOUT ROWID;
    """,
    # guard app: accounts, login sessions and API tokens. Sessions and tokens are stored as their
    # SHA-256 only: a copied database gives nobody a live login.
    """
    CREATE TABLE accounts (
        id INTEGER PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        display_name TEXT NOT NULL DEFAULT '',
        role TEXT NOT NULL CHECK (role IN ('guard', 'admin')),
        password_hash TEXT NOT NULL,
        language TEXT CHECK (language IN ('zh', 'en')),
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL DEFAULT ''
    );

    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        csrf TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX sessions_account ON sessions(account_id);

    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('guard', 'admin')),
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL,
        expires_at TEXT,
        revoked_at TEXT
    );
    """,
    # patrol checkpoint taps (电子巡更): what a reader with role "patrol" records instead of an
    # access request (drivers, issue 3). Migration 2 may have made the same table already.
    """
    CREATE TABLE IF NOT EXISTS patrol_taps (
        id INTEGER PRIMARY KEY,
        tap_id TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        checkpoint TEXT NOT NULL,
        lane TEXT NOT NULL,
        card TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS patrol_taps_checkpoint ON patrol_taps(checkpoint, at);
    CREATE INDEX IF NOT EXISTS patrol_taps_at ON patrol_taps(at);
    CREATE TRIGGER IF NOT EXISTS patrol_taps_no_update BEFORE UPDATE ON patrol_taps BEGIN
        SELECT RAISE(ABORT, 'patrol_taps is append-only');
    END;
    """,
    # MQTT sync (issue 4): applied directory version, command nonces, lane modes, central refs
    """
    -- One row: the directory version the central server's snapshots and deltas have brought us to.
    -- While a large snapshot is applied in steps, applying_* says how many of its rows are in, so
    -- that a restart finishes it (roll forward) from the staged copy instead of leaving half of it.
    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        applied_version INTEGER NOT NULL DEFAULT 0,
        applied_at TEXT,
        applying_version INTEGER,
        applying_done INTEGER NOT NULL DEFAULT 0,
        applying_total INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO sync_state (id) VALUES (1);

    -- Ids of remote commands already seen, kept until they expire: a replayed command is refused.
    CREATE TABLE command_nonces (
        id TEXT PRIMARY KEY,
        expires_at TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX command_nonces_expiry ON command_nonces(expires_at);

    -- A lane set open (barrier held up) or closed (nobody admitted) by a guard or the central server.
    CREATE TABLE lane_modes (
        lane TEXT PRIMARY KEY,
        mode TEXT NOT NULL CHECK (mode IN ('normal', 'open', 'closed')),
        set_at TEXT NOT NULL,
        set_by TEXT NOT NULL
    ) WITHOUT ROWID;

    -- Passes pushed by the central server carry its reference; passes made at the booth have none.
    ALTER TABLE passes ADD COLUMN ref TEXT;
    CREATE UNIQUE INDEX passes_ref ON passes(ref) WHERE ref IS NOT NULL;
    -- Deleting residents in bulk checks slots.resident_id (ON DELETE SET NULL): index it.
    CREATE INDEX slots_resident ON slots(resident_id);

    ALTER TABLE outbox ADD COLUMN quarantined_at TEXT;
    CREATE INDEX outbox_quarantined ON outbox(seq) WHERE quarantined IS NOT NULL;
    """,
    # plates (issue 7): a guard's correction of a plate the lane misread. The access record stays
    # as decided (append-only); the newest correction of an event is the plate the car carried.
    """
    CREATE TABLE plate_corrections (
        id INTEGER PRIMARY KEY,
        event_id TEXT NOT NULL,
        plate TEXT NOT NULL,
        previous TEXT NOT NULL,
        at TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX plate_corrections_event ON plate_corrections(event_id, id);
    -- The correction that holds for each event: its newest (a mistyped one is corrected again).
    CREATE VIEW latest_plate_corrections AS
        SELECT c.* FROM plate_corrections c
        WHERE c.id = (SELECT max(id) FROM plate_corrections WHERE event_id = c.event_id);
    """,
    # parking: a car's stay follows its plate when the plate is registered, moved to another pass
    # or unregistered while the car is inside. Stays are keyed by who the plate belongs to
    # (gateway.store.lookup.subject_of: vehicle:N, visitor:N, contractor:N, or plate:X for a
    # stranger); without this, a car registered while parked left free as no_entry_record and
    # its old stay held a shared space for good. Every path that writes credentials (the API,
    # CSV import, the central server's snapshots and deltas) goes through these triggers.
    """
    CREATE INDEX stays_open_plate ON stays(plate) WHERE exited_at IS NULL;
    -- Whose each registered plate is, as a stay's subject.
    CREATE VIEW plate_subjects AS
        SELECT c.value AS plate, CASE
            WHEN c.vehicle_id IS NOT NULL THEN 'vehicle:' || c.vehicle_id
            WHEN c.pass_id IS NOT NULL THEN p.kind || ':' || c.pass_id
            ELSE 'resident:' || c.resident_id END AS subject
        FROM credentials c LEFT JOIN passes p ON p.id = c.pass_id
        WHERE c.kind = 'plate';
    CREATE TRIGGER stays_follow_plate_added AFTER INSERT ON credentials WHEN NEW.kind = 'plate'
    BEGIN
        UPDATE stays SET subject = (SELECT subject FROM plate_subjects WHERE plate = NEW.value)
        WHERE plate = NEW.value AND exited_at IS NULL;
    END;
    CREATE TRIGGER stays_follow_plate_moved
    AFTER UPDATE OF value, resident_id, pass_id, vehicle_id ON credentials WHEN NEW.kind = 'plate'
    BEGIN
        UPDATE stays SET subject = (SELECT subject FROM plate_subjects WHERE plate = NEW.value)
        WHERE plate = NEW.value AND exited_at IS NULL;
    END;
    CREATE TRIGGER stays_follow_plate_removed AFTER DELETE ON credentials WHEN OLD.kind = 'plate'
    BEGIN
        UPDATE stays SET subject = 'plate:' || OLD.value WHERE plate = OLD.value AND exited_at IS NULL;
    END;
    """,
    # visitors (REQUIREMENTS 5 and 9): a pass's vehicle has a class (a visitor's motorcycle is
    # counted and billed as one), and the driver and everyone in a visitor's vehicle are registered,
    # each with phone and ID kept masked plus a keyed hash like the visitor's own. They go when
    # the pass goes (retention, a central delete).
    """
    ALTER TABLE passes ADD COLUMN vehicle_class TEXT NOT NULL DEFAULT 'car'
        CHECK (vehicle_class IN ('car', 'motorcycle', 'bicycle'));
    CREATE TABLE pass_people (
        pass_id INTEGER NOT NULL REFERENCES passes(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,  -- 0 is the driver
        name TEXT NOT NULL,
        phone_masked TEXT NOT NULL DEFAULT '',
        phone_hash TEXT NOT NULL DEFAULT '',
        id_masked TEXT NOT NULL DEFAULT '',
        id_hash TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (pass_id, position)
    ) WITHOUT ROWID;
    """,
    # materials leaving the estate (REQUIREMENTS 10, 物品放行): what a renovation crew or anyone
    # carried out, for which unit, recorded by the guard at the gate and reported upstream so the
    # property company tells the owner. The unit is copied, so the record outlives its pass.
    """
    CREATE TABLE materials_out (
        id INTEGER PRIMARY KEY,
        pass_id INTEGER REFERENCES passes(id) ON DELETE SET NULL,
        host_building TEXT NOT NULL,
        host_unit TEXT NOT NULL,
        items TEXT NOT NULL,
        plate TEXT,
        at TEXT NOT NULL,
        actor TEXT NOT NULL
    );
    CREATE INDEX materials_out_pass ON materials_out(pass_id);
    CREATE INDEX materials_out_at ON materials_out(at);
    """,
    # money follows the stay: when a parked car's plate changes hands (a visit extended with a new
    # pass, a stranger registered as a visitor, a plate struck off), what it paid at the booth and
    # what it owes from a missed exit move with its stay to the new subject. Keyed by the old one,
    # a prepaid car was asked to pay again at the exit, and a carried charge was never collected.
    f"""
    DROP TRIGGER stays_follow_plate_added;
    DROP TRIGGER stays_follow_plate_moved;
    DROP TRIGGER stays_follow_plate_removed;
    CREATE TRIGGER stays_follow_plate_added AFTER INSERT ON credentials
    WHEN NEW.kind = 'plate' AND {parked("NEW.value")}
    BEGIN {follow("NEW.value", "(SELECT subject FROM plate_subjects WHERE plate = NEW.value)")} END;
    CREATE TRIGGER stays_follow_plate_moved
    AFTER UPDATE OF value, resident_id, pass_id, vehicle_id ON credentials
    WHEN NEW.kind = 'plate' AND {parked("NEW.value")}
    BEGIN {follow("NEW.value", "(SELECT subject FROM plate_subjects WHERE plate = NEW.value)")} END;
    CREATE TRIGGER stays_follow_plate_removed AFTER DELETE ON credentials
    WHEN OLD.kind = 'plate' AND {parked("OLD.value")}
    BEGIN {follow("OLD.value", "'plate:' || OLD.value")} END;
    """,
    # when a payment was applied to a charge: a day's report is worked out as things stood at its
    # end, and a booth payment may be linked to the charge it paid only at a later exit. And what a
    # vehicle was counted as at a lane: a car held at an exit to pay is quoted as the class it was
    # held as (a guard may have typed its plate and said it is a motorcycle).
    # Also, once: money left behind by a stay that moved to a new holder before migration 10 (a
    # booth payment made during a stay still open, a charge still owed by a car parked now) goes
    # to the stay's holder now, as migration 10's triggers would have moved it.
    """
    ALTER TABLE payments ADD COLUMN linked_at TEXT;
    ALTER TABLE access_log ADD COLUMN class TEXT;
    UPDATE payments SET subject = (SELECT s.subject FROM stays s WHERE s.id = payments.stay_id)
    WHERE charge_id IS NULL AND stay_id IN (
        SELECT s.id FROM stays s WHERE s.exited_at IS NULL AND s.subject != payments.subject);
    UPDATE charges SET subject = (
        SELECT s.subject FROM stays s WHERE s.plate = charges.plate AND s.exited_at IS NULL)
    WHERE settled_at IS NULL AND plate IS NOT NULL AND EXISTS (
        SELECT 1 FROM stays s WHERE s.plate = charges.plate AND s.exited_at IS NULL
        AND s.subject != charges.subject);
    """,
    # A resident's, vehicle's or pass's id is never given to another: the access log, presence
    # (anti-passback) and stays name them by id, so an id reused after the newest row was deleted
    # (SQLite reuses it without AUTOINCREMENT) showed a deleted resident's swipes under the next
    # one and refused a new visitor as "already inside". The tables are rebuilt with
    # AUTOINCREMENT (_migrate turns foreign keys off around it), and each one's sequence starts
    # above every id the log, presence, stays, charges and payments name.
    f"""
    CREATE TABLE residents_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ref TEXT NOT NULL UNIQUE,
        building TEXT NOT NULL,
        unit TEXT NOT NULL,
        room TEXT NOT NULL DEFAULT '',
        name TEXT NOT NULL,
        phone_masked TEXT NOT NULL DEFAULT '',
        phone_hash TEXT NOT NULL DEFAULT '',
        valid_from TEXT,
        valid_to TEXT,
        blocked INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO residents_new SELECT id, ref, building, unit, room, name, phone_masked, phone_hash,
        valid_from, valid_to, blocked FROM residents;
    DROP TABLE residents;
    ALTER TABLE residents_new RENAME TO residents;
    CREATE INDEX residents_unit ON residents(building, unit);
    CREATE INDEX residents_phone ON residents(phone_hash) WHERE phone_hash != '';

    CREATE TABLE vehicles_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        plate TEXT NOT NULL UNIQUE,
        class TEXT NOT NULL DEFAULT 'car' CHECK (class IN ('car', 'motorcycle', 'bicycle')),
        resident_id INTEGER NOT NULL REFERENCES residents(id) ON DELETE CASCADE,
        monthly_until TEXT
    );
    INSERT INTO vehicles_new SELECT id, plate, class, resident_id, monthly_until FROM vehicles;
    DROP TABLE vehicles;
    ALTER TABLE vehicles_new RENAME TO vehicles;
    CREATE INDEX vehicles_resident ON vehicles(resident_id);

    CREATE TABLE passes_new (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL CHECK (kind IN ('visitor', 'contractor')),
        name TEXT NOT NULL,
        phone_masked TEXT NOT NULL DEFAULT '',
        phone_hash TEXT NOT NULL DEFAULT '',
        id_masked TEXT NOT NULL DEFAULT '',
        id_hash TEXT NOT NULL DEFAULT '',
        host_building TEXT NOT NULL DEFAULT '',
        host_unit TEXT NOT NULL DEFAULT '',
        company TEXT NOT NULL DEFAULT '',
        destination TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        passengers INTEGER NOT NULL DEFAULT 1,
        plate TEXT,
        valid_from TEXT NOT NULL,
        valid_to TEXT NOT NULL,
        hours TEXT NOT NULL DEFAULT '',
        registered_fields TEXT NOT NULL DEFAULT '',
        blocked INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL DEFAULT '',
        checked_out_at TEXT,
        ref TEXT,
        vehicle_class TEXT NOT NULL DEFAULT 'car' CHECK (vehicle_class IN ('car', 'motorcycle', 'bicycle'))
    );
    INSERT INTO passes_new SELECT id, kind, name, phone_masked, phone_hash, id_masked, id_hash,
        host_building, host_unit, company, destination, reason, passengers, plate, valid_from,
        valid_to, hours, registered_fields, blocked, created_at, created_by, checked_out_at, ref,
        vehicle_class FROM passes;
    DROP TABLE passes;
    ALTER TABLE passes_new RENAME TO passes;
    CREATE INDEX passes_phone ON passes(phone_hash) WHERE phone_hash != '';
    CREATE INDEX passes_id ON passes(id_hash) WHERE id_hash != '';
    CREATE INDEX passes_valid ON passes(valid_to);
    CREATE UNIQUE INDEX passes_ref ON passes(ref) WHERE ref IS NOT NULL;
    -- A plate whose pass is over is looked up among its other passes (gateway/store/lookup.py).
    CREATE INDEX passes_plate ON passes(plate) WHERE plate IS NOT NULL;

    DELETE FROM sqlite_sequence WHERE name IN ('residents', 'vehicles', 'passes');
    INSERT INTO sqlite_sequence (name, seq) VALUES
        ('residents', {
        highest_named(
            "residents", "SELECT holder_id FROM access_log WHERE holder_kind = 'resident'", ("resident",)
        )
    }),
        ('vehicles', {
        highest_named(
            "vehicles",
            "SELECT vehicle_id FROM access_log UNION ALL SELECT vehicle_id FROM stays",
            ("vehicle",),
        )
    }),
        ('passes', {
        highest_named(
            "passes",
            "SELECT holder_id FROM access_log WHERE holder_kind IN ('visitor', 'contractor')",
            ("visitor", "contractor"),
        )
    });
    """,
]
