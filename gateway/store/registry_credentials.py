"""Credentials in the register: a card or plate blocked at once (set_blocked) and a block's record
(record_block, audit_block), a card added to a resident, a credential deleted.

Apart from registry.py's lookup and the residents and vehicles: what a guard does at the booth for
a lost card, and how a card registered in one form is found in another (card_forms.py).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any, Literal

from gateway.core.card_forms import TEN_DIGITS, TenDigits
from gateway.errors import Conflict, NotFound
from gateway.events import sent_value
from gateway.privacy import mask_card
from gateway.store.audit import audit, transaction
from gateway.store.card_forms import cards_typed, registered_cards_named
from gateway.store.outbox import enqueue
from gateway.store.registry_base import (
    _changed,
    _check_period,
    _db,
    _plate_of,
    _ref,
    _resident_exists,
    _sendable,
    _shown,
)

# A credential with the keys its holder has at the centre: the resident's ref, or the pass's (null
# for a pass registered at the booth), and whether it is blocked now.
_CREDENTIAL = """SELECT c.id, c.resident_id, c.pass_id, c.kind, c.value, r.ref, p.ref, c.blocked
    FROM credentials c LEFT JOIN residents r ON r.id = c.resident_id
    LEFT JOIN passes p ON p.id = c.pass_id WHERE """


def set_blocked(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    credential: int | tuple[str, str],
    blocked: bool,
    reason: str,
    *,
    unknown_vehicle: Literal["refuse", "temporary"] = "temporary",
    ten_digits: TenDigits = "decimal",
    readings: tuple[TenDigits, ...] = (),
) -> dict[str, Any]:
    """Block (or unblock) a card or plate at once: the next presentation is refused.

    `credential` is its id, or (kind, value) as typed at the booth. `unknown_vehicle` is the site's
    policy for a car not on the register (policy.unknown_vehicle), which says what an unregistered
    plate typed here does at the lane. A card typed is the registered card a reader giving that
    number finds (its Wiegand number, printed on the card too, is the card registered as printed:
    _typed_card); `ten_digits` is how the register's 10-digit numbers read
    (card_forms.register_ten_digits), `readings` how 10 digits typed are (card_forms.typed_readings:
    both ways where a reader of the site gives hex; the register's way where not given).

    The `registry` record names the credential's holder by the key the centre knows it by: the
    resident's `ref`, or the pass's (`pass_ref`). A QR's value never leaves the gateway, and the
    pass's row id is the gateway's own: without its ref, the block of a lost printout of a pass
    the centre sent down named nothing the centre could tell it by.

    One blocked already (or not blocked, to unblock) is 409 `already_done`, nothing written: pressed
    on two tablets, or on a lookup page drawn before, it is on record once (_done_already).
    """
    with transaction(conn):
        if isinstance(credential, int):
            row = conn.execute(_CREDENTIAL + "c.id = ?", (credential,)).fetchone()
            if row is None:
                raise NotFound(
                    f"no credential {credential} is registered",
                    fix="it was deleted since: look the resident up again on the lookup page",
                )
        else:
            typed = _typed_card(conn, credential, blocked, ten_digits, readings or (ten_digits,))
            row = conn.execute(_CREDENTIAL + "c.kind = ? AND c.value = ?", typed).fetchone()
            if row is None:
                raise _not_registered(*credential, blocked, unknown_vehicle, readings or (ten_digits,))
        cid, resident_id, pass_id, kind, value, resident_ref, pass_ref, was_blocked = row
        if bool(was_blocked) == blocked:
            raise _done_already(kind, value, blocked)
        conn.execute("UPDATE credentials SET blocked = ? WHERE id = ?", (int(blocked), cid))
        action = "block" if blocked else "unblock"
        enqueue(
            conn,
            "registry",
            {
                "op": action,
                "entity": "credential",
                "id": cid,
                "kind": kind,
                "value": sent_value(kind, value),
                "resident": resident_ref,
                "pass_id": pass_id,
                "pass_ref": pass_ref,
                "at": at.isoformat(),
            },
            at,
        )
        audit(conn, at, actor, f"credential.{action}", f"{kind}:{_shown(kind, value)}", reason)
    return {
        "id": cid,
        "kind": kind,
        "blocked": blocked,
        "holder": "resident" if resident_id is not None else "pass",
    }


def _typed_card(
    conn: sqlite3.Connection,
    credential: tuple[str, str],
    blocked: bool,
    ten_digits: TenDigits,
    readings: tuple[TenDigits, ...],
) -> tuple[str, str]:
    """A card typed to be blocked (or its block lifted, `blocked` False) as the register holds it,
    found as a reader giving that number finds it (card_forms.registered_cards_named): a lost card
    blocked by its Wiegand number was "not registered, refused already", and kept opening the
    Wiegand lane. A number that names two registered cards (a Wiegand 26 one, 24 bits of the id)
    blocks (or unblocks) neither: the guard is told, and told to do what he asked another way (an
    admin lifting a block was told to block the card; the error's data.action says which was asked,
    for the pages' words). Ten digits read both ways (`readings`) that are one card printed so and
    another whose hex id they are block neither either. Lifting a block, a number naming several
    cards of which exactly one is blocked lifts that one's (_the_one_blocked)."""
    kind, value = credential
    if kind != "card":
        return credential
    named = cards_typed(conn, value, ten_digits, readings)
    cards = list(dict.fromkeys(card for found in named.values() for card in found))
    action = "block" if blocked else "unblock"
    lifted = _the_one_blocked(conn, cards) if not blocked and len(cards) > 1 else None
    if lifted is not None:
        return (kind, lifted)
    if len(cards) == 2 and [len(found) for found in named.values()] == [1, 1]:
        printed, hex_id = (_shown(kind, named[way][0]) for way in ("decimal", "hex"))
        raise Conflict(
            f"card {_shown(kind, value)} is 2 registered cards: read as the number printed on a card it "
            f"is {printed}, read as the 10 hex digits an EM4100 reader set to hex gives it is {hex_id}; "
            f"none was {action}ed",
            fix=f"{action} it on its resident's page (查询 by these digits lists both)",
            code="card_ambiguous",
            data={"cards": len(cards), "state": "two_readings", "action": action},
        )
    if len(cards) > 1:
        raise Conflict(
            f"card {_shown(kind, value)} is {len(cards)} registered cards to a reader giving that "
            f"number ({', '.join(_shown(kind, c) for c in cards)}): it carries too few bits of the "
            f"card's id to tell them apart; none was {action}ed",
            fix=f"type the 10 digits printed on the card, or {action} it on its resident's page",
            code="card_ambiguous",
            data={"cards": len(cards), "action": action},
        )
    return (kind, cards[0]) if cards else credential


def _the_one_blocked(conn: sqlite3.Connection, cards: list[str]) -> str | None:
    """Of the registered cards a number typed to lift a block names, the one blocked, where exactly
    one is: lifting the block is then no guess (the others have none to lift), and the card is on
    record as itself (Review 66 R3: an admin was refused, and told to block it)."""
    marks = ",".join("?" * len(cards))
    sql = f"SELECT value FROM credentials WHERE kind = 'card' AND blocked = 1 AND value IN ({marks})"
    found = conn.execute(sql, cards).fetchall()
    return str(found[0][0]) if len(found) == 1 else None


def _done_already(kind: str, value: str, blocked: bool) -> Conflict:
    """A block asked for a card, plate or QR blocked already (or lifted from one not blocked): on
    another tablet, or from a lookup page drawn before. Done again, it told the guard 已禁用 as if he
    had done it, and a second audit row and `registry` record told the centre two guards blocked it.
    Its `state` and `kind` say what it is now, for the pages to word it (该卡已是禁用状态): typed
    again on the tablet that blocked it, nobody else did anything, and 已由他人处理 was false."""
    state = "blocked already" if blocked else "not blocked: there is no block to lift"
    return Conflict(
        f"{kind} {_shown(kind, value)} is {state}",
        fix="nothing to do",
        code="already_done",
        data={"state": "blocked" if blocked else "unblocked", "kind": kind},
    )


def _not_registered(
    kind: str,
    value: str,
    blocked: bool,
    unknown_vehicle: Literal["refuse", "temporary"],
    readings: tuple[TenDigits, ...],
) -> NotFound:
    """A card, QR or plate typed to be blocked (or unblocked) that nobody holds. Lifting a block
    on it: there is none to lift (deleted since, or typed wrong). Blocking it: a card or QR nobody
    holds is refused at every reader already. A plate nobody holds is let in as a temporary car
    where the site's policy admits unregistered cars: the guard must not be told it is kept out,
    nor told of a card, but how to keep that car out (gateway/web/i18n.py words
    `unregistered_plate`). Ten digits are said as this site reads them (`readings`)."""
    wanted = f"no {kind} {_shown(kind, value)} is registered"
    if not blocked:
        return NotFound(
            f"{wanted}: there is no block to lift",
            fix=f"check the {kind} as typed: one deleted since took its block with it, and one never "
            "registered was never blocked",
        )
    if kind == "plate" and unknown_vehicle == "temporary":
        return NotFound(
            wanted,
            fix="an unregistered car comes in as a temporary one here "
            '(policy.unknown_vehicle = "temporary"), so there is nothing to block: to keep this car '
            "out, close the car entrance when it comes, and call the police for a stolen car",
            code="unregistered_plate",
            data={"plate": value},
        )
    already = {
        "card": "an unknown card is refused already; check the number",
        "qr": "an unknown QR code is refused already; check the code as typed",
        "plate": 'an unregistered car is refused already (policy.unknown_vehicle = "refuse"); '
        "check the plate",
    }
    if kind == "card" and value.isdigit() and len(value) == TEN_DIGITS:
        return NotFound(wanted, fix=f"{_read_as(readings)}; {already[kind]}")
    return NotFound(wanted, fix=already[kind])


def _read_as(readings: tuple[TenDigits, ...]) -> str:
    """How this site reads 10 digits typed, for a guard told no card is them."""
    if set(readings) == {"decimal", "hex"}:
        return (
            "no registered card is these 10 digits read either way: as the number printed on a card, "
            "or as the 10 hex digits an EM4100 reader set to hex gives"
        )
    if readings == ("hex",):
        return "no registered card is these 10 digits read as the hex digits this site's EM4100 readers give"
    return "no registered card is these 10 digits read as the number printed on a card"


def record_block(
    conn: sqlite3.Connection, at: datetime, actor: str, what: str, value: str, blocked: bool, reason: str
) -> None:
    """A block set or lifted on a resident (`value` its ref) or a card or plate (by an admin's edit
    or a CSV import), on record and upstream. The caller owns the transaction."""
    enqueue(conn, "registry", audit_block(conn, at, actor, what, value, blocked, reason), at)


def audit_block(
    conn: sqlite3.Connection, at: datetime, actor: str, what: str, value: str, blocked: bool, reason: str
) -> dict[str, Any]:
    """A block set or lifted, on the audit trail; returns the `registry` record that tells the
    centre of it. One the centre set or lifted itself (its entry's `blocked`) goes no further."""
    action = "block" if blocked else "unblock"
    entity = "resident" if what == "resident" else "credential"
    target = f"resident:{value}" if what == "resident" else f"{what}:{_shown(what, value)}"
    audit(conn, at, actor, f"{entity}.{action}", target, reason)
    return {"op": action, "entity": entity, "kind": what, "value": value, "at": at.isoformat()}


def add_card(
    conn: sqlite3.Connection,
    at: datetime,
    actor: str,
    card: str,
    resident_id: int,
    vehicle_id: int | None,
    valid_from: datetime | None,
    valid_to: datetime | None,
    hours: str,
    ten_digits: TenDigits = "decimal",
) -> int:
    """A card for a resident. One registered in another form (its 10 digits printed, the Wiegand
    number a reader shows: 0372653390 and 054:15694 are one card) is refused as the same card: both
    stored, a reader giving one form let in one holder and the other form the other, and blocking
    one left the other opening. `ten_digits`: how the register's 10-digit numbers read
    (card_forms.register_ten_digits)."""
    with transaction(conn):
        _resident_exists(conn, resident_id)
        if (
            vehicle_id is not None
            and not conn.execute(
                "SELECT 1 FROM vehicles WHERE id = ? AND resident_id = ?", (vehicle_id, resident_id)
            ).fetchone()
        ):
            raise NotFound(
                f"resident {resident_id} has no vehicle {vehicle_id}",
                fix="add the vehicle first, or leave it out",
            )
        _check_period(_db(valid_from), _db(valid_to))
        if conn.execute("SELECT 1 FROM credentials WHERE kind = 'card' AND value = ?", (card,)).fetchone():
            raise Conflict(
                f"card {mask_card(card)} is registered already",
                fix="delete the old card first if it moves to another resident",
            )
        if named := registered_cards_named(conn, card, ten_digits):
            forms = ", ".join(mask_card(other) for other in named)
            raise Conflict(
                f"card {mask_card(card)} is registered already as {forms}, the same card read another way",
                fix="delete the old card first if it moves to another resident",
            )
        cur = conn.execute(
            "INSERT INTO credentials (kind, value, resident_id, vehicle_id, valid_from, valid_to, "
            "hours) VALUES ('card', ?, ?, ?, ?, ?, ?)",
            (card, resident_id, vehicle_id, _db(valid_from), _db(valid_to), hours),
        )
        cid = int(cur.lastrowid or 0)
        entry: dict[str, Any] = {"card": card, "resident": _ref(conn, resident_id)}
        entry |= {"plate": _plate_of(conn, vehicle_id), "valid_from": valid_from, "valid_to": valid_to}
        entry["hours"] = [h for h in hours.split(",") if h]  # a list, as a snapshot's entry has them
        _changed(conn, at, actor, "add", "card", cid, mask_card(card), **_sendable(entry, at))
    return cid


def delete_credential(conn: sqlite3.Connection, at: datetime, actor: str, cid: int) -> None:
    with transaction(conn):
        row = conn.execute("SELECT kind, value, vehicle_id FROM credentials WHERE id = ?", (cid,)).fetchone()
        if row is None:
            raise NotFound(f"no credential {cid}", fix="search for the resident on the lookup page")
        if row[0] == "plate" and row[2] is not None:
            raise Conflict("a vehicle's plate goes with the vehicle", fix="delete the vehicle instead")
        conn.execute("DELETE FROM credentials WHERE id = ?", (cid,))
        _changed(
            conn, at, actor, "delete", row[0], cid, _shown(row[0], row[1]), value=sent_value(row[0], row[1])
        )
