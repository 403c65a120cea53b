"""One card, every reader: a card read in another form than the register holds it is found.

A site may mix reader models: EM4100 readers giving the printed decimal number or all 10 hex digits,
Wiegand 26 and 34 converters giving facility:card (gateway/core/card_forms.py). The register keeps
each card in one form. A read the register does not hold as read, of a card form, is the
registered card it agrees with on the most bits, when that is one card; before the decision, so
that the decision, every later lookup, the access record and the centre see the registered number
(docs/hardware.md, *Card numbers: one card, every reader*).
"""

from __future__ import annotations

import logging
import sqlite3
from collections import defaultdict
from dataclasses import replace

from gateway.config.devices import SerialReaderDevice
from gateway.config.models import SiteConfig
from gateway.core import Presented
from gateway.core.card_forms import (
    WIEGAND_26_BITS,
    CardId,
    TenDigits,
    card_id,
    closest,
    derived_forms,
    spelled,
)
from gateway.privacy import mask_card

log = logging.getLogger(__name__)

_REGISTERED = "SELECT 1 FROM credentials WHERE kind = 'card' AND value = ?"
_ANY_OF = "SELECT value FROM credentials WHERE kind = 'card' AND value IN ({})"
# The register's cards whose id may end in a read's low 24 bits (card_forms.agreed_bits then checks
# each in full): facility:card numbers by their card part (the low 16 bits), 10-digit ones as
# decimal or as hex. No index holds these: every card is read, only for a read no card matches.
_LOW_24_BITS_MAY_BE = """
SELECT value FROM credentials WHERE kind = 'card' AND (
    (instr(value, ':') > 1 AND CAST(substr(value, instr(value, ':') + 1) AS INTEGER) = :card_part)
    OR (length(value) = 10 AND (CAST(value AS INTEGER) & 16777215 = :low24 OR substr(value, 5) = :hex24))
)
"""
_ALL_CARDS = "SELECT value FROM credentials WHERE kind = 'card' ORDER BY value"
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
        self._warned: set[str] = set()

    def as_registered(self, conn: sqlite3.Connection, p: Presented) -> Presented:
        """`p` with the registered number of its card, if the register holds it in another form and
        no other card as closely; `p` itself for a card registered as read (the fast path), a
        plate or a pass, and a card the register does not hold (refused `unknown`)."""
        if p.kind != "card" or conn.execute(_REGISTERED, (p.value,)).fetchone() is not None:
            return p
        read = card_id(p.value, self._reads.get(p.device, self._register))
        if read is None:
            return p
        found = closest(read, self._candidates(conn, read))
        if len(found) == 1:
            log.debug(
                "card %s read as %s at %s is registered as %s",
                mask_card(p.value),
                read.form,
                p.device or p.lane,
                mask_card(found[0]),
            )
            return replace(p, value=found[0])
        if found:
            self._collision(p, read, found)
        return p

    def _candidates(self, conn: sqlite3.Connection, read: CardId) -> dict[str, CardId]:
        """The registered cards that may be the read's, each as the register means it."""
        if read.bits == 40:  # every other form derives from all 40 bits
            forms = [spelled(card) for card in derived_forms(read)]
            rows = conn.execute(_ANY_OF.format(",".join("?" * len(forms))), forms)
        else:
            low24 = read.low & 0xFFFFFF
            rows = conn.execute(
                _LOW_24_BITS_MAY_BE, {"card_part": low24 & 0xFFFF, "low24": low24, "hex24": f"{low24:06X}"}
            )
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
