"""A car recorded inside (`recorded_by_admin`) since before its slot-mate came in makes that car the
slot's second car from its entry (docs/parking.md, *Cars already inside*). The box's daily report
counts that car's entry "as it was decided again, not as its access record says (that record is
kept as written, and went upstream so)", and counts no handover for a car handed the slot after
that time ("a handover ... which never was"). The centre has the `access` and `stay` records only
(docs/mqtt.md): `second_car` is `{"stay_id", "plate", "entered_at", "slot_id", "billing"}`. It
names neither the access record to count again nor what to count it as, and says nothing of a
handover the stay had. (The mirror, `restored`, carries `handed_over_at`.)

R1's slot B001 lists 皖A11111 (A), 皖A22222 (B) and, here, 皖A33333 (C)."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

from centre_helpers import H, M, centre

from tests.parking.conftest import T0

A, B, C = "皖A11111", "皖A22222", "皖A33333"
THIRD_CAR = {
    "v2.csv": "plate,resident_ref\n皖A33333,R1\n",
    "s2.csv": "zone,number,resident_ref,plates\nmain,B001,R1,皖A11111;皖A22222;皖A33333\n",
}
ENTRANCES = {"car-in"}  # the site's vehicle entrance (which the records do not say: another test)
REPEATS = {"again", "refused_again"}


def _entries_as_the_centre_counts_them(records: list[dict[str, Any]], day: date) -> tuple[Counter[str], int]:
    """The day's vehicle entries by kind, and those flagged shared_slot, from the access records (each
    decision once: no `again`/`refused_again`); an entry decided again is counted as a later record
    that names it says (`access_event_id`, with the `reason` and `flags` it is counted by now), and
    as first decided again once a `restored` names it."""
    counted_as: dict[str, tuple[str, list[str]]] = {}
    for r in records:
        if r["type"] != "stay":
            continue
        for key in ("second_car", "restored"):
            car = r.get(key) or {}
            if "access_event_id" in car:
                if key == "second_car":
                    counted_as[car["access_event_id"]] = (car["reason"], car["flags"])
                else:
                    counted_as.pop(car["access_event_id"], None)
    kinds: Counter[str] = Counter()
    shared = 0
    for r in records:
        if r["type"] != "access" or r["lane"] not in ENTRANCES or not r["admitted"]:
            continue
        if REPEATS & set(r["flags"]) or datetime.fromisoformat(r["at"]).date() != day:
            continue
        reason, flags = counted_as.get(r["event_id"], (r["reason"], r["flags"]))
        kinds[reason] += 1
        shared += "shared_slot" in flags
    return kinds, shared


def test_an_entry_decided_again_by_a_car_recorded_inside_counts_the_same_at_the_centre(
    tmp_path: Path,
) -> None:
    """Day one: A has been on B001 since 07:00 under the old system. B comes in at 09:00 onto the
    slot, free (`resident`, billing `slot`). At 10:00 the admin records A inside since 07:00: B is
    the slot's second car from 09:00, temporary. The box's report of the day counts B's entry as
    `temporary`, flagged `shared_slot`; the centre has B's access record (`resident`, no flag) and
    a `second_car` that does not name it: its count of the day's entries by kind is not the
    report's."""
    with centre(tmp_path) as c:
        assert c.look("car-in", B, T0).billing == "slot"
        made = c.post(
            "/api/parking/stays", {"plate": A, "entered_at": "2025-03-03 07:00", "reason": "day one"}, T0 + H
        )
        assert made.status_code == 200 and made.json()["second_car"]["plate"] == B, made.text
        c.drain()
        records = c.records()
        c.now = T0 + 20 * H
        report = c.report(T0.date().isoformat())
    kinds, shared = _entries_as_the_centre_counts_them(records, T0.date())
    box = {k: n for k, n in report["vehicles"]["entries"]["by_kind"].items() if n}
    assert (box, report["flags"]["shared_slot"]) == ({"temporary": 1}, 1)
    assert (dict(kinds), shared) == (box, report["flags"]["shared_slot"]), (
        f"the report counts the day's vehicle entries {box}, shared_slot {report['flags']['shared_slot']}; "
        f"the centre, from the records, {dict(kinds)}, shared_slot {shared}: B's access record says "
        f"resident and the recorded_by_admin record's second_car "
        f"{[r['second_car'] for r in records if r.get('change') == 'recorded_by_admin']} does not say "
        "which entry is counted again, nor as what"
    )


def test_a_handover_that_never_was_is_not_counted_by_the_centre_either(tmp_path: Path) -> None:
    """B comes in at 09:00 onto B001, C at 09:30 as its second car; B leaves at 10:00 and C is
    handed the slot (a `stay` handover record, cause exit). At 11:00 the admin records A inside
    since 07:00: A was on the slot all along, C is the slot's second car from 09:30 and billed from
    then, and the report counts no handover. The centre, counting each stay's first handover on its
    day as docs/mqtt.md says, counts C's; nothing in the `second_car` naming C tells it the
    handover never was."""
    with centre(tmp_path, more=THIRD_CAR) as c:
        assert c.look("car-in", B, T0).billing == "slot"
        assert c.look("car-in", C, T0 + 30 * M).billing == "temporary"
        assert c.look("car-out", B, T0 + H).admitted
        made = c.post(
            "/api/parking/stays",
            {"plate": A, "entered_at": "2025-03-03 07:00", "reason": "day one"},
            T0 + 2 * H,
        )
        assert made.status_code == 200 and made.json()["second_car"]["plate"] == C, made.text
        c.drain()
        records = c.records("stay")
        c.now = T0 + 20 * H
        report = c.report(T0.date().isoformat())
    first_handover: dict[int, str] = {}
    for r in records:
        if r["change"] == "handover":
            first_handover.setdefault(r["stay_id"], r["at"])
        for key in ("second_car", "restored"):
            car = r.get(key)
            if car and "handed_over_at" in car:  # as `restored` says it: null, no handover
                if car["handed_over_at"] is None:
                    first_handover.pop(car["stay_id"], None)
                else:
                    first_handover[car["stay_id"]] = car["handed_over_at"]
    counted = sum(1 for at in first_handover.values() if datetime.fromisoformat(at).date() == T0.date())
    assert report["parking"]["handovers"] == 0
    assert counted == report["parking"]["handovers"], (
        f"the report counts {report['parking']['handovers']} handovers; the centre {counted}: "
        f"C's handover {[r for r in records if r['change'] == 'handover']} is undone by nothing it was sent "
        f"(second_car: {[r['second_car'] for r in records if r.get('change') == 'recorded_by_admin']})"
    )
