"""The pass a guard looks for on the visitors' or the contractors' list (访客登记, 施工人员).

On a big estate those lists hold hundreds (Review 65H: 500 visiting at once, and a week of those
never seen leaving), and the pages show the first 100: the guard finds the one he wants by what he
knows of her, any of a piece of the name (a crew's company too), the host's building and unit as
guards type them (5栋, 5栋2单元, 五栋二单元, 5-2: read as units.host_readings reads a pass's host), a
piece of the plate as 按车牌查找 on the occupancy page takes it (its pieces given), or the phone's
last four digits, which the mask keeps (a whole number typed is compared by its mask).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gateway.privacy import mask_phone, normalize_phone
from gateway.store.registry import PHONE_AS_WRITTEN
from gateway.store.units import host_readings
from gateway.typed import typed

PHONE_TAIL = 4  # the digits a phone's mask keeps at its end (138****5678, ****4321)
PHONE_WHOLE = 7  # digits enough for a whole number (as a lookup reads one): compared by its mask


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a guard typed, read each way a pass may hold it; called on a pass's row (as
    store/passes.py reads it), whether it is one he looks for."""

    text: str  # a piece of the name, company or host as typed (a room: 2单元1201), case folded
    units: frozenset[tuple[str, str]]  # (building, unit) as units.loose_key gives them; unit "" for any
    plates: tuple[str, ...]  # pieces of a plate
    phone_tail: str  # the last digits of the phone, or ""
    phone_mask: str  # a whole number's mask, or ""

    def __call__(self, row: dict[str, Any]) -> bool:
        host = f"{row['host_building'] or ''}{row['host_unit'] or ''}"
        written = "\n".join((row["name"], row["company"] or "", host))
        return (
            self.text in typed(written).casefold()
            or self._host(row)
            or any(piece in (row["plate"] or "") for piece in self.plates)
            or bool(self.phone_tail and (row["phone_masked"] or "").endswith(self.phone_tail))
            or bool(self.phone_mask and row["phone_masked"] == self.phone_mask)
        )

    def _host(self, row: dict[str, Any]) -> bool:
        host = host_readings(row["host_building"] or "", row["host_unit"] or "")
        return any(b == building and unit in ("", u) for building, unit in self.units for b, u in host)


def wanted(q: str, plate_pieces: Sequence[str]) -> Wanted | None:
    """What a guard typed into the list's 查找 (None for nothing typed); `plate_pieces` as the
    occupancy page reads the same text (pages.py _car_searched)."""
    text = typed(q)
    if not text:
        return None
    digits = normalize_phone(text) if PHONE_AS_WRITTEN.fullmatch(text) else ""
    return Wanted(
        text=text.casefold(),
        units=frozenset(host_readings(text, "")),
        plates=tuple(plate_pieces),
        phone_tail=digits if len(digits) == PHONE_TAIL else "",
        phone_mask=mask_phone(digits) if len(digits) >= PHONE_WHOLE else "",
    )
