"""What the hourly retention pass must not delete: the entry record of a stay still open, a patrol
round the patrol check still looks back at; and what it must: a damaged sync file set aside
(docs/parking.md *Retention*, docs/mqtt.md)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from gateway.runtime.gateway import Gateway
from gateway.store import registry
from gateway.sync.inbox import INBOX_NAME, Inbox
from gateway.timefmt import to_db
from tests.parking.conftest import T0, show
from tests.parking.directory_exit_helpers import delta
from tests.parking.test_card_moved_to_new_car import CARD, _card_lets_in, _open_stays
from tests.parking.test_card_moved_to_new_car import tap as tap_card
from tests.parking.test_operations import PATROL, alarms, ops
from tests.parking.test_operations import tap as tap_checkpoint

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
KEEP_A_WEEK = "[retention]\naccess_records_days = 7\n"

# ---- a monthly car renewed while parked past the access-record retention ------------------------

CAR = "皖C44444"  # R3's monthly car


def _fee_at_exit(gw: Gateway, prune: bool) -> int:
    gw.conn.execute("UPDATE vehicles SET monthly_until = ? WHERE plate = ?", (to_db(T0 - 11 * D), CAR))
    came = show(gw, "car-in", CAR, T0 - 10 * D)
    assert came.reason == "temporary" and "monthly_expired" in came.flags
    show(gw, "car-in", "皖B33333", T0 - D)  # another car, later: the entry is not the newest record
    if prune:
        ops(gw).retention(T0)  # the hourly pass: records older than 7 days go (MQTT off)
    vid = int(gw.conn.execute("SELECT id FROM vehicles WHERE plate = ?", (CAR,)).fetchone()[0])
    registry.update_vehicle(gw.conn, T0, "admin", vid, {"monthly_until": T0 + 31 * D})
    out = show(gw, "car-out", CAR, T0 + 5 * D)
    return int(out.fee_fen or 0)


def test_renewal_of_a_car_parked_past_access_retention_still_stops_its_billing(
    make_gw: Callable[..., Gateway],
) -> None:
    """皖C44444's month ran out; it came in paying (monthly_expired) 10 days ago and is still parked.
    The estate keeps access records 7 days. The office renews the car now; it leaves 5 days later.
    docs/parking.md (Monthly): renewed while parked, "its billing stops at the renewal: it pays at its
    exit only for the time before it". The owner saw the 5 renewed days billed at the temporary
    rate as well (450元, not 300元), because retention deleted the entry record whose
    `monthly_expired` flag the renewal looks for (gateway/store/renewals.py _RENEWED). Same car, same
    times, retention not yet run: it pays only the 10 days before the renewal."""
    kept = _fee_at_exit(make_gw(extra=KEEP_A_WEEK), prune=False)
    pruned = _fee_at_exit(make_gw(extra=KEEP_A_WEEK), prune=True)
    assert pruned == kept, f"billed {pruned / 100}元 after retention, {kept / 100}元 before"


def test_the_entry_record_of_a_stay_goes_at_the_first_pass_after_the_stay_closes(
    make_gw: Callable[..., Gateway],
) -> None:
    """The entry record kept for a stay still open is past retention: once the car has left, the
    next hourly pass deletes it like any other."""
    gw = make_gw(extra=KEEP_A_WEEK)
    entry = show(gw, "car-in", CAR, T0 - 10 * D).event_id
    show(gw, "car-in", "皖B33333", T0 - D)  # newer traffic: the entry is not the newest record
    ops(gw).retention(T0)
    kept = "SELECT count(*) FROM access_log WHERE event_id = ?"
    assert gw.conn.execute(kept, (entry,)).fetchone()[0] == 1, "the open stay's entry record went"
    show(gw, "car-out", CAR, T0 + H)
    ops(gw).retention(T0 + 2 * H)
    assert gw.conn.execute(kept, (entry,)).fetchone()[0] == 0, "kept after the stay closed"


# ---- a car parked past retention, its card moved to the owner's new car -------------------------


def test_old_car_parked_past_retention_still_leaves_on_its_moved_card(
    make_gw: Callable[..., Gateway],
) -> None:
    """As tests/parking/test_card_moved_to_new_car.py (R2's 皖B33333 in on its card, parked on
    B002; the card moved to R2's new car; the old car driven out on the card leaves as it came in,
    free, its stay closed), but the old car stood 10 days and the estate keeps access records 7.
    After the hourly retention pass the card no longer found the old car: the exit was taken for the
    new car (皖B99999, no_entry_record) and the old car's stay stayed open for good, holding slot
    B002, so the new car then came in as a paying second car while nothing was parked."""
    gw = make_gw(extra=KEEP_A_WEEK)
    came_in = _card_lets_in(gw, "R2", "皖B33333")
    assert (came_in.reason, came_in.billing) == ("resident", "slot")
    show(gw, "car-in", "皖A11111", T0 + 9 * D)  # other traffic: the entry is not the newest record
    later = T0 + 10 * D
    ops(gw).retention(later)
    delta(
        gw,
        2,
        1,
        later,
        upsert=[
            {"kind": "vehicle", "plate": "皖B99999", "resident": "R2"},
            {"kind": "card", "card": CARD, "resident": "R2", "plate": "皖B99999"},
            {
                "kind": "slot",
                "zone": "main",
                "number": "B002",
                "resident": "R2",
                "plates": ["皖B33333", "皖B99999"],
            },
        ],
    )
    out = tap_card(gw, "car-out", CARD, later + H)
    assert (out.admitted, out.plate, out.flags) == (True, "皖B33333", ()), (out.reason, out.plate, out.flags)
    assert [p for p, _ in _open_stays(gw)] == ["皖A11111"]


# ---- patrol rounds with a short access-record retention -----------------------------------------


def test_a_round_done_and_pruned_is_not_judged_again_as_missed(make_gw: Callable[..., Gateway]) -> None:
    """The estate keeps access records (and with them patrol taps and rounds) one day, which the
    config allows (retention.access_records_days >= 1). Last night's 22:00 round was done: both
    checkpoints tapped by 22:20, judged `done`, no alarm. The next night at 22:30 the hourly
    retention pass deleted that round and its taps (a day old); the patrol check that follows
    (every 30 s) looks a day and a round back, found a 22:00 round it had no record of and no taps
    for, and raised `patrol_missed` for it: the monitoring centre was told a round the guard walked
    was missed. A round judged and then deleted by retention must not be judged again."""
    gw = make_gw(extra=PATROL + "\n[retention]\naccess_records_days = 1\n")
    o = ops(gw)  # running since this morning (T0, 09:00)
    night = T0.replace(hour=22)
    tap_checkpoint(gw, night + 10 * M, "cp-a")
    tap_checkpoint(gw, night + 20 * M, "cp-b")
    assert [r.status for r in o.patrols(night + H)] == ["done"]
    assert alarms(gw) == []

    now = night + D + 30 * M  # the next night, 22:30
    tap_checkpoint(gw, now - 5 * M, "cp-a")  # tonight's round under way
    o.retention(now)
    o.patrols(now)
    done_round = "night@2025-03-03 22:00"
    assert ("patrol_missed", done_round) not in alarms(gw), "a round that was done is now reported missed"

    later = now + D + 2 * H  # once past the patrol check's look-back, the round and its taps go
    o.retention(later)
    due = gw.conn.execute("SELECT count(*) FROM patrol_rounds WHERE due_at < ?", (to_db(night + H),))
    assert due.fetchone()[0] == 0


# ---- a damaged sync file set aside -------------------------------------------------------------

PHONE, ID = "13912345678", "11010519491231002X"


def test_a_damaged_inbox_copy_with_clear_numbers_is_not_kept_past_retention(gw: Gateway) -> None:
    """The centre pushed a visitor's pass (a delta carries the clear phone and ID numbers: they are
    masked and hashed only as it is staged); a power cut damaged sync-inbox.db before it was
    applied, so the next start set the file aside as sync-inbox.db.damaged-<time> (gateway/sync/
    files.py) and made a new one. REQUIREMENTS (Privacy): phone and ID numbers are kept "no longer
    than the configured retention"; docs/mqtt.md promises the link's files hold clear numbers only
    until staged. Sixty days on (retention.visitors_days 30, the hourly retention pass run), the
    set-aside copy was still in the data directory with the visitor's clear mobile and ID number:
    nothing ever deleted it but the next damaged file."""
    path = gw.data_dir / INBOX_NAME
    inbox = Inbox(path, lambda: T0)
    pushed = {
        "type": "delta",
        "version": 7,
        "upserts": [{"kind": "pass", "ref": "P-1", "name": "钱七", "phone": PHONE, "id_number": ID}],
    }
    inbox.keep("delta", json.dumps(pushed, ensure_ascii=False).encode() * 20)
    inbox.close()
    raw = bytearray(path.read_bytes())
    page = 4096
    assert len(raw) > 2 * page
    raw[page] = 0xFF  # the power cut: page 2's header scrambled, its cells (the body) still there
    path.write_bytes(bytes(raw))
    Inbox(path, lambda: T0).close()  # the next start: set aside, made anew
    aside = list(gw.data_dir.glob(f"{INBOX_NAME}.damaged-*"))
    assert aside and any(PHONE.encode() in f.read_bytes() for f in aside), "setup: no copy with the number"

    ops(gw).retention(T0 + 29 * D)  # within retention.visitors_days: kept for whoever looks into it
    assert all(f.exists() for f in aside)
    ops(gw).retention(T0 + 60 * D)
    left = [f.name for f in gw.data_dir.iterdir() if f.is_file() and PHONE.encode() in f.read_bytes()]
    assert left == [], f"the clear mobile number is still on the disk 60 days on, in {left}"
    assert (gw.data_dir / INBOX_NAME).exists(), "the inbox in use went with the copy"
