"""Every word a page asks for exists in both languages."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

from gateway.alarm_texts import MESSAGES
from gateway.core.model import NO_ENTRY_RECORD, REPEATS
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
    """As the lane display words them, unless the pages give the guard words of his own (a full
    disk: the display asks the driver to call the guard, who is told what to do)."""
    assert "why.storage_failed" in TEXTS
    for reason, (zh, en) in REASONS.items():
        zh, en = TEXTS.get(f"why.{reason}", (zh, en))
        assert translator("zh")(f"why.{reason}") == zh
        assert translator("en")(f"why.{reason}") == en


def test_every_flag_a_decision_can_carry_has_words_on_the_pages() -> None:
    gateway = TEMPLATES.parents[1]
    core = (gateway / "core" / "decide.py").read_text(encoding="utf-8")
    runtime = "".join(p.read_text(encoding="utf-8") for p in (gateway / "runtime").glob("gateway*.py"))
    flags = set(re.findall(r'\("([a-z_]+)",\)', core))  # flags + ("shared_slot",) and the like
    flags |= set(re.findall(r'flags=\(\*decision\.flags, "([a-z_]+)"', runtime))  # "lookalike"
    flags.update((*REPEATS, NO_ENTRY_RECORD))  # flags named in the model: a car decided again, no entry
    assert {"no_entry_record", "already_inside", "shared_slot", "lookalike"} <= flags
    assert {f for f in flags if f"flag.{f}" not in TEXTS or f"flag.{f}" not in JS_KEYS} == set()


ALARM_CALLS = ("raise_alarm", "write_alarm", "clear_alarm")


def _name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _alarm_kinds_and_texts() -> tuple[set[str], set[str], list[str]]:
    """Every alarm kind the gateway raises or clears, every AlarmText key it writes, and the calls
    whose kind or key is not written out (which this test cannot check)."""
    kinds: set[str] = set()
    keys: set[str] = set()
    unreadable: list[str] = []
    gateway = TEMPLATES.parents[1]
    defined_in = {gateway / "alarm_texts.py", gateway / "store" / "alarms.py"}  # they pass kinds through
    for path in sorted(set(gateway.rglob("*.py")) - defined_in):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name, args = _name(node.func), list(node.args)
            if name == "partial" and args and _name(args[0]) in ALARM_CALLS:
                name, args = _name(args[0]), args[1:]  # partial(raise_alarm, kind=...) and the like
            where = f"{path.name}:{node.lineno}"
            if name in ALARM_CALLS:
                given = [k.value for k in node.keywords if k.arg == "kind"] + args[1:2]
                kind = given[0] if given else None
                if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    kinds.add(kind.value)
                else:
                    unreadable.append(where)
            elif name == "AlarmText":
                key = args[0] if args else None
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    keys.add(key.value)
                elif not isinstance(key, ast.Name):  # a variable chosen among literals, e.g. key = ...
                    unreadable.append(where)
    return kinds, keys, unreadable


def test_every_alarm_the_gateway_raises_is_named_and_worded_in_both_languages() -> None:
    kinds, keys, unreadable = _alarm_kinds_and_texts()
    assert unreadable == [], "write the alarm kind as a literal string so its words can be checked"
    assert {"device_offline", "patrol_missed", "retention_short", "repair_overdue", "outbox_quota"} <= kinds
    unnamed = sorted(k for k in kinds if f"alarm.{k}" not in TEXTS)
    assert unnamed == [], f"add alarm.<kind> to TEXTS in gateway/web/i18n.py for: {unnamed}"
    assert {k for k in MESSAGES if "." not in k} == kinds, "a message for every kind, and no stale one"
    assert keys <= set(MESSAGES)
    for key, (zh, en) in MESSAGES.items():
        fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (zh, en)]
        assert fields[0] == fields[1], f"{key}: the Chinese and English messages take other parameters"
        assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en), key
