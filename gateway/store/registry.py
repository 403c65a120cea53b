"""Residents, vehicles, cards and slots: lookup for guards, changes by admins, blocking at once.

Every change writes its audit row and its upstream record in the same transaction; the central
server stays the owner of the register and reconciles local changes from the `registry` records.

The lookup is here; the changes are in registry_credentials.py (blocks, cards),
registry_residents.py and registry_vehicles.py (vehicles and their slots), on registry_base.py
(what every change shares). Every name the gateway imports from the register is importable here.
"""

from __future__ import annotations

import re
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from gateway.core.card_forms import TenDigits
from gateway.core.credentials import BadCredential, canonical
from gateway.errors import NotFound
from gateway.privacy import Secrets, mask_card, mask_name, normalize_number
from gateway.store.card_forms import registered_cards_typed
from gateway.store.hashes import hash_in
from gateway.store.registry_credentials import (
    add_card,
    audit_block,
    delete_credential,
    record_block,
    set_blocked,
)
from gateway.store.registry_residents import (
    RESIDENT_NEEDS,
    ResidentIncomplete,
    delete_resident,
    upsert_resident,
)
from gateway.store.registry_vehicles import (
    add_slot,
    add_vehicle,
    delete_slot,
    delete_vehicle,
    onto_free_slots,
    onto_slots_of_registered,
    re_registered,
    slots_handed_on,
    update_vehicle,
)
from gateway.store.units import parse_flat, registered_as, room_key
from gateway.typed import typed
from plates.grammar import PROVINCES, SPECIAL_PREFIXES, SUFFIXES, is_plate, normalize, serial_as_digits

__all__ = [
    "Found",
    "RESIDENT_NEEDS",
    "ResidentIncomplete",
    "UNIT_MAX",
    "add_card",
    "add_slot",
    "add_vehicle",
    "audit_block",
    "delete_credential",
    "delete_resident",
    "delete_slot",
    "delete_vehicle",
    "masked",
    "onto_free_slots",
    "onto_slots_of_registered",
    "re_registered",
    "record_block",
    "resident_detail",
    "search",
    "set_blocked",
    "slots_handed_on",
    "update_vehicle",
    "upsert_resident",
]

_RESIDENT = """
SELECT id, ref, building, unit, room, name, phone_masked, valid_from, valid_to, blocked
FROM residents"""
UNIT_MAX = 300  # residents of one building and unit a lookup lists in full; past it, it says so
# Other than printable ASCII and the CJK ideographs U+4E00-U+9FFF: a value without such a character
# (nearly every name, ref and building) is its own typed() form, NFKC changing none of those.
_NOT_PLAIN = f"*[^ -~{chr(0x4E00)}-{chr(0x9FFF)}]*"


def _as_typed(column: str) -> str:
    """SQL for `column` read as search() reads the query (typed: Ａ座 is A座, （ is '('), where
    search() registered the function. An import or the central server stores names and buildings
    as the office wrote them (王芳（租户）, Ｔｏｍ李); compared as stored, the query typed as the
    page shows them missed them. Only the few values with other characters go to Python: one
    call per row made a lookup of 20,000 residents take 130 ms, not 9; GLOB, in C and without
    holding the GIL from the decision worker, takes it to about 37."""
    return f"(CASE WHEN {column} GLOB '{_NOT_PLAIN}' THEN as_typed({column}) ELSE {column} END)"


@dataclass(frozen=True, slots=True)
class Found:
    """The residents a lookup shows, and how many its query names in all (more when it was cut)."""

    residents: list[dict[str, Any]]
    total: int


# What a lookup that names someone by a whole plate, card or phone leaves out: each scan of the
# register (refs as typed, units, names and flats: 2.2 million SQLite steps, 134-171 ms on an estate
# of 60,000 residents, Review 65H) could add only a resident whose name or flat holds such a number,
# a data-entry slip. A plate typed whole with its province is no piece of another (docs/guard-app.md);
# nor is a card number of CARD_WHOLE characters (every plate piece has fewer letters and digits, and
# the few with as many begin with its province), nor a phone's 7 digits or more (a plate's serial
# holds 6 at most). A shorter card number (a line reader's 1201) may be a room or a piece of a plate
# (AD12345 of 皖AD12345), and one typed as a flat (3-2-1201, a phone's digits too) is read as a flat:
# both are looked for as before.
CARD_WHOLE = 8

# A phone number as people write it: 139 1234 5678, +86-139..., (+86)139... (a WeChat contact card;
# （+86） typed is its ASCII self), 139·1234·5678 or 139.1234.5678.
PHONE_AS_WRITTEN = re.compile(r"[\d\s+\-().·]+")


def search(
    conn: sqlite3.Connection,
    keys: Secrets,
    q: str,
    limit: int = 20,
    ten_digits: TenDigits = "decimal",
    readings: tuple[TenDigits, ...] = (),
) -> Found:
    """Residents a guard's query names: plate (an I or O in its serial read as 1 or 0), card
    number (any number a reader giving it finds the card by, the Wiegand one printed on it too;
    `ten_digits` and `readings` as for blocking: 10 digits both ways where a reader gives hex),
    phone, name, ref, building/unit or a flat (3栋2单元301, 3-2-301), then a piece of a plate
    (A12345 for 皖A12345, typed without its province).

    The first `limit` of them, but all of a building and unit typed whole (3栋2单元), up to
    UNIT_MAX: a guard who looks a unit up wants all of it, and a unit rarely has ~100 residents.

    A plate typed whole with its province, a card number of CARD_WHOLE characters or more or a
    phone number that someone holds names him (and a resident whose ref it is) alone: the indexes
    find them, and the register's names and flats are not read for it (CARD_WHOLE)."""
    q = typed(q)  # a phone or card number typed full-width (１３９…) is its digits
    ids: dict[int, None] = {}  # in the order found; a surname may name thousands
    # For _as_typed: the register's text compared as the query is read.
    conn.create_function("as_typed", 1, typed, deterministic=True)

    def add(sql: str, *args: Any) -> int:
        found = 0
        for (rid,) in conn.execute(sql, args):
            ids.setdefault(rid)
            found += 1
        return found

    # As typed, and with an I or O in its serial read as 1 or 0 (皖AI2345): both, for 皖Al2345 may
    # be 皖AL2345 typed small as well as 皖A12345.
    plates = list(dict.fromkeys((normalize(q), serial_as_digits(q))))
    whole_plates = [p for p in plates if is_plate(p)]
    # A plate typed whole with its province names its car alone. One without it may be a piece as
    # well: AD12345 is the army's plate and 皖AD12345's, a green car's, typed without its province.
    whole_with_province = any(p[:1] in PROVINCES for p in whole_plates)
    named = 0  # residents a whole plate, card or phone names them by (CARD_WHOLE)
    for plate in whole_plates:
        found = add(
            "SELECT resident_id FROM credentials WHERE kind = 'plate' AND value = ? "
            "AND resident_id IS NOT NULL",
            plate,
        )
        named += found if whole_with_province else 0
    with suppress(BadCredential):  # as blocking it finds it (054:15694 finds 0372653390)
        typed_card = canonical("card", q)
        for card in registered_cards_typed(conn, typed_card, ten_digits, readings or (ten_digits,)):
            found = add(
                "SELECT resident_id FROM credentials WHERE kind = 'card' AND value = ? "
                "AND resident_id IS NOT NULL",
                card,
            )
            named += found if len(typed_card) >= CARD_WHOLE else 0
    if len(normalize_number(q)) >= 7 and PHONE_AS_WRITTEN.fullmatch(q):
        digests = keys.phone_digests(q)
        named += add(f"SELECT id FROM residents WHERE {hash_in('phone_hash', len(digests))}", *digests)
    if named and parse_flat(q) is None:
        add("SELECT id FROM residents WHERE ref = ?", q)
        return Found([resident_detail(conn, rid) for rid in list(ids)[:limit]], len(ids))
    add(f"SELECT id FROM residents WHERE {_as_typed('ref')} = ?", q)
    if q:
        # A unit typed whole comes first and in full, before 13栋2单元's that "%3栋2单元%" finds too.
        add(f"SELECT id FROM residents WHERE {_as_typed('building || unit')} = ? ORDER BY id", q)
        flat = parse_flat(q)
        if flat is not None:
            # Typed as the pages name it (7栋4单元) for a unit the centre sent bare (7 / 4); with a
            # room after it (7栋4单元1201), that flat's residents only, the room compared as
            # room_key gives it (１２０１, 1201室 are 1201), in Python: a unit's few residents.
            for spelling in registered_as(conn, *flat.unit):
                rows = conn.execute(
                    "SELECT id, room FROM residents WHERE building = ? AND unit = ? ORDER BY id", spelling
                )
                for rid, room in rows:
                    if flat.room is None or room_key(room or "") == flat.room:
                        ids.setdefault(rid)
        limit = max(limit, min(len(ids), UNIT_MAX))
        like = f"%{q}%"
        # Every match's id (cheap), so the page can say how many it left out.
        add(
            f"SELECT id FROM residents WHERE {_as_typed('name')} LIKE ? "
            f"OR {_as_typed('building || unit || room')} LIKE ? ORDER BY id",
            like,
            like,
        )
        if not whole_with_province and flat is None:
            _add_plate_pieces(conn, plates, ids)
    return Found([resident_detail(conn, rid) for rid in list(ids)[:limit]], len(ids))


# A piece of a plate as a guard types it: its letters and digits, with or without the province.
# At least one letter or digit: Chinese alone is a name, 苏 a surname before it is Jiangsu's
# province, which every local car's plate holds (and 学, 警 or 使 alone every coach, police or
# embassy car).
_PLATE_PIECE = re.compile(f"(?=.*[0-9A-Z])[0-9A-Z{PROVINCES}{SUFFIXES}{SPECIAL_PREFIXES}应急]+")


def _add_plate_pieces(conn: sqlite3.Connection, pieces: list[str], ids: dict[int, None]) -> None:
    """The residents whose plate holds a piece the guard typed (A12345 for 皖A12345): typing 皖
    takes the Chinese input method, so at the rush a guard types the letters and digits he reads,
    as the occupancy page's 按车牌查找 finds a piece of a plate. A piece of any length, as a piece of
    a name is: the page shows the first of them and how many there are. A scan of the register's
    plates, as the name's LIKE is of its names (3 to 16 ms for 20,000 residents' cars)."""
    likes = [f"%{p}%" for p in pieces if _PLATE_PIECE.fullmatch(p)]
    if not likes:
        return
    on_credential = " OR ".join(["value LIKE ?"] * len(likes))
    on_vehicle = " OR ".join(["plate LIKE ?"] * len(likes))
    rows = conn.execute(
        "SELECT resident_id FROM credentials WHERE kind = 'plate' AND resident_id IS NOT NULL "
        f"AND ({on_credential}) "
        f"UNION SELECT resident_id FROM vehicles WHERE {on_vehicle} "
        "ORDER BY resident_id",
        [*likes, *likes],
    )
    for (rid,) in rows:
        ids.setdefault(rid)


def resident_detail(conn: sqlite3.Connection, rid: int) -> dict[str, Any]:
    cur = conn.execute(f"{_RESIDENT} WHERE id = ?", (rid,))
    rows = _dicts(cur)
    if not rows:
        raise NotFound(f"no resident {rid}", fix="search for the resident on the lookup page")
    resident = rows[0]
    resident["blocked"] = bool(resident["blocked"])
    resident["vehicles"] = _dicts(
        conn.execute(
            "SELECT id, plate, class, monthly_until FROM vehicles WHERE resident_id = ? ORDER BY id",
            (rid,),
        )
    )
    resident["credentials"] = [
        {**c, "blocked": bool(c["blocked"])}
        for c in _dicts(
            conn.execute(
                "SELECT id, kind, value, vehicle_id, valid_from, valid_to, hours, blocked "
                "FROM credentials WHERE resident_id = ? ORDER BY kind, id",
                (rid,),
            )
        )
    ]
    resident["slots"] = _dicts(
        conn.execute(
            """SELECT s.id, s.zone, s.number,
                  (SELECT group_concat(v.plate, ' ') FROM slot_vehicles sv
                   JOIN vehicles v ON v.id = sv.vehicle_id WHERE sv.slot_id = s.id) AS plates
           FROM slots s WHERE s.resident_id = ? ORDER BY s.id""",
            (rid,),
        )
    )
    return resident


def masked(resident: dict[str, Any]) -> dict[str, Any]:
    """What a guard sees: the name masked, card numbers with their last four characters only."""
    creds = [
        {**c, "value": mask_card(c["value"]) if c["kind"] == "card" else c["value"]}
        for c in resident["credentials"]
    ]
    return {**resident, "name": mask_name(resident["name"]), "credentials": creds}


def _dicts(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]
