"""One card given in two forms: a card list (a CSV import, the central server's snapshot or delta)
naming a card the register holds in another form, or naming it twice in two forms.

The register keeps each card in one form, and a reader's read in another form is the registered
card it agrees with (card_forms.py). A card stored twice, `0372653390` for one resident and
`054:15694` (its Wiegand 26 number) for another, opens for the first at an EM4100 reader and for
the second at a Wiegand one, and blocking one number leaves the other opening. `POST /api/cards`
refuses such a card (registry.add_card); a card list is refused it the same way where the two
numbers are two residents' (same_card_problem), and told of it where they are one resident's
(the office moving its list from Wiegand numbers to the printed digits: same_card_warning).
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.core.card_forms import WIEGAND_26_BITS, CardId, TenDigits, agreed_bits, card_id

_HOLDERS = """SELECT c.value, r.ref FROM credentials c JOIN residents r ON r.id = c.resident_id
              WHERE c.kind = 'card'"""


@dataclass(frozen=True, slots=True)
class SameCard:
    """`card` (a list's) is the card `other` read another way; `stored`: `other` is the store's."""

    card: str
    holder: str  # the resident ref the list gives `card` to
    other: str
    other_holder: str
    stored: bool
    bits: int  # the bits of the id both numbers carry, on which they agree

    def told(self) -> str:
        """`card` and `other` as one card: the same card, where both carry 32 bits of its id or
        more; with a Wiegand 26 number (24 bits), that card or one a Wiegand 26 reader cannot tell
        from it (a collision: to the reader and the register alike, one card)."""
        if self.bits > WIEGAND_26_BITS:
            return f"card {self.card} of {self.holder} is card {self.other} read another way"
        return (
            f"card {self.card} of {self.holder} is card {self.other} to a Wiegand 26 reader (the 24 "
            "bits of the id it reads are the same: the card read another way, or one it cannot tell "
            "from it)"
        )


def stored_card_holders(conn: sqlite3.Connection) -> dict[str, str]:
    """card number -> its resident's ref, for the residents' cards in the store."""
    return dict(conn.execute(_HOLDERS))


def cards_in_two_forms(
    listed: dict[str, str], stored: dict[str, str], ten_digits: TenDigits
) -> list[SameCard]:
    """Each card of `listed` (number -> resident ref) that is a card of `stored` (the store's cards
    the list leaves in place) or an earlier card of `listed` in another form. Two forms of one card
    agree on the low 24 bits of its id at least, so only numbers ending in the same 24 bits are
    compared: a list of the whole register is checked in one pass."""
    by_low: dict[int, list[tuple[str, CardId, str, bool]]] = defaultdict(list)
    for value, holder, is_stored in _entries(listed, stored):
        card = card_id(value, ten_digits)
        if card is not None:
            by_low[card.low & ((1 << WIEGAND_26_BITS) - 1)].append((value, card, holder, is_stored))
    found = []
    for group in by_low.values():
        for i, (value, card, holder, is_stored) in enumerate(group):
            if is_stored:
                continue
            for other, other_card, other_holder, other_stored in group[:i]:
                if bits := agreed_bits(card, other_card):
                    found.append(SameCard(value, holder, other, other_holder, other_stored, bits))
    return found


def _entries(listed: dict[str, str], stored: dict[str, str]) -> Iterable[tuple[str, str, bool]]:
    """The stored cards first (a list's card is compared with those before it), then the list's."""
    yield from ((value, holder, True) for value, holder in stored.items() if value not in listed)
    yield from ((value, holder, False) for value, holder in listed.items())


def same_card_problem(same: SameCard, delete: str) -> str:
    """Why a list may not give `same.card` to another resident than `same.other`'s; `delete`: how
    the list's sender deletes a stored card ("in the same change", "on the resident's page first")."""
    told = same.told()
    if not same.stored:
        return (
            f"{told}, given in this list to {same.other_holder}: one card opens for one resident; "
            "keep one of the two"
        )
    return (
        f"{told}, registered to {same.other_holder}: one card opens for one resident; if the card "
        f"moves to {same.holder}, delete {same.other} {delete}, else give {same.holder} another card"
    )


def same_card_warning(same: SameCard) -> str:
    """What to do of one resident's card given in two forms (both kept, both open)."""
    return (
        f"{same.told()}, also theirs: both numbers stay and open, and blocking one leaves the other opening; "
        f"delete {same.other} on the resident's page if {same.card} replaces it"
    )
