"""Matching a reading to the registered plates: exactly, or by one confusable character.

Admitting an unregistered car is the failure that matters, so the fuzzy match is opt-in per
lane, only swaps characters that look alike on a plate, and only answers when exactly one
registered plate is that close.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from plates.grammar import normalize

# Characters a camera confuses on plates; any two in one group are one confusable substitution.
CONFUSABLE_GROUPS: tuple[str, ...] = (
    "0DQ",
    "8B",
    "2Z",
    "5S",
    "1T",
    "津沪渝湘浙",  # the water radical 氵 and a dense right side blur alike at low resolution
    "贵青",
)
_GROUP_OF: dict[str, int] = {ch: i for i, g in enumerate(CONFUSABLE_GROUPS) for ch in g}


def confusable_group(ch: str) -> str:
    """The characters a camera confuses with `ch` on a plate, `ch` among them ("" when none)."""
    g = _GROUP_OF.get(ch)
    return "" if g is None else CONFUSABLE_GROUPS[g]


def lookalikes(text: str) -> list[str]:
    """Every text one confusable substitution from `text`: each of its characters in a group
    swapped for each other character of that group."""
    return [
        f"{text[:i]}{other}{text[i + 1 :]}"
        for i, ch in enumerate(text)
        for other in confusable_group(ch)
        if other != ch
    ]


class Policy(StrEnum):
    EXACT = "exact"  # the lane default
    CONFUSABLE = "confusable"  # also one confusable character, when unambiguous


@dataclass(frozen=True, slots=True)
class Match:
    reading: str
    registered: str | None  # the registered plate matched, None when none
    how: str  # "exact", "confusable", "ambiguous" (several equally close) or "none"

    @property
    def admitted(self) -> bool:
        return self.registered is not None


def _keys(text: str) -> Iterable[tuple[int, str]]:
    """(position, text with that position replaced by its group marker) for each confusable char."""
    for i, ch in enumerate(text):
        g = _GROUP_OF.get(ch)
        if g is not None:
            yield i, f"{text[:i]}\x00{g}\x00{text[i + 1:]}"


class PlateMatcher:
    """Built once from the registered plates (10,000+), then O(plate length) per reading."""

    def __init__(self, registered: Iterable[str]) -> None:
        self._plates: set[str] = set()
        self._index: dict[str, set[str]] = {}
        for plate in registered:
            self.add(plate)

    def add(self, plate: str) -> None:
        plate = normalize(plate)
        self._plates.add(plate)
        for _, key in _keys(plate):
            self._index.setdefault(key, set()).add(plate)

    def __len__(self) -> int:
        return len(self._plates)

    def __contains__(self, plate: object) -> bool:
        return isinstance(plate, str) and normalize(plate) in self._plates

    def near(self, text: str) -> set[str]:
        """Registered plates exactly one confusable substitution away from text."""
        text = normalize(text)
        out: set[str] = set()
        for _, key in _keys(text):
            out |= self._index.get(key, set())
        out.discard(text)
        return out

    def match(self, text: str, policy: Policy | str = Policy.EXACT) -> Match:
        text = normalize(text)
        if text in self._plates:
            return Match(text, text, "exact")
        if Policy(policy) is not Policy.CONFUSABLE:
            return Match(text, None, "none")
        close = self.near(text)
        if len(close) == 1:
            return Match(text, next(iter(close)), "confusable")
        return Match(text, None, "ambiguous" if close else "none")
