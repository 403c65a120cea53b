"""One card, every reader: a card read in another form than the register holds it is found.

A site may mix reader models: EM4100 readers giving the printed decimal number or all 10 hex digits,
Wiegand 26 and 34 converters giving facility:card (gateway/core/card_forms.py). The register keeps
each card in one form. A read the register does not hold as read, of a card form, is the
registered card it agrees with on the most bits, when that is one card; before the decision, so
that the decision, every later lookup, the access record and the centre see the registered number
(docs/hardware.md, *Card numbers: one card, every reader*). At an exit, one the register no longer
holds is the struck-off card it agrees with, that let in a car still inside or a holder on foot
(gateway/store/lookup.py _struck_off_let_in, _struck_off_on_foot). A number typed at the booth to
block a card is the card a reader giving it finds (registered_cards_named).
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from gateway.config.devices import SerialReaderDevice
from gateway.config.models import SiteConfig
from gateway.core import Presented
from gateway.core.card_forms import (
    FORM_BITS,
    TEN_DIGITS,
    WIEGAND_26_BITS,
    CardId,
    Form,
    TenDigits,
    card_id,
    closest,
    numbers_agreeing,
    spelled,
)
from gateway.privacy import mask_card

log = logging.getLogger(__name__)

_REGISTERED = "SELECT 1 FROM credentials WHERE kind = 'card' AND value = ?"
_ANY_OF = "SELECT value FROM credentials WHERE kind = 'card' AND value IN ({})"
# The register's cards whose id may end in a read's low 24 bits (card_forms.agreed_bits then checks
# each in full): facility:card numbers by their card part (the low 16 bits), 10-digit ones as
# decimal or as hex. No index holds these: every card is read, only for a Wiegand 26 read no card
# matches at a register holding hex or Wiegand 34 numbers (card_forms.numbers_agreeing).
_LOW_24_BITS_MAY_BE = """
SELECT value FROM credentials WHERE kind = 'card' AND (
    (instr(value, ':') > 1 AND CAST(substr(value, instr(value, ':') + 1) AS INTEGER) = :card_part)
    OR (length(value) = 10 AND (CAST(value AS INTEGER) & 16777215 = :low24 OR substr(value, 5) = :hex24))
)
"""
_ALL_CARDS = "SELECT value FROM credentials WHERE kind = 'card' ORDER BY value"
# The register's newest credential: ids are never given again (schema migration 48), and a card's
# number is never changed in place, so the cards after the newest seen are the ones added since.
_NEWEST = """
SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'credentials'), 0),
           coalesce((SELECT max(id) FROM credentials), 0))
"""
_CARDS_ADDED = "SELECT value FROM credentials WHERE id > ? AND id <= ? AND kind = 'card'"
# The cards struck off that let in a car still inside, by its entry's record (lookup.py
# _STAY_LET_IN_ON, by the same two ranges of the open stays other than vehicle:N): a car park's
# strangers, visitors and cars struck off, few.
_STRUCK_OFF_LET_IN = """
WITH not_registered_cars AS (
    SELECT entry_event FROM stays WHERE exited_at IS NULL AND subject < 'vehicle:'
    UNION ALL
    SELECT entry_event FROM stays WHERE exited_at IS NULL AND subject > 'vehicle;'
)
SELECT DISTINCT a.value FROM not_registered_cars s CROSS JOIN access_log a ON a.event_id = s.entry_event
WHERE a.kind = 'card' AND a.holder_kind IS NOT NULL
"""
# The cards struck off whose holder, forgotten too, came in on foot on them (lookup.py _LET_IN_ON_FOOT).
_STRUCK_OFF_ON_FOOT = """
SELECT s.value FROM struck_off_on_foot s
WHERE s.kind = 'card'
  AND NOT CASE s.holder_kind WHEN 'resident' THEN EXISTS (SELECT 1 FROM residents r WHERE r.id = s.holder_id)
        ELSE EXISTS (SELECT 1 FROM passes p WHERE p.id = s.holder_id) END
"""
# Reads whose collision was logged at WARNING (then at DEBUG): a resident tapping again and again.
_WARNED_AT_MOST = 1000


def _em4100_readers(cfg: SiteConfig) -> list[SerialReaderDevice]:
    """The site's EM4100 readers that open lanes (a patrol checkpoint's taps are kept as read)."""
    return [
        d
        for d in cfg.devices
        if isinstance(d, SerialReaderDevice) and d.format == "em4100" and d.role == "access"
    ]


def register_ten_digits(cfg: SiteConfig) -> TenDigits:
    """How the register's 10-digit cards read: hex where every EM4100 reader of the site gives hex
    (the register was imported in that form), else decimal, the printed number."""
    numbers = {d.em4100_number for d in _em4100_readers(cfg)}
    return "hex" if numbers == {"hex"} else "decimal"


def typed_readings(cfg: SiteConfig) -> tuple[TenDigits, ...]:
    """How 10 digits typed at the booth (查询, 立即禁用, lifting a block) are read: as the register
    reads them, and, where an EM4100 reader of the site gives hex, as the number printed on a card
    and as a hex id both (as [patrol] guard_cards are): the guard has the card's printed number in
    hand, or one a hex reader showed, and cannot tell which (Review 66 I1: at a site of hex readers
    the printed 0372653390 was "an unknown card" while the card, 0016363D4E, kept opening)."""
    if any(d.em4100_number == "hex" for d in _em4100_readers(cfg)):
        return ("decimal", "hex")
    return (register_ten_digits(cfg),)


def wiegand_26_lanes(cfg: SiteConfig) -> list[str]:
    """The lanes with a Wiegand 26 reader, which tells cards apart by 24 bits of their id only."""
    return sorted(
        {
            d.lane
            for d in cfg.devices
            if isinstance(d, SerialReaderDevice)
            and d.format == "wiegand"
            and d.wiegand_bits == 26
            and d.role == "access"
        }
    )


class RegisteredCards:
    """The registered card a presented card is, however its reader wrote it."""

    def __init__(self, cfg: SiteConfig) -> None:
        self._register = register_ten_digits(cfg)
        # An EM4100 reader's 10 digits are in its own em4100_number; a line reader's and a guard's
        # typed number are read as the register's.
        self._reads = {d.id: d.em4100_number for d in _em4100_readers(cfg)}
        self._exits = {lane.id: lane.type for lane in cfg.lanes if lane.direction == "exit"}
        self._warned: set[str] = set()
        # The forms of the register's cards, kept up as cards are added (_held_forms).
        self._held: set[Form] = set()
        self._held_up_to = 0

    def as_registered(self, conn: sqlite3.Connection, p: Presented) -> Presented:
        """`p` with the registered number of its card, if the register holds it in another form and
        no other card as closely (at an exit: the struck-off card that let it in, if none); `p`
        itself for a card registered as read (the fast path), a plate or a pass, and a card the
        register does not hold (refused `unknown`), written as the register would write it."""
        if p.kind != "card":
            return p
        read = card_id(p.value, self._reads.get(p.device, self._register))
        if self._taken_as_read(p.value, read) and conn.execute(_REGISTERED, (p.value,)).fetchone():
            return p
        if read is None:
            return p
        found = closest(read, self._candidates(conn, read))
        if len(found) > 1:
            self._collision(p, read, found)
            return self._unmistakable(p, read)
        if not found:
            found = closest(read, self._struck_off(conn, p.lane))
        if len(found) != 1:
            return self._unmistakable(p, read)
        log.debug(
            "card %s read as %s at %s is registered as %s",
            mask_card(p.value),
            read.form,
            p.device or p.lane,
            mask_card(found[0]),
        )
        return replace(p, value=found[0])

    def _taken_as_read(self, value: str, read: CardId | None) -> bool:
        """Whether the register reads the number as its reader means it, so that the same number
        registered is the card: not a hex reader's all-digit id (0372653390, id 0x0372653390),
        which the register of printed numbers reads as another card's (id 0x0016363D4E)."""
        return read is None or card_id(value, self._register) == read

    def _unmistakable(self, p: Presented, read: CardId) -> Presented:
        """A read no registered card is, written so that no registered number spells it: a hex
        reader's all-digit id as its printed number (the low 32 bits: 0372653390 is 1919234960),
        for the lookup, the access record and the guard; as read otherwise."""
        if self._taken_as_read(p.value, read):
            return p
        return replace(p, value=spelled(CardId("EM4100 decimal", read.low & 0xFFFFFFFF)))

    def _candidates(self, conn: sqlite3.Connection, read: CardId) -> dict[str, CardId]:
        """The registered cards that may be the read's, each as the register means it."""
        return _registered_agreeing(conn, read, self._register, self._held_forms(conn))

    def _held_forms(self, conn: sqlite3.Connection) -> set[Form]:
        """The forms the register's cards are in: read in full once, then only the cards added
        since. A form whose cards were all struck off since is kept (a read may look further than
        needed, never less far) until the gateway starts again."""
        newest = conn.execute(_NEWEST).fetchone()[0]
        if newest < self._held_up_to:  # another register (a database put back): read it afresh
            self._held, self._held_up_to = set(), 0
        if newest > self._held_up_to:
            for (value,) in conn.execute(_CARDS_ADDED, (self._held_up_to, newest)):
                if (card := card_id(value, self._register)) is not None:
                    self._held.add(card.form)
            self._held_up_to = newest
        return self._held

    def _struck_off(self, conn: sqlite3.Connection, lane: str) -> dict[str, CardId]:
        """At an exit, the cards struck off the register that may still let out what they let in:
        a car still inside at a vehicle exit, a holder forgotten too at a door (docs/parking.md)."""
        lane_type = self._exits.get(lane)
        if lane_type is None:
            return {}
        rows = conn.execute(_STRUCK_OFF_LET_IN if lane_type == "vehicle" else _STRUCK_OFF_ON_FOOT)
        return {value: card for (value,) in rows if (card := card_id(value, self._register)) is not None}

    def _collision(self, p: Presented, read: CardId, found: list[str]) -> None:
        """Refused `unknown`: said at WARNING the first time for a read, then at DEBUG."""
        if len(self._warned) >= _WARNED_AT_MOST:
            self._warned.clear()
        first = p.value not in self._warned
        self._warned.add(p.value)
        log.log(
            logging.WARNING if first else logging.DEBUG,
            "card %s read as %s at %s matches %d registered cards (%s) by the %d bits it carries: "
            "refused unknown; fix=if they are one card registered in two forms, delete all but one; "
            "else give one of them another card, or put a reader that gives more of the id (EM4100, "
            "Wiegand 34) at lane %s",
            mask_card(p.value),
            read.form,
            p.device or p.lane,
            len(found),
            ", ".join(map(mask_card, found)),
            read.bits,
            p.lane,
        )


def registered_cards_named(conn: sqlite3.Connection, value: str, ten_digits: TenDigits) -> list[str]:
    """The registered cards a card number typed at the booth (to block or unblock it) names, as a
    reader giving that number finds them (RegisteredCards.as_registered; 10 digits read as the
    register's, `ten_digits`): itself where registered as typed; else the registered card agreeing
    with it on the most bits, two or more where the number cannot tell them apart (a Wiegand 26
    one); none for a card no reader would let in."""
    if conn.execute(_REGISTERED, (value,)).fetchone() is not None:
        return [value]
    typed = card_id(value, ten_digits)
    if typed is None:
        return []
    return closest(typed, _registered_agreeing(conn, typed, ten_digits, FORM_BITS))


def cards_typed(
    conn: sqlite3.Connection, value: str, ten_digits: TenDigits, readings: tuple[TenDigits, ...]
) -> dict[TenDigits, list[str]]:
    """The registered cards a card number typed at the booth names, by each way its digits are
    read (`readings`, typed_readings): 10 digits only, read both ways, are the card printed so and
    the card a hex reader reads so; any other number is read as the register reads it
    (registered_cards_named). `ten_digits`: how the register's 10-digit numbers read."""
    if len(set(readings)) < 2 or not (value.isdigit() and len(value) == TEN_DIGITS):
        return {ten_digits: registered_cards_named(conn, value, ten_digits)}
    found: dict[TenDigits, list[str]] = {}
    for reading in dict.fromkeys(readings):
        if reading == ten_digits:
            found[reading] = registered_cards_named(conn, value, ten_digits)
            continue
        typed = card_id(value, reading)
        agreeing = {} if typed is None else _registered_agreeing(conn, typed, ten_digits, FORM_BITS)
        found[reading] = [] if typed is None else closest(typed, agreeing)
    return found


def registered_cards_typed(
    conn: sqlite3.Connection, value: str, ten_digits: TenDigits, readings: tuple[TenDigits, ...]
) -> list[str]:
    """Every registered card the number typed names, read each way (cards_typed), each once."""
    named = cards_typed(conn, value, ten_digits, readings)
    return list(dict.fromkeys(card for cards in named.values() for card in cards))


def _registered_agreeing(
    conn: sqlite3.Connection, read: CardId, ten_digits: TenDigits, held: Iterable[Form]
) -> dict[str, CardId]:
    """The registered cards, of the forms `held`, that may be the read's, each as the register
    means it: asked for by every number agreeing with the read (card_forms.numbers_agreeing), or,
    where those are too many to list, every card read whose id may end in the read's low 24 bits."""
    numbers = numbers_agreeing(read, held)
    if numbers is None:
        low24 = read.low & 0xFFFFFF
        rows = conn.execute(
            _LOW_24_BITS_MAY_BE, {"card_part": low24 & 0xFFFF, "low24": low24, "hex24": f"{low24:06X}"}
        ).fetchall()
    elif numbers:
        rows = conn.execute(_ANY_OF.format(",".join("?" * len(numbers))), numbers).fetchall()
    else:
        rows = []
    return {value: card for (value,) in rows if (card := card_id(value, ten_digits)) is not None}


def card_register_warnings(conn: sqlite3.Connection, cfg: SiteConfig) -> list[str]:
    """What `import` says of the register's cards and the site's EM4100 and Wiegand readers
    (docs/hardware.md, *Card numbers: one card, every reader*): cards a Wiegand 26 reader cannot
    tell apart, and cards kept in Wiegand 26 form where no reader gives it. None where no such
    reader is configured."""
    readers = [
        d
        for d in cfg.devices
        if isinstance(d, SerialReaderDevice) and d.format in ("em4100", "wiegand") and d.role == "access"
    ]
    if not readers:
        return []
    ten_digits = register_ten_digits(cfg)
    cards = {value: card for (value,) in conn.execute(_ALL_CARDS) if (card := card_id(value, ten_digits))}
    lanes = wiegand_26_lanes(cfg)
    return _wiegand_26_collisions(cards, lanes) if lanes else _kept_as_wiegand_26(cards)


def _wiegand_26_collisions(cards: dict[str, CardId], lanes: list[str]) -> list[str]:
    """The registered cards a Wiegand 26 reader cannot tell apart (their ids end in the same 24
    bits), each group said once with what to do."""
    groups: dict[int, list[str]] = defaultdict(list)
    for value, card in cards.items():
        groups[card.low & ((1 << WIEGAND_26_BITS) - 1)].append(value)
    return [
        f"cards {', '.join(mask_card(v) for v in sorted(values))} are one card to the Wiegand 26 "
        f"reader at {', '.join(lanes)}: it reads 24 bits of a card's id, the same for them, and "
        "refuses them `unknown` (or, one of them registered in Wiegand 26 form, takes each for that "
        "one); if they are one card registered in two forms, delete all but one, else give one of "
        "them another card or put a Wiegand 34 or EM4100 reader there"
        for values in groups.values()
        if len(values) > 1
    ]


def _kept_as_wiegand_26(cards: dict[str, CardId]) -> list[str]:
    """Cards registered as Wiegand 26 numbers (FFF:CCCCC) where no reader gives that form: found,
    but by the 24 bits of the id the number carries, where the printed 10 digits carry 32."""
    kept = [value for value, card in cards.items() if card.form == "Wiegand 26"]
    if not kept:
        return []
    some = ", ".join(mask_card(v) for v in kept[:3]) + (", ..." if len(kept) > 3 else "")
    return [
        f"cards registered in Wiegand 26 form, which no reader of this site gives: {len(kept)} ({some}); "
        "its readers find them by the 24 bits of the id that form carries, and take any card "
        "whose id ends in those bits for them; import them as the 10 digits printed on the card"
    ]
