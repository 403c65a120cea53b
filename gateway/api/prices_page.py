"""The public price table page (明码标价) at /prices, in the site's language or the one asked."""

from __future__ import annotations

import html
from typing import Any

from gateway.api.pages import STATIC_VERSION
from gateway.parking.tariffs import CLASS_NAMES

WORDS: dict[str, tuple[str, str]] = {
    "title": ("{site} 停车收费标准", "{site} parking prices"),
    "heading": ("{site} 停车收费标准（明码标价）", "{site} parking prices (published tariff)"),
    "free": ("本小区停车免费。", "Parking on this estate is free."),
    "current": ("现行标准", "Current prices"),
    "coming": ("即将执行", "Coming into force"),
    "from": ("{state}：{day} 起执行（版本 {version}）", "{state}: from {day} (version {version})"),
    "grace": (
        "缴费后请在 {minutes} 分钟内离场，超时按标准补缴。",
        "After paying, leave within {minutes} minutes; a longer stay pays the difference.",
    ),
}


def page_language(asked: str | None, site_language: str) -> str:
    """?lang=zh or ?lang=en when given (a sign's QR code may link either), else the site's."""
    return asked if asked in ("zh", "en") else site_language


def prices_html(prices: dict[str, Any], site: str, language: str) -> str:
    """`prices` as gateway/api/parking.py _prices builds it, its lines already in `language`."""
    i = 0 if language == "zh" else 1
    e = html.escape

    def w(key: str, **values: object) -> str:
        return e(WORDS[key][i].format(**values))

    parts = [
        f"<!doctype html><html lang='{'zh-CN' if i == 0 else 'en'}'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{w('title', site=site)}</title>",
        # A stylesheet of the gateway's own: the page's policy (style-src 'self') refuses a <style>.
        f"<link rel='stylesheet' href='/static/prices.css?v={STATIC_VERSION}'></head><body>",
        f"<h1>{w('heading', site=site)}</h1>",
    ]
    if not prices["tariffs"]:
        parts.append(f"<p>{w('free')}</p>")
    for t in prices["tariffs"]:
        state = WORDS["current" if t["current"] else "coming"][i]
        parts.append(f"<h2>{w('from', state=state, day=t['effective_from'], version=t['version'])}</h2>")
        for c, lines in t["classes"].items():
            parts.append(f"<h3>{e(CLASS_NAMES[c][i])}</h3><ul>")
            parts += [f"<li>{e(line)}</li>" for line in lines]
            parts.append("</ul>")
    parts.append(f"<p>{w('grace', minutes=prices['grace_minutes'])}</p></body></html>")
    return "".join(parts)
