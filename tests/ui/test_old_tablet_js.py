"""The guard pages' scripts on the JavaScript engines of the booth tablets estates really have.

Estates reuse cheap tablets for years: Android 7-10 with a System WebView that is never updated
(Chrome 61-79), Huawei/Honor browsers on old Chromium, iPads on iOS 15. The pages need Chrome/WebView
61 or Safari 15.4 (docs/guard-app.md). A script such an engine cannot parse does not run at all:
nothing in it is defined, every button it wires does nothing; base.html then says the browser is
too old, but the pages are meant to work there.

The check parses each shipped script with acorn (bundled inside node, or Debian's node-acorn that
Debian's nodejs depends on; scripts/system-deps installs nodejs), restricted to ES2018: object
spread, the newest syntax the scripts use, is ES2018 (Chrome 60, Safari 11.1). Safari before 16.4
also rejects a regular expression with a lookbehind, which ES2018 allows: checked apart.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.api.pages import STATIC_DIR, WEB_DIR

NODE = shutil.which("node")
SCRIPTS = sorted(STATIC_DIR.glob("*.js"))

# Prints, as JSON, the first syntax error of the file at that ECMAScript version (null if none) and
# the regular expression literals in it.
PARSE = """
let acorn = null;
for (const name of ['acorn', 'internal/deps/acorn/acorn/dist/acorn']) {
  try { acorn = require(name); break; } catch (e) { /* the next place */ }
}
if (!acorn) { console.log(JSON.stringify({missing: true})); process.exit(0); }
const fs = require('fs');
const [file, version] = process.argv.slice(1);
const src = fs.readFileSync(file, 'utf8');
const options = {ecmaVersion: Number(version), sourceType: 'script'};
let error = null;
const regexps = [];
try {
  acorn.parse(src, options);
  for (const token of acorn.tokenizer(src, options)) {
    if (token.type.label === 'regexp') regexps.push(token.value.pattern);
  }
} catch (e) { error = e.message; }
console.log(JSON.stringify({error, regexps}));
"""


def parsed(file: Path, ecma: int) -> dict[str, object]:
    if NODE is None:
        pytest.skip(
            "node is not installed, so the guard pages' scripts were NOT checked for the old "
            "tablets' engines: install nodejs (scripts/system-deps does)"
        )
    out = subprocess.run(
        [NODE, "--expose-internals", "-e", PARSE, str(file), str(ecma)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    result: dict[str, object] = json.loads(out)
    assert not result.get("missing"), f"{NODE} has no acorn (bundled, or Debian's node-acorn)"
    return result


def test_the_shipped_scripts_are_found() -> None:
    assert {p.name for p in SCRIPTS} >= {"app.js", "live.js", "plates.js"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_each_script_parses_on_a_chrome_61_or_safari_15_4_tablet(script: Path) -> None:
    """What the guard sees on a booth tablet with Chrome/WebView 61-79 when app.js had `?.` in it
    (ES2020): the live page's lanes 等待车辆或刷卡... for ever with a blank status, and 开闸,
    收费放行, 纠正车牌, the visitor form's 登记 doing nothing (the file rejected whole at its first
    `?.`, so `boot`, `api`, `askText` never exist and live.js dies on `boot`). What he should see:
    the pages working."""
    result = parsed(script, 2018)
    error = result["error"]
    line = None
    if isinstance(error, str) and "(" in error:
        n = int(error.rsplit("(", 1)[1].split(":")[0])
        line = script.read_text(encoding="utf-8").splitlines()[n - 1].strip()
    assert error is None, f"{script.name} is not ES2018: {error}: {line}"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_no_regular_expression_looks_behind(script: Path) -> None:
    """Safari before 16.4 (an iPad on iOS 15) rejects the whole file at a lookbehind `(?<=`, `(?<!`."""
    regexps = parsed(script, 2018)["regexps"]
    assert isinstance(regexps, list)
    behind = [r for r in regexps if re.search(r"\(\?<[=!]", r)]
    assert behind == [], f"{script.name}: lookbehind in {behind}"


def test_every_script_driven_form_posts_to_the_old_browser_answer() -> None:
    """A form the page's script sends (data-api) is sent by the browser itself when the script
    cannot run: with no method and action, as a GET to the page's own address, the visitor's ID
    and phone numbers in the address bar and the shared tablet's history. Each posts to
    /old-browser instead, which says the browser is too old and keeps nothing."""
    forms = [
        (template.name, tag)
        for template in sorted((WEB_DIR / "templates").glob("*.html"))
        for tag in re.findall(r"<form\b[^>]*>", template.read_text(encoding="utf-8"))
        if "data-api=" in tag
    ]
    assert len(forms) >= 10, forms
    wrong = [f for f in forms if 'method="post"' not in f[1] or 'action="/old-browser"' not in f[1]]
    assert wrong == []
