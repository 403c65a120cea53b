"""Text a guard or an admin typed or pasted, as the gateway compares and stores it.

A Chinese input method in 全角 (full-width) mode types digits, letters and punctuation as their
full-width forms (１３８, Ｘ, ：, －), and text pasted from WeChat or QQ carries invisible format
characters (the zero-width space U+200B). The field shows what the guard meant, so the gateway
reads it so too. Two readings, by what the field holds:

- typed(): a number, code or query (phone, ID, card, QR, hours, a lookup), compared with what the
  gateway holds: full-width as ASCII, so １３８ is 138. Plates (plates/grammar.normalize) and units
  (store/units.py) always were read so.
- typed_text(): free text a person reads (a name, a company, a display name), stored as written:
  only the invisible characters go. 王芳（租户） keeps its Chinese brackets, as an import and the
  central server keep them (NFKC would make them ASCII, and the same person two spellings).
"""

from __future__ import annotations

import unicodedata

# The dashes a Chinese keyboard gives for the hyphen (in Chinese punctuation mode the key gives — or
# ——, as the input method has it; a phone's keyboard or a paste from WeChat gives –): read as '-'
# where a hyphen is meant, in hours (core/windows.py), in a ticket (core/tickets.py) and between a
# phone's or ID number's groups in free text (privacy.mask_numbers_in). NFKC leaves them as they are.
DASHES = "‐‑‒–—―"
AS_HYPHEN = str.maketrans(dict.fromkeys(DASHES, "-"))


def typed(text: str) -> str:
    """A number, code or query as typed: full-width letters, digits and punctuation as their ASCII
    selves (NFKC: １３８ is 138, ： is :, the ideographic space a space; case is kept, ＿ and －
    are _ and -), format characters dropped and spaces round it stripped (typed_text). Chinese
    characters are left as they are."""
    if text.isascii():  # NFKC leaves ASCII as it is, and it holds no format character
        return text.strip()
    return typed_text(unicodedata.normalize("NFKC", text))


def typed_text(text: str) -> str:
    """Free text (a name) as typed, as it is stored: format characters (Unicode category Cf: U+200B,
    U+FEFF, the joiners, the soft hyphen) dropped and spaces round it stripped; nothing else
    changed, so what the admin typed is what the register, the export and the centre hold."""
    if text.isascii():  # no format character is ASCII (an import reads hundreds of thousands)
        return text.strip()
    # A regex's \s and str.strip() do not see format characters: they would stay, invisible.
    return "".join(c for c in text if unicodedata.category(c) != "Cf").strip()
