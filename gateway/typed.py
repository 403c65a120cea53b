"""Text a guard or an admin typed or pasted, as the gateway compares and stores it.

A Chinese input method in 全角 (full-width) mode types digits, letters and punctuation as their
full-width forms (１３８, Ｘ, ：, －), and text pasted from WeChat or QQ carries invisible format
characters (the zero-width space U+200B). The field shows what the guard meant, so the gateway
reads it so too: plates (plates/grammar.normalize) and units (store/units.py) always did; phone, ID
and card numbers, names and hours go through here.
"""

from __future__ import annotations

import unicodedata


def typed(text: str) -> str:
    """`text` with full-width letters, digits and punctuation as their ASCII selves (NFKC: １３８ is
    138, ： is :, the ideographic space a space), format characters (Unicode category Cf: U+200B,
    U+FEFF, the joiners, the soft hyphen) dropped, and spaces round it stripped. Chinese characters
    are left as they are."""
    text = unicodedata.normalize("NFKC", text)
    # After NFKC, which keeps them; a regex's \s and str.strip() do not see them either.
    return "".join(c for c in text if unicodedata.category(c) != "Cf").strip()
