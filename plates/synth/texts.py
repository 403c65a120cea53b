"""Random plate texts that fit the grammar, with the colour and row layout each can carry."""

from __future__ import annotations

import random
from dataclasses import dataclass

from plates.grammar import ALNUM, DIGITS, LETTERS, PROVINCES, slot_variants

# Real plates mostly come from the few provinces the cameras see; the rest still need to be read.
_COMMON = "皖浙沪京苏粤鲁豫川湘冀"


@dataclass(frozen=True, slots=True)
class PlateSpec:
    text: str
    colour: str  # blue, yellow, green, white, black
    rows: int  # 1 or 2
    fmt: str


# (format, colour, rows, weight): the mix the generator draws from. Each colour is one the
# format's plates have (grammar.FORMATS), so that what `plates synth` labels is what
# colour.classify can answer (tests/plates/test_plates_cli_fix46.py).
_MIX: tuple[tuple[str, str, int, float], ...] = (
    ("standard", "blue", 1, 0.30),
    ("standard", "yellow", 1, 0.10),
    ("standard", "yellow", 2, 0.10),
    ("new_energy_small", "green", 1, 0.18),
    ("new_energy_large", "green", 1, 0.05),
    ("coach", "yellow", 1, 0.04),
    ("trailer", "yellow", 2, 0.03),
    ("trailer", "yellow", 1, 0.02),
    ("police", "white", 1, 0.06),
    # This and the last row drew standard plates white and black until 2026-11-23, which the
    # reader calls blue: white plates (police, army) have their own formats, and black ones
    # are 港/澳 plates or rare older plates of foreign-related vehicles, so the grammar keeps a
    # standard plate blue or yellow (a dark blue plate is never called black). The rows keep
    # their places, so that a seed draws the texts it drew before (admissions, seed 99's sets).
    ("standard", "blue", 1, 0.02),
    ("hong_kong", "black", 1, 0.03),
    ("macau", "black", 1, 0.02),
    ("consulate", "black", 1, 0.02),
    ("embassy", "black", 1, 0.01),
    ("standard", "blue", 1, 0.02),
)


def _slot_char(rng: random.Random, allowed: str, index: int) -> str:
    if allowed == PROVINCES and rng.random() < 0.5:
        return rng.choice(_COMMON)
    if allowed == ALNUM and index >= 2:
        # At most two serial positions may hold a letter (grammar.MAX_SERIAL_LETTERS); real
        # serials have 1.5 letters on average, and letters need plenty of examples.
        return rng.choice(DIGITS) if rng.random() < 0.3 else rng.choice(LETTERS)
    return rng.choice(allowed)


def text_for(fmt: str, rng: random.Random) -> str:
    slots = rng.choice(slot_variants(fmt))
    return "".join(_slot_char(rng, allowed, i) for i, allowed in enumerate(slots))


def random_spec(rng: random.Random) -> PlateSpec:
    fmt, colour, rows, _ = rng.choices(_MIX, weights=[m[3] for m in _MIX])[0]
    return PlateSpec(text_for(fmt, rng), colour, rows, fmt)
