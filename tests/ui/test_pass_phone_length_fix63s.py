"""The visitor pages let a guard type as long a phone as the API takes (PHONE_TYPED, 40: a landline
with its extension, `0571-8765 4321 转 8001`, answered with what to type): the inputs' maxlength
of 20 cut it short as it was typed, and the guard saw a wrong number, not the answer (review 63s)."""

from __future__ import annotations

import re

from gateway.api.passes import PHONE_TYPED
from tests.ui.test_guard_words import TEMPLATES


def test_every_visitor_phone_input_takes_what_the_api_takes() -> None:
    inputs = []
    for name in ("_pass_fields.html", "visitors.html"):
        text = (TEMPLATES / name).read_text(encoding="utf-8")
        inputs += re.findall(r'<input[^>]*(?:name|data-field)="phone"[^>]*>', text)
    assert len(inputs) == 2, inputs
    for tag in inputs:
        assert f'maxlength="{PHONE_TYPED}"' in tag, tag
