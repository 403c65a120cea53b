"""docs/hardware.md's worked example of `em4100_number`, read by the real reader parser.

The page tells the installer which number the gateway stores for a card, so that the card list is
imported in that form: `"hex"` the 10 hex digits, `"decimal"` the low 32 bits as 10 decimal digits.
The numbers are read from the page, so the test checks whatever example it gives.
"""

from __future__ import annotations

import re
from pathlib import Path

from drivers.readers.frames import em4100_frame, scan_em4100

DOC = Path(__file__).resolve().parents[2] / "docs" / "hardware.md"


def test_the_documented_decimal_card_number_is_what_the_reader_stores() -> None:
    text = DOC.read_text(encoding="utf-8")
    found = re.search(
        r'`em4100_number = "hex"` stores the 10 hex digits \(`([0-9A-F]{10})`\); `"decimal"` stores\s+'
        r"the low 32 bits as 10 decimal digits \(`(\d{10})`\)",
        text,
    )
    assert found, "the example moved; update the test"
    hex_digits, documented_decimal = found.groups()
    frame = em4100_frame(hex_digits)  # what an RDM6300 sends for that card
    assert scan_em4100(frame, "hex").values == (hex_digits,)
    stored = scan_em4100(frame, "decimal").values
    assert stored == (documented_decimal,), (
        f"docs/hardware.md says card {hex_digits} is stored as {documented_decimal} with "
        f'em4100_number = "decimal"; the reader stores {stored[0]}'
    )
