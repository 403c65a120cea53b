"""Every word a page asks for exists in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from gateway.runtime.texts import REASONS
from gateway.web.i18n import JS_KEYS, TEXTS, translator

TEMPLATES = Path(__file__).resolve().parents[2] / "gateway" / "web" / "templates"
STATIC = TEMPLATES.parent / "static"


def test_every_key_in_the_templates_and_scripts_is_translated() -> None:
    used = set()
    for path in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"t\('([a-z_]+\.[a-z_0-9]+)'\)", path.read_text(encoding="utf-8")))
    for path in STATIC.glob("*.js"):
        used |= set(re.findall(r'T\("([a-z_]+\.[a-z_0-9]+)"\)', path.read_text(encoding="utf-8")))
    used |= set(JS_KEYS)
    missing = {k for k in used if k not in TEXTS and not k.startswith("why.")}
    assert not missing
    for key in TEXTS:
        zh, en = TEXTS[key]
        assert zh and en, key


def test_reasons_read_in_both_languages() -> None:
    for reason, (zh, en) in REASONS.items():
        assert translator("zh")(f"why.{reason}") == zh
        assert translator("en")(f"why.{reason}") == en


def test_every_flag_a_decision_can_carry_has_words_on_the_pages() -> None:
    gateway = TEMPLATES.parents[1]
    core = (gateway / "core" / "decide.py").read_text(encoding="utf-8")
    runtime = (gateway / "runtime" / "gateway.py").read_text(encoding="utf-8")
    flags = set(re.findall(r'\("([a-z_]+)",\)', core))  # flags + ("shared_slot",) and the like
    flags |= set(re.findall(r'flags=\(\*decision\.flags, "([a-z_]+)"', runtime))  # "lookalike"
    assert {"no_entry_record", "already_inside", "shared_slot", "lookalike"} <= flags
    assert {f for f in flags if f"flag.{f}" not in TEXTS or f"flag.{f}" not in JS_KEYS} == set()
