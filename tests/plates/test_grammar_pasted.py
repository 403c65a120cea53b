"""normalize() on plates pasted from chat messages and typed with other input methods' dots."""

from __future__ import annotations

import pytest

from plates.grammar import is_plate, normalize


@pytest.mark.parametrize(
    "raw",
    [
        # Format characters (Unicode Cf) show nothing, so the field looks right: WeChat and QQ
        # messages carry a zero-width space, a file saved by Notepad a BOM, emoji text the joiners.
        "苏E5B123\u200b",
        "\ufeff苏E5B123",
        "苏E\u200c5B1\u200d23",
        "苏E5\u2060B123",
        "苏E5B\u00ad123",  # the soft hyphen, invisible unless a line breaks there
        # The middle dot and the look-alikes other input methods offer in its place.
        "苏E·5B123",
        "苏E・5B123",  # U+30FB katakana middle dot (a Japanese IME; NFKC's own for ･ U+FF65)
        "苏E･5B123",
        "苏E‧5B123",  # U+2027 hyphenation point
        "苏E∙5B123",  # U+2219 bullet operator
        "苏Ｅ・５Ｂ１２３\u200b",  # full-width, a look-alike dot and a zero-width space at once
    ],
)
def test_invisible_characters_and_middle_dot_look_alikes_count_as_nothing(raw: str) -> None:
    assert normalize(raw) == "苏E5B123"
    assert is_plate(normalize(raw))


def test_a_visible_character_that_is_not_a_plate_character_is_still_refused() -> None:
    # Only what cannot be seen, or what is a separator, is dropped: a stray visible character
    # (a comma typed for a dot) still makes the text no plate, so the guard is told.
    assert not is_plate(normalize("苏E,5B123"))
    assert not is_plate(normalize("苏E5B123，"))  # (。 is the '.' key's dot in Chinese punctuation mode)
