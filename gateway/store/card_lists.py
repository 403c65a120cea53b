"""What `gateway import` and the API say of 10-digit card numbers the site's readers will take for
other cards than meant (docs/hardware.md, *Card numbers: one card, every reader*).

Ten digits only are a hex id and a printed number alike; the register reads them one way for the
whole site (card_forms.register_ten_digits). Taken, never refused: a hex id can be all digits (about
one card in a hundred), and a printed number is all digits. Said, so that the installer fixes the
readers' setting or the list before the residents stand at the door (Review 66 I1, I3):

- at a site whose EM4100 readers all give hex (em4100_number = "hex", the default), the printed
  numbers of a card list are read as hex ids, and every reader refuses the cards (a list with a
  number with A-F is of hex ids, all of it: not said);
- at a site that reads 10 digits as printed numbers, a list of hex ids (some with A-F) has its
  all-digit ids read as printed numbers: their holders are refused, and a card whose printed
  number spells one is let in as its holder;
- cards the register holds that no reader of the site gives (taken while a line reader was a card
  reader here, or before the rule of Review 66 I2): said at every start and after an import.
"""

from __future__ import annotations

import sqlite3

from gateway.config.devices import SerialReaderDevice
from gateway.config.models import SiteConfig
from gateway.core.card_forms import TEN_DIGITS, card_id, never_read
from gateway.privacy import mask_card
from gateway.store.card_forms import register_ten_digits
from gateway.store.csv_rows import card_digits

# The rows of a card list named in a warning, then a count.
NAMED_AT_MOST = 5
_AT_HEX_SITE = (
    'every EM4100 reader of this site gives hex (em4100_number = "hex", the default) and reads 10 '
    "digits as a card's hex id, never as the number printed on a card (the card printed 0372653390 "
    "is the id 0016363D4E)"
)
_SET_DECIMAL = (
    'set em4100_number = "decimal" on every EM4100 reader and restart; if it is the 10 hex digits '
    "a reader showed, nothing to do"
)


def card_given_warning(cfg: SiteConfig, card: str) -> str | None:
    """What the API says of a card it registered (`POST /api/cards`): a number of 10 digits only at
    a site of hex readers, which no reader finds if it is the printed one. None otherwise."""
    if register_ten_digits(cfg) != "hex" or not _digits_only(card):
        return None
    return (
        f"card {mask_card(card)} is read as a hex id: {_AT_HEX_SITE}; if it is the number printed on "
        f"the card, every reader refuses that card: {_SET_DECIMAL}"
    )


def card_list_warnings(cfg: SiteConfig, cards: list[tuple[str, str]]) -> list[str]:
    """What `gateway import` says of a card list's 10-digit numbers, each given with where it is
    (file:line): its all-digit numbers at a site of hex readers where none has A-F (a list with
    one is a hex list, its all-digit numbers hex ids: told to set "decimal", an installer broke
    them, Review 66 R4), or, where the site reads 10 digits as printed numbers, its all-digit
    numbers beside hex ids (numbers with A-F: a hex list)."""
    if not _card_form_readers(cfg):
        return []
    digits = [(card, where) for card, where in cards if _digits_only(card)]
    if not digits:
        return []
    hex_ids = [card for card, _ in cards if _hex_letters(card)]
    if register_ten_digits(cfg) == "hex":
        if hex_ids:  # a hex list, its all-digit numbers hex ids too: "set decimal" would break them
            return []
        return [
            f"{len(digits)} card(s) of 10 digits only ({_named(digits)}): {_AT_HEX_SITE}; if they "
            "are the numbers printed on the cards, every reader refuses those cards: "
            + _SET_DECIMAL.replace("if it is", "if they are")
        ]
    if not hex_ids:
        return []
    return [
        f"the card list holds hex ids ({len(hex_ids)} numbers with A-F, e.g. {mask_card(hex_ids[0])}, "
        "as an EM4100 reader set to hex gives them) where this site reads 10 digits as the number "
        "printed on a card (not every EM4100 reader of it gives hex): its numbers of digits only, "
        f"{len(digits)} ({_named(digits)}), are read so, as other cards than the hex ids they may "
        "be: their residents are refused, and a card whose printed number is those digits is let in "
        "as theirs; if they are hex ids, delete them on the residents' pages and import each as the "
        "number printed on the card (the id's low 32 bits in decimal: 0016363D4E is 0372653390)"
    ]


def stored_never_read(conn: sqlite3.Connection, cfg: SiteConfig) -> str | None:
    """What a start (and `gateway check-config`, and `gateway import`) says of the cards the register
    holds that no card reader of the site gives, where every card reader gives card forms only
    (csv_rows.card_digits): their holders are refused at every reader. A number of no form is
    refused when given now; one held from before is kept (a line reader took it, or the site's
    readers changed since) and taken again from the central server (docs/mqtt.md), so this says it.
    None where there is none."""
    if card_digits(cfg) is None:
        return None
    held = [value for (value,) in conn.execute(_CARDS) if never_read(value) is not None]
    if not held:
        return None
    return (
        f"{len(held)} stored card(s) are numbers no card reader of this site gives (EM4100 readers, "
        f"Wiegand converters: 10 digits, or facility:card): {_masked(held)}; their holders are "
        "refused at every reader (a line reader took them, or the numbers came before the readers "
        "changed); give each holder the 10 digits printed on the card (or its facility:card "
        "number) on the resident's page, by `gateway import` or from the central server, and "
        "delete the old number"
    )


_CARDS = "SELECT value FROM credentials WHERE kind = 'card' ORDER BY value"


def _masked(cards: list[str]) -> str:
    named = ", ".join(mask_card(card) for card in cards[:NAMED_AT_MOST])
    return named + (f" and {len(cards) - NAMED_AT_MOST} more" if len(cards) > NAMED_AT_MOST else "")


def _card_form_readers(cfg: SiteConfig) -> bool:
    """Whether an EM4100 or Wiegand reader opens a lane here: a line reader finds a card as read."""
    return any(
        isinstance(d, SerialReaderDevice) and d.format in ("em4100", "wiegand") and d.role == "access"
        for d in cfg.devices
    )


def _digits_only(card: str) -> bool:
    return len(card) == TEN_DIGITS and card.isdigit()


def _hex_letters(card: str) -> bool:
    return len(card) == TEN_DIGITS and not card.isdigit() and card_id(card) is not None


def _named(rows: list[tuple[str, str]]) -> str:
    named = [f"{where} {mask_card(card)}" for card, where in rows[:NAMED_AT_MOST]]
    return ", ".join(named) + (f" and {len(rows) - NAMED_AT_MOST} more" if len(rows) > NAMED_AT_MOST else "")
