"""The forms one EM4100 card is read in, and which of them are the same card: pure conversions.

An EM4100 card carries a 40-bit id; each kind of reader reports part of it in its own form
(drivers/readers/frames.py; docs/hardware.md, *Card numbers: one card, every reader*):

- EM4100, em4100_number = "hex": all 40 bits as 10 hex digits (`0016363D4E`);
- EM4100, em4100_number = "decimal": the low 32 bits as 10 decimal digits, the number printed on
  most cards (`0372653390`);
- Wiegand 34: the low 32 bits as facility (16 bits) and card (16 bits) in decimal (`05686:15694`);
- Wiegand 26: the low 24 bits as facility (8 bits) and card (16 bits) in decimal (`054:15694`).

Two numbers are one card when they agree on every bit both carry. A Wiegand 26 number carries 24:
cards that differ only above them are one card to a Wiegand 26 reader (a collision).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

TenDigits = Literal["hex", "decimal"]
Form = Literal["EM4100 hex", "EM4100 decimal", "Wiegand 34", "Wiegand 26"]

FORM_BITS: dict[Form, int] = {"EM4100 hex": 40, "EM4100 decimal": 32, "Wiegand 34": 32, "Wiegand 26": 24}
WIEGAND_26_BITS = 24
_FACILITY_CARD = re.compile(r"([0-9]{1,5}):([0-9]{1,5})")
_TEN_HEX = re.compile(r"[0-9A-F]{10}")
_HEX_DIGITS = frozenset("0123456789ABCDEF")
TEN_DIGITS = 10  # an EM4100 reader's number, hex or decimal, leading zeros kept
# A form carrying this many bits more than a read: the numbers it leaves open are listed (256).
_LISTED_AT_MOST_BITS_MORE = 8


@dataclass(frozen=True, slots=True)
class CardId:
    """What a card number says of the card: its form and the low bits of the id it carries."""

    form: Form
    low: int  # the id's low FORM_BITS[form] bits

    @property
    def bits(self) -> int:
        return FORM_BITS[self.form]


def card_id(value: str, ten_digits: TenDigits = "decimal") -> CardId | None:
    """What a card number (as the store keeps it: upper case, no spaces) says of the card, or None
    for a number of no EM4100 or Wiegand form (a line reader's own). Ten decimal digits are a hex
    number too: `ten_digits` says which the reader (or the register) means; a number over 32 bits
    can only be hex."""
    facility_card = _FACILITY_CARD.fullmatch(value)
    if facility_card is not None:
        return _wiegand(facility_card[1], int(facility_card[2]))
    if _TEN_HEX.fullmatch(value) is None:
        return None
    if value.isdigit() and ten_digits == "decimal" and int(value) <= 0xFFFFFFFF:
        return CardId("EM4100 decimal", int(value))
    return CardId("EM4100 hex", int(value, 16))


def never_read(card: str, reader: str = "reader") -> tuple[str, str] | None:
    """(what is wrong, fix) of a card number no EM4100 or Wiegand `reader` ever gives, or None for
    one of a card form: 10 hex digits or facility:card. A shorter number of hex digits lost its
    leading zeros (Excel keeps 0372653390 as 372653390, 0016363D4E as 16363D4E); anything else is
    of no card form at all ("G0001"). The words `[patrol] guard_cards`, `gateway import`, the API
    and the central server's entries share (gateway/config/parking.py, store/csv_rows.py)."""
    if card_id(card) is not None:
        return None
    if len(card) < TEN_DIGITS and all(c in _HEX_DIGITS for c in card):
        what = "digits" if card.isdigit() else "hex digits"
        return (
            f"has {len(card)} {what} where an EM4100 {reader} gives {TEN_DIGITS}, leading zeros kept "
            "(Excel drops them from a column of numbers)",
            "give the number as printed on the card, or pad it with zeros to "
            f"{TEN_DIGITS} digits ({card.zfill(TEN_DIGITS)})",
        )
    return (
        f"is no number an EM4100 or Wiegand {reader} gives ({TEN_DIGITS} digits, or facility:card)",
        "give the 10 digits printed on the card (e.g. 0372653390), or its facility:card number (054:15694)",
    )


def _wiegand(facility_text: str, card: int) -> CardId | None:
    """W26 is FFF:CCCCC (an 8-bit facility), W34 FFFFF:CCCCC (16 bits): a facility written with up
    to 3 digits and under 256 is W26's."""
    facility = int(facility_text)
    if card > 0xFFFF or facility > 0xFFFF:
        return None
    form: Form = "Wiegand 26" if len(facility_text) <= 3 and facility <= 0xFF else "Wiegand 34"
    return CardId(form, facility << 16 | card)


def spelled(card: CardId) -> str:
    """The number as a reader of its form reports it, zeros first (drivers/readers/frames.py)."""
    if card.form == "EM4100 hex":
        return f"{card.low:010X}"
    if card.form == "EM4100 decimal":
        return f"{card.low:010d}"
    facility, number = card.low >> 16, card.low & 0xFFFF
    return f"{facility:03d}:{number:05d}" if card.form == "Wiegand 26" else f"{facility:05d}:{number:05d}"


def spellings(card: CardId) -> tuple[str, ...]:
    """Every way of writing the card's number in its form that card_id reads back as it: a
    reader's, zeros first (spelled), then a card list's with fewer leading zeros (54:15694, as a
    supplier's sheet or Excel has 054:15694). A 10-digit number is written one way."""
    if card.form in ("EM4100 hex", "EM4100 decimal"):
        return (spelled(card),)
    facility, number = card.low >> 16, card.low & 0xFFFF
    if card.form == "Wiegand 26":
        facility_widths = _widths(facility, 3)
    else:  # 3 digits or fewer of a facility under 256 are Wiegand 26's (_wiegand)
        facility_widths = _widths(facility, 5, fewest=1 if facility > 0xFF else 4)
    return tuple(f"{facility:0{f}d}:{number:0{n}d}" for f in facility_widths for n in _widths(number, 5))


def _widths(number: int, most: int, fewest: int = 1) -> range:
    """The numbers of digits `number` may be written in, zeros first: most first."""
    return range(most, max(len(str(number)), fewest) - 1, -1)


def numbers_agreeing(read: CardId, held: Iterable[Form]) -> list[str] | None:
    """Every number of the forms a register holds that agrees with a read on every bit both carry,
    however written (spellings), for the register to be asked for them by value: of a form
    carrying no more bits than the read, its own; of one carrying 8 more, the 256 the read leaves
    open (a Wiegand 26 read: 256 printed numbers). None where too many to list: a Wiegand 26 read
    of a register holding hex numbers (65,536 each) or Wiegand 34 ones (256, each written with or
    without zeros); those cards are read one by one."""
    numbers: list[str] = []
    for form in held:
        more_bits = FORM_BITS[form] - read.bits
        if more_bits <= 0:
            numbers += spellings(CardId(form, _low(read.low, FORM_BITS[form])))
        elif more_bits <= _LISTED_AT_MOST_BITS_MORE and form in ("EM4100 hex", "EM4100 decimal"):
            numbers += (spelled(CardId(form, high << read.bits | read.low)) for high in range(1 << more_bits))
        else:
            return None
    return list(dict.fromkeys(numbers))


def derived_forms(read: CardId) -> tuple[CardId, ...]:
    """The other forms a read gives the card in: those carrying no more bits than it (a hex read:
    the printed decimal, W34 and W26; a decimal or W34 read: each other and W26; W26: none)."""
    return tuple(
        CardId(form, _low(read.low, bits))
        for form, bits in FORM_BITS.items()
        if form != read.form and bits <= read.bits
    )


def agreed_bits(read: CardId, registered: CardId) -> int:
    """How many bits of the card's id the two numbers both carry, where they agree on all of
    them (they may be one card); 0 where they differ (another card)."""
    bits = min(read.bits, registered.bits)
    return bits if _low(read.low ^ registered.low, bits) == 0 else 0


def closest(read: CardId, registered: dict[str, CardId]) -> list[str]:
    """The registered numbers that agree with a read on the most bits, of those that agree at all:
    one is the card; two or more are cards the read cannot tell apart (a Wiegand 26 collision)."""
    agreed = {value: agreed_bits(read, card) for value, card in registered.items()}
    most = max(agreed.values(), default=0)
    return sorted(value for value, bits in agreed.items() if most and bits == most)


def _low(number: int, bits: int) -> int:
    return number & ((1 << bits) - 1)
