"""Directory entries pushed by the central server, checked into rows: pure functions of JSON.

Residents, vehicles, cards and slots take the same checks as a CSV import (one set of rules for a
plate, a card number, a date); passes have their own. Clear phone and ID numbers are masked and
hashed here and go no further. A plate is read as the register holds it (csv_rows.stored_plate), not
as a person types one: the centre names the cars as the gateway sent them up, an army car's ED12345
among them, which a typed or imported plate must write ED-12345 (a green plate's province left out).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from gateway.core.credentials import BadCredential, canonical
from gateway.privacy import (
    ID_KINDS,
    IdKind,
    Secrets,
    mask_numbers_in,
    normalize_document,
    normalize_number,
)
from gateway.quoting import cut, quoted
from gateway.store.csv_rows import (
    CardRow,
    ResidentRow,
    RowError,
    SlotRow,
    VehicleRow,
    _flag,
    _period,
    _text,
    card_value,
    hours_value,
    parse_card,
    parse_resident,
    parse_slot,
    parse_vehicle,
    stored_plate,
    whole_number,
)
from gateway.store.passes import FIELDS as VISITOR_FIELDS
from gateway.typed import typed

# The fields of each kind of entry: (required, optional). The entry's own "kind" comes on top.
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "resident": (
        {"ref", "building", "unit", "name"},
        {"room", "phone", "valid_from", "valid_to", "blocked"},
    ),
    "vehicle": (
        {"plate", "resident"},
        {"class", "monthly_until", "valid_from", "valid_to", "blocked", "previous_plate"},
    ),
    "card": ({"card", "resident"}, {"plate", "valid_from", "valid_to", "hours", "blocked"}),
    "slot": ({"zone", "number"}, {"resident", "plates"}),
    "pass": (
        {"ref", "pass_kind", "name", "valid_from", "valid_to"},
        {
            "phone",
            "id_number",
            "id_kind",
            "host_building",
            "host_unit",
            "company",
            "destination",
            "reason",
            "passengers",
            "plate",
            "vehicle_class",
            "hours",
            "registered_fields",
            "blocked",
            "credentials",
        },
    ),
}
# What identifies an entry of each kind, for deletes and duplicates.
KEYS: dict[str, tuple[str, ...]] = {
    "resident": ("ref",),
    "vehicle": ("plate",),
    "card": ("card",),
    "slot": ("zone", "number"),
    "pass": ("ref",),
}
_REGISTERED = set(VISITOR_FIELDS)
_VEHICLE_CLASSES = ("car", "motorcycle", "bicycle")
_PERSONAL = {"phone", "id_number"}


class EntryError(ValueError):
    """One entry is wrong: `where` names it (kind and key, or its index)."""


class NeverRead(EntryError):
    """A card entry whose number no card reader of the site gives (csv_rows.whole_number), with
    its row: refused if new, taken if the gateway holds that card for that resident already
    (staging.py _read): it came while a line reader was a card reader here, or before the rule,
    and refusing the whole snapshot for it stopped every other change (Review 66 R1)."""

    def __init__(self, message: str, row: CardRow) -> None:
        super().__init__(message)
        self.row = row


@dataclass(frozen=True, slots=True)
class PassRow:
    ref: str
    kind: str
    name: str
    phone_masked: str
    phone_hash: str
    id_masked: str
    id_hash: str
    host_building: str
    host_unit: str
    company: str
    destination: str
    reason: str
    passengers: int
    plate: str | None
    valid_from: str | None
    valid_to: str | None
    hours: str
    registered_fields: str
    blocked: bool
    credentials: tuple[tuple[str, str], ...]  # (kind, value)
    vehicle_class: str = "car"
    id_kind: str = "resident_id"


Row = ResidentRow | VehicleRow | CardRow | SlotRow | PassRow


def describe(entry: Any, index: int) -> str:
    if isinstance(entry, dict) and entry.get("kind") in KEYS:
        key = cut("/".join(str(entry.get(k, "?")) for k in KEYS[entry["kind"]]))
        return f"entry {index} ({entry['kind']} {key})"
    return f"entry {index}"


def parse_entry(
    entry: Any, tz: ZoneInfo, secrets: Secrets, card_digits: int | None = None
) -> tuple[str, Row]:
    """(kind, row) of one entry; raises EntryError with a readable message. `card_digits`
    (csv_rows.card_digits): a card number the site's readers give with that many digits, checked
    as a CSV import checks it, for a card entry and a pass's card credential alike."""
    if not isinstance(entry, dict):
        raise EntryError("is not a JSON object")
    kind = entry.get("kind")
    if kind not in FIELDS:
        raise EntryError(f"kind {quoted(kind)} is not one of {sorted(FIELDS)}")
    required, optional = FIELDS[kind]
    names = set(entry) - {"kind"}
    if missing := required - names:
        raise EntryError(f"missing {sorted(missing)}")
    if unknown := names - required - optional:
        raise EntryError(
            f"unknown field(s) {quoted(sorted(unknown))}; {kind} takes {sorted(required | optional)}"
        )
    try:
        if kind == "pass":
            return kind, _pass(entry, tz, secrets, card_digits)
        row = _csv_row(entry)
        if kind == "resident":
            if masked_phone(entry):
                del row["phone"]  # as an entry without one: the phone stored stays
            return kind, parse_resident(row, tz)
        if kind == "vehicle":
            return kind, _vehicle(row, tz)
        if kind == "card":
            card = parse_card(row, tz, stored_plate)
            if card_digits is not None:
                try:
                    whole_number(card.card, card_digits)
                except RowError as exc:
                    raise NeverRead(f"{_field(exc.column)}: {exc}", card) from None
            return kind, card
        return kind, parse_slot(row, tz, stored_plate)
    except RowError as exc:
        if exc.column in _PERSONAL:
            # The error goes upstream in a sync_error reply: never with the number in it.
            raise EntryError(
                f"{exc.column}: is not a valid {exc.column.replace('_', ' ')} "
                "(the value is not repeated here)"
            ) from None
        raise EntryError(f"{_field(exc.column)}: {exc}") from None


def _field(column: str) -> str:
    """The entry's field a CSV column came from (_csv_row): the problem names what the centre sent."""
    return "resident" if column == "resident_ref" else column


def masked_phone(entry: dict[str, Any]) -> bool:
    """A resident entry's `phone` given masked (138****8000): the number as the booth's `registry`
    record sent it up, echoed by a centre that keeps what it was told. Its digits are no number:
    taken as one, its hash was the mask's (1388000), and the guard's lookup by the resident's real
    phone found nobody. Such an entry is staged as one without `phone` (the phone stored stays)."""
    phone = entry.get("phone")
    return isinstance(phone, str) and "*" in typed(phone)


def parse_key(entry: Any) -> tuple[str, tuple[str, ...]]:
    """(kind, key) of a delete: {"kind": "card", "card": "..."}. A card's number is not checked
    for its digits here: one the store holds as sent is struck off, however short (staging.py
    _card_deletes, which refuses a short one naming nothing held)."""
    if not isinstance(entry, dict) or entry.get("kind") not in KEYS:
        raise EntryError(f"a delete names its kind ({sorted(KEYS)}) and key")
    kind = entry["kind"]
    names = KEYS[kind]
    if set(entry) != {"kind", *names} or not all(isinstance(entry[n], str) for n in names):
        raise EntryError(f"a {kind} delete has exactly the text field(s) {list(names)}")
    try:
        if kind == "vehicle":
            # It names a car the store holds, as stored: an army plate sent as ED12345 is struck off.
            return kind, (stored_plate(entry["plate"]),)
        if kind == "card":
            return kind, (card_value(entry["card"]),)
    except RowError as exc:
        raise EntryError(f"{_field(exc.column)}: {exc}") from None
    return kind, tuple(entry[n].strip() for n in names)


def row_key(kind: str, row: Row) -> tuple[str, ...]:
    if isinstance(row, ResidentRow | PassRow):
        return (row.ref,)
    if isinstance(row, VehicleRow):
        return (row.plate,)
    if isinstance(row, CardRow):
        return (row.card,)
    return (row.zone, row.number)


def _csv_row(entry: dict[str, Any]) -> dict[str, str]:
    """JSON values as the CSV parsers read them: text, "1"/"0", lists joined by ';'."""
    row: dict[str, str] = {}
    for name, value in entry.items():
        kind = type(value)
        if kind is str:  # nearly every value: the fast path of 100,000-entry snapshots
            row["resident_ref" if name == "resident" else name] = value
            continue
        if name == "kind":
            continue
        column = "resident_ref" if name == "resident" else name
        if value is None:
            row[column] = ""
        elif kind is bool:
            row[column] = "1" if value else "0"
        elif kind is list:
            if not all(type(v) is str for v in value):
                raise RowError(name, "must be a list of text")
            row[column] = ";".join(value)
        elif kind is int:
            row[column] = str(value)
        else:
            raise RowError(name, f"{quoted(value)} is not text")
    row.pop("kind", None)
    return row


def _vehicle(row: dict[str, str], tz: ZoneInfo) -> VehicleRow:
    """A vehicle entry, with the plate it was registered under before (`previous_plate`: the centre
    re-registered the car under a new plate, a green new-energy plate replacing a blue one). The
    car keeps what is its own (its stay, payments and charges owed, cards, slot, block), as an
    admin's plate correction keeps them (store/registry_vehicles.py re_registered). A centre keyed
    by plate could only delete the old plate and add the new: the car left on its new plate free,
    and its stay under the old one stayed open for good."""
    vehicle = parse_vehicle(row, tz, stored_plate)
    previous = _text(row, "previous_plate")
    if not previous:
        return vehicle
    old = stored_plate(previous, "previous_plate")
    if old == vehicle.plate:
        raise RowError(
            "previous_plate",
            f"is the entry's own plate {vehicle.plate}: send the plate the car had before, or leave it out",
        )
    return replace(vehicle, previous_plate=old)


def _listed(text: str) -> list[str]:
    return text.replace(",", ";").split(";")


def _pass(entry: dict[str, Any], tz: ZoneInfo, secrets: Secrets, card_digits: int | None) -> PassRow:
    row = _csv_row({k: v for k, v in entry.items() if k not in ("credentials", "passengers")})
    kind = _text(row, "pass_kind")
    if kind not in ("visitor", "contractor"):
        raise RowError("pass_kind", f"{quoted(kind)} is not visitor or contractor")
    start, end = _period(row, tz)
    if start is None or end is None:
        raise RowError("valid_to", "a pass needs valid_from and valid_to")
    phone = _text(row, "phone", limit=20)
    if phone and len(normalize_number(phone)) < 7:
        raise RowError("phone", "is not a phone number")
    id_number = _text(row, "id_number", limit=30)
    id_kind = _id_kind(_text(row, "id_kind"))
    shortest = 6 if id_kind == "resident_id" else 5  # a passport number may have 5 characters
    if id_number and len(normalize_document(id_number, id_kind)) < shortest:
        raise RowError("id_number", "is not an ID number")
    # A list, or text split at ';' as a CSV cell, or at ',' as the gateway's own `pass` record
    # sends them up: a centre that keeps a booth pass as told can send it back down as its own.
    hours = hours_value(_listed(_text(row, "hours", limit=200)))
    fields = [f.strip() for f in _listed(_text(row, "registered_fields", limit=200)) if f.strip()]
    if bad := set(fields) - _REGISTERED:
        raise RowError("registered_fields", f"{quoted(sorted(bad))} not among {sorted(_REGISTERED)}")
    passengers = entry.get("passengers", 1)
    if not isinstance(passengers, int) or isinstance(passengers, bool) or not 1 <= passengers <= 60:
        raise RowError("passengers", f"{quoted(passengers)} is not a number of people from 1 to 60")
    plate = _text(row, "plate")
    credentials = _pass_credentials(entry.get("credentials", []), card_digits)
    _one_vehicle(stored_plate(plate) if plate else None, credentials)
    vehicle_class = _text(row, "vehicle_class").lower() or "car"
    if vehicle_class not in _VEHICLE_CLASSES:
        raise RowError(
            "vehicle_class", f"{quoted(vehicle_class)} is not one of {', '.join(_VEHICLE_CLASSES)}"
        )
    phone_kept, id_kept = secrets.kept_phone(phone), secrets.kept_id(id_number, id_kind)
    return PassRow(
        ref=_text(row, "ref", required=True, limit=40),
        kind=kind,
        name=_text(row, "name", required=True, limit=40),
        phone_masked=phone_kept[0],
        phone_hash=phone_kept[1],
        id_masked=id_kept[0],
        id_hash=id_kept[1],
        id_kind=id_kind,
        host_building=_text(row, "host_building", limit=20),
        host_unit=_text(row, "host_unit", limit=20),
        # Sent back up with the pass (store/passes.upstream): a phone number in them masked.
        company=mask_numbers_in(_text(row, "company", limit=60)),
        destination=mask_numbers_in(_text(row, "destination", limit=60)),
        reason=mask_numbers_in(_text(row, "reason", limit=100)),
        passengers=passengers,
        plate=stored_plate(plate) if plate else None,
        valid_from=start,
        valid_to=end,
        hours=hours,
        registered_fields=",".join(fields),
        blocked=_flag(row, "blocked"),
        credentials=credentials,
        vehicle_class=vehicle_class,
    )


def _id_kind(text: str) -> IdKind:
    """The document a pass's ID number is from (gateway/privacy.py IdKind); none given, a resident ID
    card, as every number was before other documents were taken."""
    for kind in ID_KINDS:
        if kind == (text.strip().lower() or "resident_id"):
            return kind
    raise RowError("id_kind", f"{quoted(text)} is not one of {', '.join(ID_KINDS)}")


def _one_vehicle(plate: str | None, credentials: tuple[tuple[str, str], ...]) -> None:
    """A pass admits one vehicle. Its car's stay is the pass's (gateway.store.lookup.subject_of),
    so a second van on it would share the first's stay: its entry would close the first van's stay
    as a re-entry (or anti-passback refuse it), and the first van's exit settle the second's."""
    plates = {value for kind, value in credentials if kind == "plate"} | ({plate} if plate else set())
    if len(plates) > 1:
        raise RowError(
            "credentials",
            f"the pass and its credentials name {len(plates)} plates ({', '.join(sorted(plates))}): "
            "send one pass per vehicle, each with its own ref, its plate as both the pass's plate "
            "and its plate credential",
        )


def _pass_credentials(value: Any, card_digits: int | None) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list):
        raise RowError("credentials", "must be a list of {kind, value}")
    out = []
    for item in value:
        if not isinstance(item, dict) or set(item) != {"kind", "value"} or not isinstance(item["value"], str):
            raise RowError("credentials", f"{quoted(item)} is not {{kind, value}}")
        kind, text = item["kind"], item["value"]
        if kind == "card":
            out.append(("card", card_value(text, card_digits)))
        elif kind == "plate":
            out.append(("plate", stored_plate(text, "credentials")))
        elif kind == "qr":
            try:  # what the door's scanner accepts, or no scan of it would ever open the door
                out.append(("qr", canonical("qr", text)))
            except BadCredential:
                raise RowError(
                    "credentials", "a QR value is 8 to 64 of 0-9, A-Z, a-z, '_' and '-' (what the door reads)"
                ) from None
        else:
            raise RowError("credentials", f"kind {quoted(kind)} is not card, qr or plate")
    return tuple(out)
