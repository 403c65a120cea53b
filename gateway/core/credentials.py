"""Credential values as the store keeps them: one canonical form per kind, checked at the edge."""

from __future__ import annotations

import re

from gateway.core.card_forms import card_id, spelled
from gateway.core.model import BUTTON
from gateway.typed import typed
from plates.grammar import is_plate
from plates.grammar import normalize as normalize_plate

KINDS = ("card", "plate", "qr")
_CARD = re.compile(r"^[0-9A-Z:\-]{3,40}$")
# A Wiegand number as EM cards print it, facility,card (054,15694; ， typed is a ','), the whole
# of what was typed: the card part as printed, 5 digits. Not two cards in one cell (0372653390,
# 0372653391) nor Excel's thousands (12,345): those stay refused.
_PRINTED_FACILITY_CARD = re.compile(r"([0-9]{1,5}),([0-9]{5})")
_QR = re.compile(r"^[0-9A-Za-z_\-]{8,64}$")


class BadCredential(ValueError):
    """A presented value no credential of its kind can have; it is counted, never decided."""


def canonical(kind: str, value: str) -> str:
    """The stored form of a presented value, or BadCredential saying what is wrong with it."""
    if kind == "card":
        # A number typed full-width (０Ａ１Ｂ, a Chinese keyboard's 全角) is its ASCII self, and a
        # Wiegand card's ： (Chinese punctuation) its ':' (typed). The ':' and '-' stay: a Wiegand
        # card is stored as facility:card (docs/hardware.md), so they are part of the number.
        card = re.sub(r"\s", "", typed(value)).upper()
        if (printed := _PRINTED_FACILITY_CARD.fullmatch(card)) is not None:
            card = f"{printed[1]}:{printed[2]}"
        if not _CARD.match(card):
            raise BadCredential(
                f"card {value!r} is not 3-40 of 0-9, A-Z, ':' and '-': type the 10 digits printed on "
                "the card or facility:card (054:15694)"
            )
        return _as_read(card)
    if kind == "plate":
        plate = normalize_plate(value)
        if not is_plate(plate):
            raise BadCredential(f"{value!r} is not a Chinese licence plate")
        return plate
    if kind == "qr":
        # Typed at the booth with the tablet in 全角 mode (or keyed in by a scanner acting as a
        # keyboard there), a token's letters, digits, ＿ and － are its own: NFKC keeps their case.
        token = typed(value)
        if not _QR.match(token):
            raise BadCredential(f"QR value {value[:20]!r} is not a pass token of this gateway")
        return token
    if kind == BUTTON:  # a door's exit button: the id of the device that wires it, as configured
        return value
    raise BadCredential(f"unknown credential kind {kind!r} (known: {', '.join(KINDS)})")


def _as_read(card: str) -> str:
    """A Wiegand number as its reader gives it, zeros first (card_forms.spelled): 54:15694 is
    054:15694, one card, so that a card list or an admin writing it without its zeros names the
    row a reader's number does (a duplicate is one). Any other number as it is."""
    if ":" not in card:
        return card
    wiegand = card_id(card)
    return card if wiegand is None else spelled(wiegand)
