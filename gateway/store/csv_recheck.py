"""The references of a step's rows checked again in the step's own transaction (csv_steps.py).

csv_import.check_references checks every row against the store before the first step; in the gaps
between steps other writers (the central server's deltas, the admin API) change the store. A row
naming a resident deleted since failed on a constraint, and as the next run writes the same rows
against the same store, it failed there every time: the import could never be finished, and no
other could run. A card naming a car given to another household since failed on nothing: it
opened the barrier for that household's car. So each step asks again what the check asked of the
files or the store: by then the files' own rows of the kinds before it are in the store.
"""

from __future__ import annotations

import sqlite3

from gateway.store.csv_import import card_car_problem

_NO_RESIDENT = "NOT EXISTS (SELECT 1 FROM residents r WHERE r.ref = x.resident_ref)"

# Each: (row's key, the value it names) for the span's rows (n BETWEEN ? AND ?) naming what is gone.
_VEHICLE_OWNER_GONE = (
    f"SELECT x.plate, x.resident_ref FROM st.vehicles x WHERE x.n BETWEEN ? AND ? AND {_NO_RESIDENT}"
)
_CARD_OWNER_GONE = (
    f"SELECT x.card, x.resident_ref FROM st.cards x WHERE x.n BETWEEN ? AND ? AND {_NO_RESIDENT}"
)
_CARD_CAR_GONE = """SELECT x.card, x.plate FROM st.cards x WHERE x.n BETWEEN ? AND ? AND x.plate IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.plate = x.plate)"""
_SLOT_OWNER_GONE = f"""SELECT x.zone || '/' || x.number, x.resident_ref FROM st.slots x
    WHERE x.n BETWEEN ? AND ? AND x.resident_ref IS NOT NULL AND {_NO_RESIDENT}"""
_SLOT_CAR_GONE = """SELECT x.zone || '/' || x.number, p.plate
    FROM st.slot_plates p JOIN st.slots x ON x.n = p.n
    WHERE p.n BETWEEN ? AND ? AND NOT EXISTS (SELECT 1 FROM vehicles v WHERE v.plate = p.plate)"""

# Each: (card, car, the car's resident, the card's) where those two differ. CROSS JOIN keeps the
# order written, the span's rows first: SQLite chose to read every card in the store for each step
# (with an import of 60,000 cards, minutes).
# A card in the store tied to one of the span's cars that the import does not give again (as
# csv_import.cards_left_on_moved_cars):
_CARD_LEFT_ON_CAR = """SELECT c.value, x.plate, x.resident_ref, r.ref FROM st.vehicles x
    CROSS JOIN vehicles v ON v.plate = x.plate
    CROSS JOIN credentials c ON c.kind = 'card' AND c.vehicle_id = v.id
    CROSS JOIN residents r ON r.id = c.resident_id
    WHERE x.n BETWEEN ? AND ? AND r.ref != x.resident_ref
      AND NOT EXISTS (SELECT 1 FROM st.cards k WHERE k.card = c.value)"""
# A card of the span, with the car it is tied to once written: the file's `plate` ({car}: by the
# file), or the one the store ties it to where the file has no such column (by the store).
_CARD_ON_ANOTHERS_CAR = """SELECT x.card, v.plate, o.ref, x.resident_ref FROM st.cards x {car}
    CROSS JOIN residents o ON o.id = v.resident_id
    WHERE x.n BETWEEN ? AND ? AND o.ref != x.resident_ref"""
_BY_THE_FILE = "CROSS JOIN vehicles v ON v.plate = x.plate"
_BY_THE_STORE = """CROSS JOIN credentials c ON c.kind = 'card' AND c.value = x.card
    CROSS JOIN vehicles v ON v.id = c.vehicle_id"""


def no_longer_fit(
    conn: sqlite3.Connection, kind: str, given: frozenset[str], span: tuple[int, int]
) -> list[str]:
    """Why rows first..last (`span`) of `kind`, from files with the optional columns `given`, can
    no longer be written as they were checked: one line per row and reason, naming the row by its
    key (the staged rows do not know their file's line)."""

    def gone(sql: str, row: str, column: str, what: str) -> list[str]:
        return [
            f"{row} {key}: {column}: no {what} {value!r} in the store any more"
            for key, value in conn.execute(sql, span)
        ]

    if kind == "vehicles":
        return gone(_VEHICLE_OWNER_GONE, "vehicle", "resident_ref", "resident") + [
            f"vehicle {plate}: resident_ref: card {card}: {card_car_problem(plate, holder, {plate: ref})}; "
            "move the card or clear its plate in the same change"
            for card, plate, ref, holder in conn.execute(_CARD_LEFT_ON_CAR, span)
        ]
    if kind == "cards":
        column, car = ("plate", _BY_THE_FILE) if "plate" in given else ("resident_ref", _BY_THE_STORE)
        return (
            gone(_CARD_OWNER_GONE, "card", "resident_ref", "resident")
            + gone(_CARD_CAR_GONE, "card", "plate", "vehicle")
            + [
                f"card {card}: {column}: {card_car_problem(plate, ref, {plate: owner})}"
                for card, plate, owner, ref in conn.execute(_CARD_ON_ANOTHERS_CAR.format(car=car), span)
            ]
        )
    if kind == "slots":
        cars = gone(_SLOT_CAR_GONE, "slot", "plates", "vehicle") if "plates" in given else []
        return gone(_SLOT_OWNER_GONE, "slot", "resident_ref", "resident") + cars
    return []  # a resident's row names nothing
