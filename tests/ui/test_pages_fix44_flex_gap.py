"""Chrome/WebView 61-83 (the booth tablets docs/guard-app.md promises) has no `gap` between flex items:
what a flex box parts with `gap` runs together there (the lane's name against its status, a list
row's time against its plate, the top bar's user name against 中文/English and 退出). app.css gives
such engines margins instead, under its feature query; every flex box with a gap needs them.

Read from app.css itself, so that a flex box added later with a gap and no margins fails here.
"""

from __future__ import annotations

import re

from gateway.api.pages import STATIC_DIR

APP_CSS = STATIC_DIR / "app.css"
# The engines without a flex gap: padding-inline came with it (app.css says why this query).
FALLBACK_QUERY = "@supports not (padding-inline: 0)"
FLEX = re.compile(r"(^|;)\s*display\s*:\s*(inline-)?flex\s*(;|$)")
GAP = re.compile(r"(^|;)\s*((row|column)-)?gap\s*:")


def rules(css: str) -> list[tuple[str, str, str]]:
    """(at-rule it is inside or "", selector, declarations) of each style rule, comments dropped."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found: list[tuple[str, str, str]] = []
    outer: list[str] = []  # the at-rules the parser is inside
    head = ""
    for piece in re.split(r"([{}])", css):
        if piece == "{":
            outer.append(head.strip())
            head = ""
        elif piece == "}":
            block = outer.pop() if outer else ""
            if head.strip() or not block.startswith("@"):
                found.append((outer[-1] if outer else "", " ".join(block.split()), head.strip()))
            head = ""
        else:
            head += piece
    return [(at, sel, body) for at, sel, body in found if not sel.startswith("@")]


def selectors(selector_list: str) -> list[str]:
    return [" ".join(s.split()) for s in selector_list.split(",")]


def flex_boxes_with_a_gap(css: str) -> set[str]:
    """The selectors whose own rules (outside any feature query) make a flex box and set its gap."""
    flex: set[str] = set()
    gap: set[str] = set()
    for at, sel, body in rules(css):
        if at.startswith("@supports"):
            continue
        for one in selectors(sel):
            if FLEX.search(body):
                flex.add(one)
            if GAP.search(body):
                gap.add(one)
    return flex & gap


def parted_by_margins(css: str) -> set[str]:
    """The boxes whose children the fallback parts with margins: `BOX > ...` rules under the query."""
    boxes: set[str] = set()
    for at, sel, body in rules(css):
        if at == FALLBACK_QUERY and "margin" in body:
            boxes |= {one.rsplit(" > ", 1)[0] for one in selectors(sel) if " > " in one}
    return boxes


def test_the_parser_finds_the_flex_boxes_it_should() -> None:
    css = APP_CSS.read_text(encoding="utf-8")
    boxes = flex_boxes_with_a_gap(css)
    assert {".lane", ".actions", ".buttons", ".row"} <= boxes, boxes
    assert ".lanes" not in boxes  # a grid: grid-gap, Chrome 57
    assert parted_by_margins(css), f"no margins under {FALLBACK_QUERY} in app.css"


def test_every_flex_box_with_a_gap_has_margins_on_an_engine_without_flex_gap() -> None:
    css = APP_CSS.read_text(encoding="utf-8")
    missing = sorted(flex_boxes_with_a_gap(css) - parted_by_margins(css))
    assert missing == [], (
        f"flex boxes with a gap and no margins under {FALLBACK_QUERY} in app.css: {missing}; on "
        "Chrome 61-83 what they hold runs together. Add a `BOX > * + *` (or `BOX > *`) rule there."
    )
