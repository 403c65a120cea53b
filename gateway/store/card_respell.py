"""Wiegand numbers an older version stored as typed (54:15694), stored since schema migration 51 as
the reader spells them (054:15694: gateway/core/credentials.py canonical, card_forms.spelled).

The access log is append-only and keeps the old spelling of the passages made before the upgrade,
so the queries that find a card's entry by its registered value (the exit door letting out a
resident struck off, the car a card let in, retention keeping the entry of someone inside) also
ask for the spelling it had: `cards_respelled` keeps it, one row a card respelled.
"""

from __future__ import annotations


def spelled_sql(column: str) -> str:
    """SQL: `column`'s Wiegand number as the reader spells it (FFF:CCCCC for Wiegand 26, a facility
    of up to 3 digits under 256; FFFFF:CCCCC for 34), or NULL where it is no Wiegand number (the
    card part over 16 bits, letters, a line reader's own number)."""
    facility = f"substr({column}, 1, instr({column}, ':') - 1)"
    card = f"substr({column}, instr({column}, ':') + 1)"
    return f"""(CASE WHEN {column} GLOB '[0-9]*:[0-9]*'
        AND length({facility}) <= 5 AND length({card}) BETWEEN 1 AND 5
        AND {facility} NOT GLOB '*[^0-9]*' AND {card} NOT GLOB '*[^0-9]*'
        AND CAST({facility} AS INTEGER) <= 65535 AND CAST({card} AS INTEGER) <= 65535
    THEN CASE WHEN length({facility}) <= 3 AND CAST({facility} AS INTEGER) <= 255
        THEN printf('%03d:%05d', CAST({facility} AS INTEGER), CAST({card} AS INTEGER))
        ELSE printf('%05d:%05d', CAST({facility} AS INTEGER), CAST({card} AS INTEGER)) END
    END)"""


def old_spelling(value: str) -> str:
    """SQL: the spelling the card registered as `value` had before migration 51 respelled it, or
    NULL (as in `a.value IN (:card, {old_spelling(':card')})`)."""
    return f"(SELECT r.was FROM cards_respelled r WHERE r.spelled = {value})"
